"""Hook specifications owned by uqa-align. Importing this never imports torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from uqa_data.registry import ComponentSpec

hookspec = pluggy.HookspecMarker("uqa")


@hookspec
def uqa_register_adapters() -> list[ComponentSpec]:
    """Register adapters that turn user embeddings into LLM soft tokens (``--adapter``).

    Called when the adapter table is first needed. Return
    :class:`~uqa_data.registry.ComponentSpec` rows with ``kind="adapter"``:
    ``target`` names an ``nn.Module`` class called as
    ``cls(in_dim=D, hidden_size=H, config=cfg)`` whose ``forward(emb [B, T, D],
    mask [B, T] bool)`` returns ``[B, num_tokens, H]`` (finite even when a row's
    mask is all False) and which has ``num_tokens`` and ``in_dim`` attributes;
    ``config`` names its options dataclass (``--num-tokens`` and friends fill it).
    Subclassing :class:`uqa_align.adapters.Adapter` gives input standardisation.

    Example::

        @hookimpl
        def uqa_register_adapters():
            return [ComponentSpec(kind="adapter", name="last_linear",
                                  target="my_pkg.adapters:LastLinear",
                                  config="my_pkg.adapters:LastLinearConfig")]

    :returns: a list of adapter specs (may be empty).
    """


@hookspec
def uqa_register_llms() -> list[ComponentSpec]:
    """Register named LLM sources (``--llm NAME``).

    Return :class:`~uqa_data.registry.ComponentSpec` rows with ``kind="llm"``
    whose ``target`` is a callable taking no arguments and returning a local
    Hugging Face model directory (``config.json``, weights, tokenizer with a
    chat template), preparing it on first use if needed (the built-in
    ``smollm2`` converts its GGUF file once into a safetensors cache). It must
    never access the network.

    :returns: a list of LLM source specs (may be empty).
    """
