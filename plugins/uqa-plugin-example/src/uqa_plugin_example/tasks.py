"""``nc`` (never clicked): which category/brand/shop is absent from the user's history.

The three distractors are values the user clicked among their most recent
distinct ones; the answer is a value of similar popularity that never appears
in the history, so guessing by popularity alone does not help. Only the
:class:`~uqa_data.questions.base.QuestionContext` API is used.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from uqa_data.questions.base import Draft, QuestionContext, QuestionTask

RECENT_DISTINCT = 6
"""Distractors come from the user's this-many most recent distinct values."""


class NeverClicked(QuestionTask):
    """nc: the option the user has never clicked (interest perception, by exclusion)."""

    name = "nc"
    dimension = "interest_perception"
    description = "never clicked: the category/brand/shop absent from the history"

    def drafts(
        self, ctx: QuestionContext, users: np.ndarray, rng: np.random.Generator
    ) -> Iterator[Draft]:
        seqs = ctx.sequences
        attr = rng.integers(0, len(self.attributes), size=len(users))
        for i, u in enumerate(users):
            n = ctx.length(int(u))
            if n < ctx.config.min_history:
                continue
            attribute = self.attributes[attr[i]]
            start = seqs.offsets[u]
            values = seqs.attr_values(ctx.catalog, attribute)[start : start + n]
            clicked = list(dict.fromkeys(int(v) for v in values[::-1]))  # most recent first
            if len(clicked) < 3:
                continue
            recent = clicked[:RECENT_DISTINCT]
            shown = [recent[j] for j in rng.permutation(len(recent))[:3]]
            seen = {ctx.name(attribute, v) for v in clicked}
            # similar popularity first; else a wider draw, which must hold an unclicked name
            near = [ctx.name(attribute, v) for v in ctx.neighbours(attribute, shown[0], rng, 8)]
            answer = next((x for x in near if x and x not in seen), None)
            if answer is None:
                wider = ctx.distractors(attribute, shown[0], rng, n=len(clicked) + 1)
                answer = next((x for x in wider if x and x not in seen), None)
            if answer is None:
                continue
            yield Draft(
                user=int(u),
                variant="attr",
                attribute=attribute,
                answer=answer,
                distractors=[ctx.name(attribute, v) for v in shown],
                history_len=n,
                params={"clicked": shown},
            )
