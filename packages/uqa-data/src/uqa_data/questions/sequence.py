"""Sequence understanding: df (direct feature) and mf (match feature)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import permutations
from typing import ClassVar

import numpy as np

from uqa_data.questions.base import Draft, QuestionContext, QuestionTask
from uqa_data.questions.kernels import count_matches, values_at
from uqa_data.questions.options import count_distractors, pick_distinct
from uqa_data.questions.templates import LIST_SEPARATORS, ordinal


def history_values(ctx: QuestionContext, attribute: str, u: int, start: int, end: int) -> list[int]:
    """Distinct ``attribute`` values of clicks ``start..end-1`` of user ``u``, most recent first."""
    seqs = ctx.sequences
    clicks = seqs.items[seqs.offsets[u] + max(start, 0) : seqs.offsets[u] + end]
    vals = ctx.catalog.lookup(attribute)[clicks]
    return list(dict.fromkeys(vals[::-1].tolist()))


LAST_K = 3
"""Clicks in a ``last_k`` question: with 3 there are 5 wrong orderings to draw from."""


class DirectFeature(QuestionTask):
    """df: a recorded feature of one of the last clicks, or the last 3 items in order.

    Variants: ``attr`` (category/brand/shop of the n-th most recent click),
    ``title`` (its title), ``last_k`` (titles of the last k = 3 clicks, oldest
    first). Distractors: the same feature of other recent clicks first (the
    natural confusion), then values of similar popularity; for ``last_k`` three
    other orderings of the same three titles, drawn uniformly, so the option set
    cannot point at the answer (shifted windows and near misses did: the answer
    was the option agreeing most with the others in 46-65% of questions).
    """

    name = "df"
    population_distractors = True
    description = "direct feature: category/brand/shop/title of a recent click, last k items"
    variant_weights: ClassVar[dict[str, float]] = {"attr": 0.6, "title": 0.2, "last_k": 0.2}

    def drafts(
        self, ctx: QuestionContext, users: np.ndarray, rng: np.random.Generator
    ) -> Iterator[Draft]:
        attrs = self.active_attributes(ctx)
        seqs, cfg = ctx.sequences, ctx.config
        lengths = seqs.lengths[users]
        m = len(users)
        variants = list(self.variant_weights)
        variant = rng.choice(len(variants), size=m, p=list(self.variant_weights.values()))
        attr = rng.integers(0, len(attrs), size=m)
        top = np.maximum(np.minimum(cfg.max_position, lengths), 1)
        back = 1 + (rng.random(m) * top).astype(np.int64)  # n-th most recent, 1..top
        k = np.full(m, LAST_K)
        positions = np.maximum(lengths - back, 0)
        at = {
            a: values_at(seqs.offsets, seqs.items, ctx.catalog.lookup(a), users, positions)
            for a in (*attrs, "title")
        }
        for i, u in enumerate(users):
            n_clicks = int(lengths[i])
            if n_clicks < cfg.min_history:
                continue
            kind = variants[variant[i]]
            if kind == "last_k":
                draft = self._last_k(ctx, int(u), n_clicks, int(k[i]), rng)
                if draft is not None:
                    yield draft
                continue
            attribute = "title" if kind == "title" else attrs[attr[i]]
            n = int(back[i])
            value = int(at[attribute][i])
            recent = history_values(
                ctx, attribute, int(u), n_clicks - cfg.max_position - 2, n_clicks
            )
            prefer = [v for v in recent if v != value][:2]
            yield Draft(
                user=int(u),
                variant=kind,
                attribute=attribute,
                answer=ctx.name(attribute, value),
                distractors=ctx.distractors(attribute, value, rng, prefer=prefer),
                history_len=n_clicks,
                fields={"n": n, "ordinal": ordinal(n, ctx.lang)},
                params={"back": n, "value": value},
            )

    def _last_k(
        self, ctx: QuestionContext, u: int, n_clicks: int, k: int, rng: np.random.Generator
    ) -> Draft | None:
        if n_clicks < k + 1:
            return None
        seq = ctx.sequences.sequence(u)
        answer_items = tuple(int(x) for x in seq[n_clicks - k : n_clicks])
        sep = LIST_SEPARATORS[ctx.lang]["titles"]

        def text(items: tuple[int, ...]) -> str:
            return sep.join(ctx.name("title", i) for i in items)

        answer = text(answer_items)
        titles = [ctx.name("title", i) for i in answer_items]
        if len(set(titles)) < k:
            return None  # repeated titles: orderings would be indistinguishable
        reordered = [tuple(p) for p in permutations(answer_items) if p != answer_items]
        distractors = pick_distinct([reordered], answer, ctx.random(rng), n=5, render=text)
        return Draft(
            user=u,
            variant="last_k",
            attribute="title",
            answer=answer,
            distractors=distractors,
            history_len=n_clicks,
            fields={"k": k},
            params={"k": k, "items": list(answer_items)},
        )


class MatchFeature(QuestionTask):
    """mf: how many history clicks match a target category/brand/shop, or the history length.

    The target is the value of a random past click, so the answer is never 0
    (the paper discards zero-answer questions). Distractors are nearby counts
    (0 allowed) with the answer's rank among the four options uniform: a draft
    whose drawn rank does not fit is dropped (see ``count_distractors``).
    """

    name = "mf"
    population_distractors = True
    description = "match feature: clicks matching a category/brand/shop, history length"
    variant_weights: ClassVar[dict[str, float]] = {"attr": 0.85, "length": 0.15}

    def drafts(
        self, ctx: QuestionContext, users: np.ndarray, rng: np.random.Generator
    ) -> Iterator[Draft]:
        attrs = self.active_attributes(ctx)
        seqs, cfg = ctx.sequences, ctx.config
        lengths = seqs.lengths[users]
        m = len(users)
        variants = list(self.variant_weights)
        variant = rng.choice(len(variants), size=m, p=list(self.variant_weights.values()))
        attr = rng.integers(0, len(attrs), size=m)
        positions = (rng.random(m) * np.maximum(lengths, 1)).astype(np.int64)
        targets: dict[str, np.ndarray] = {}
        counts: dict[str, np.ndarray] = {}
        for j, a in enumerate(attrs):
            lookup = ctx.catalog.lookup(a)
            targets[a] = values_at(seqs.offsets, seqs.items, lookup, users, positions)
            rows = np.flatnonzero(attr == j)  # count only where this attribute was drawn
            counts[a] = np.zeros(m, dtype=np.int64)
            counts[a][rows] = count_matches(
                seqs.offsets, seqs.items, lookup, users[rows], lengths[rows], targets[a][rows]
            )
        for i, u in enumerate(users):
            n_clicks = int(lengths[i])
            if n_clicks < cfg.min_history:
                continue
            if variants[variant[i]] == "length":
                yield Draft(
                    user=int(u),
                    variant="length",
                    attribute="length",
                    answer=str(n_clicks),
                    distractors=count_distractors(n_clicks, ctx.random(rng), low=1),
                    history_len=n_clicks,
                    params={},
                )
                continue
            attribute = attrs[attr[i]]
            target, count = int(targets[attribute][i]), int(counts[attribute][i])
            if count == 0:  # cannot happen with a target from the history; kept as the rule
                continue
            yield Draft(
                user=int(u),
                variant="attr",
                attribute=attribute,
                answer=str(count),
                distractors=count_distractors(count, ctx.random(rng)),
                history_len=n_clicks,
                fields={"value": ctx.name(attribute, target)},
                params={"target": target},
            )
