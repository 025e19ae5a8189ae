"""Action prediction: ip (next item) and ap (an attribute of the next item).

The question sees the history up to a cut point (``history_len``) and the
answer is the click right after it, so the answer's click is never visible.
Evaluation questions cut before the last click; alignment questions cut before
one of the last ``align_cut_span`` clicks (more varied training targets).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from uqa_data.questions.base import Draft, QuestionContext, QuestionTask
from uqa_data.questions.kernels import values_at, window_top


def cut_points(ctx: QuestionContext, lengths: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per candidate, how many clicks the question sees (the answer is click number cut + 1)."""
    if ctx.sequences.split == "test":
        return lengths - 1
    span = ctx.config.align_cut_span
    back = rng.integers(1, span + 1, size=len(lengths))
    return lengths - np.minimum(back, np.maximum(lengths - 1, 1))


class ItemPrediction(QuestionTask):
    """ip: the title of the next clicked item; distractors are items of similar popularity."""

    name = "ip"
    population_distractors = True
    description = "item prediction: title of the next click"
    attributes = ("title",)

    def drafts(
        self, ctx: QuestionContext, users: np.ndarray, rng: np.random.Generator
    ) -> Iterator[Draft]:
        seqs, cfg = ctx.sequences, ctx.config
        lengths = seqs.lengths[users]
        cuts = cut_points(ctx, lengths, rng)
        safe_cuts = np.minimum(cuts, np.maximum(lengths - 1, 0))
        nxt = values_at(seqs.offsets, seqs.items, ctx.catalog.lookup("title"), users, safe_cuts)
        for i, u in enumerate(users):
            if lengths[i] < cfg.min_history or cuts[i] < cfg.min_history - 1:
                continue
            item = int(nxt[i])
            yield Draft(
                user=int(u),
                variant="title",
                attribute="title",
                answer=ctx.name("title", item),
                distractors=ctx.distractors("title", item, rng),
                history_len=int(cuts[i]),
                params={"value": item},
            )


class AttributePrediction(QuestionTask):
    """ap: the category/brand/shop of the next click.

    One distractor is, when possible, the user's most clicked value in the
    visible history other than the answer (the obvious but wrong guess); the
    rest have similar popularity.
    """

    name = "ap"
    population_distractors = True
    description = "attribute prediction: category/brand/shop of the next click"

    def drafts(
        self, ctx: QuestionContext, users: np.ndarray, rng: np.random.Generator
    ) -> Iterator[Draft]:
        attrs = self.active_attributes(ctx)
        seqs, cfg = ctx.sequences, ctx.config
        lengths = seqs.lengths[users]
        cuts = cut_points(ctx, lengths, rng)
        safe_cuts = np.minimum(cuts, np.maximum(lengths - 1, 0))
        attr = rng.integers(0, len(attrs), size=len(users))
        nxt, tops = {}, {}
        for j, a in enumerate(attrs):
            lookup = ctx.catalog.lookup(a)
            nxt[a] = values_at(seqs.offsets, seqs.items, lookup, users, safe_cuts)
            rows = np.flatnonzero(attr == j)  # only where this attribute was drawn
            tops[a] = np.zeros((len(users), 2), dtype=np.int64)
            tops[a][rows], _ = window_top(
                seqs.offsets,
                seqs.items,
                lookup,
                users[rows],
                np.zeros(len(rows), dtype=np.int64),
                safe_cuts[rows],
                ctx.catalog.n_values(a),
                2,
            )
        for i, u in enumerate(users):
            if lengths[i] < cfg.min_history or cuts[i] < cfg.min_history - 1:
                continue
            attribute = attrs[attr[i]]
            value = int(nxt[attribute][i])
            prefer = [int(v) for v in tops[attribute][i] if v != 0 and v != value][:1]
            yield Draft(
                user=int(u),
                variant="attr",
                attribute=attribute,
                answer=ctx.name(attribute, value),
                distractors=ctx.distractors(attribute, value, rng, prefer=prefer),
                history_len=int(cuts[i]),
                params={"value": value},
            )
