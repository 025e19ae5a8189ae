"""Hook specifications owned by uqa-eval. Importing this never imports torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from uqa_data.registry import ComponentSpec

hookspec = pluggy.HookspecMarker("uqa")


@hookspec
def uqa_register_baselines() -> list[ComponentSpec]:
    """Register baselines evaluated through the same answering path.

    Return :class:`~uqa_data.registry.ComponentSpec` rows with ``kind="baseline"``
    whose ``target`` names a :class:`uqa_eval.baselines.Baseline` instance: what
    the prompt carries (soft tokens, a text history, nothing), where the
    embeddings come from (the run's, an untrained encoder's, the planted truth),
    whether they are permuted across users, and the alignment it needs.

    :returns: a list of baseline specs (may be empty).
    """
