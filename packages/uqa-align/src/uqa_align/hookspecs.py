"""Hook specifications owned by uqa-align. Importing this never imports torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from uqa_data.registry import ComponentSpec

hookspec = pluggy.HookspecMarker("uqa")


@hookspec
def uqa_register_adapters() -> list[ComponentSpec]:
    """Register adapters that turn user embeddings into LLM soft tokens.

    Return :class:`~uqa_data.registry.ComponentSpec` rows with ``kind="adapter"``,
    ``target`` naming an ``nn.Module`` factory and ``config`` its config dataclass.

    :returns: a list of adapter specs (may be empty).
    """


@hookspec
def uqa_register_llms() -> list[ComponentSpec]:
    """Register named LLM sources (``--llm NAME``).

    Return :class:`~uqa_data.registry.ComponentSpec` rows with ``kind="llm"`` whose
    ``target`` is a callable returning a local Hugging Face model directory (or
    loading the model) without any network access.

    :returns: a list of LLM source specs (may be empty).
    """
