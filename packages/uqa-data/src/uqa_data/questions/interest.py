"""Interest perception: li (long-term top 3), si (recent favourite), it (trajectory).

Interest in a value = how many clicks in a window have it; ties go to the value
clicked more recently (see :func:`uqa_data.questions.kernels.window_top`).

- li: top 3 over the whole history, ordered; asked only when the 3rd value has
  strictly more clicks than the 4th (the set is unambiguous). Distractors:
  three orderings of the same values that contradict the counts.
- si: the most clicked value among the last ``W = min(recent_window, n)``
  clicks, asked only when it strictly dominates the runner-up.
- it: the dominant value of the ``W`` clicks before the last ``W`` (``W =
  min(recent_window, n // 2)``) and of the last ``W``, each strictly dominant;
  the answer is "A, then B" or "A, then A" (zh: the official 从A转向B / 一直是A).
  Own-history options share the answer's form: "Z, then Z" for other values Z
  (the runner-ups of the two windows first), or "B, then A", "A, then Z",
  "Z, then A".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import numpy as np

from uqa_data.questions.base import Draft, QuestionContext, QuestionTask
from uqa_data.questions.kernels import window_top
from uqa_data.questions.options import pick_distinct, wrong_orderings
from uqa_data.questions.templates import LIST_SEPARATORS, TRAJECTORY


def si_window(n_clicks: np.ndarray, recent_window: int) -> np.ndarray:
    return np.minimum(recent_window, n_clicks)


def it_window(n_clicks: np.ndarray, recent_window: int) -> np.ndarray:
    return np.minimum(recent_window, n_clicks // 2)


def _by_attribute(
    ctx: QuestionContext,
    attributes: tuple[str, ...],
    chosen: np.ndarray,
    users: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    k: int,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`window_top` per attribute, computed only for the users whose drawn
    attribute (``chosen[i]``, an index into ``attributes``) it is; other rows are 0."""
    seqs = ctx.sequences
    out = {}
    for j, a in enumerate(attributes):
        rows = np.flatnonzero(chosen == j)
        ids = np.zeros((len(users), k), dtype=np.int64)
        counts = np.zeros((len(users), k), dtype=np.int64)
        ids[rows], counts[rows] = window_top(
            seqs.offsets,
            seqs.items,
            ctx.catalog.lookup(a),
            users[rows],
            starts[rows],
            ends[rows],
            ctx.catalog.n_values(a),
            k,
        )
        out[a] = (ids, counts)
    return out


class LongTermInterest(QuestionTask):
    """li: the user's 3 favourite categories/brands/shops over the whole history, in order."""

    name = "li"
    population_distractors = True
    description = "long-term interest: top-3 categories/brands/shops, ordered"

    def drafts(
        self, ctx: QuestionContext, users: np.ndarray, rng: np.random.Generator
    ) -> Iterator[Draft]:
        attrs = self.active_attributes(ctx)
        lengths = ctx.sequences.lengths[users]
        attr = rng.integers(0, len(attrs), size=len(users))
        tops = _by_attribute(ctx, attrs, attr, users, np.zeros_like(lengths), lengths, 6)
        sep = LIST_SEPARATORS[ctx.lang]["names"]
        for i, u in enumerate(users):
            if lengths[i] < ctx.config.min_history:
                continue
            attribute = attrs[attr[i]]
            ids, counts = tops[attribute][0][i], tops[attribute][1][i]
            if ids[2] == 0 or counts[2] <= counts[3]:
                continue
            answer_ids = tuple(int(v) for v in ids[:3])

            names = ctx.catalog.name_list(attribute)

            def text(vals: tuple[int, ...], names: list[str] = names) -> str:
                return sep.join([names[v] for v in vals])

            if len({names[v] for v in answer_ids}) < 3:
                continue
            answer = text(answer_ids)
            yield Draft(
                user=int(u),
                variant="attr",
                attribute=attribute,
                answer=answer,
                distractors=partial(
                    self._distractors, ctx, attribute, answer_ids, ids, counts, answer, text, rng
                ),
                history_len=int(lengths[i]),
                params={"values": list(answer_ids)},
                also_right=partial(self._also_right, sep, names, answer_ids, counts),
            )

    @staticmethod
    def _also_right(sep: str, names: list[str], answer_ids: tuple[int, ...],
                    counts: np.ndarray, text: str) -> bool:
        """Whether ``text`` orders the answer's three names consistently with the counts
        (possible under ties): then it is right too."""
        by_name = {names[v]: int(c) for v, c in zip(answer_ids, counts[:3], strict=True)}
        parts = text.split(sep)
        if sorted(parts) != sorted(by_name):
            return False
        values = [by_name[p] for p in parts]
        return all(values[i] >= values[i + 1] for i in range(len(values) - 1))

    @staticmethod
    def _distractors(
        ctx: QuestionContext,
        attribute: str,
        answer_ids: tuple[int, ...],
        ids: np.ndarray,
        counts: np.ndarray,
        answer: str,
        text: Callable[[tuple[int, ...]], str],
        rng: np.random.Generator,
    ) -> list[str]:
        rnd = ctx.random(rng)
        # Only other orderings of the same three values, drawn uniformly: every option
        # then names the same values, so the option set cannot point at the answer.
        # (Near misses with a fourth value did: the answer was the option agreeing
        # most with the others, which a LoRA-tuned LLM picked 77% of the time with
        # another user's embedding.)
        orderings = wrong_orderings(answer_ids, [int(c) for c in counts[:3]])
        return pick_distinct([orderings], answer, rnd, n=5, render=text)


class ShortTermInterest(QuestionTask):
    """si: the dominant category/brand/shop among the user's recent clicks.

    Distractors prefer the user's long-term favourites that are not the recent
    one (the long- vs short-term confusion), then similar popularity.
    """

    name = "si"
    population_distractors = True
    description = "short-term interest: dominant category/brand/shop of recent clicks"

    def drafts(
        self, ctx: QuestionContext, users: np.ndarray, rng: np.random.Generator
    ) -> Iterator[Draft]:
        attrs = self.active_attributes(ctx)
        lengths = ctx.sequences.lengths[users]
        window = si_window(lengths, ctx.config.recent_window)
        attr = rng.integers(0, len(attrs), size=len(users))
        recent = _by_attribute(ctx, attrs, attr, users, lengths - window, lengths, 2)
        whole = _by_attribute(ctx, attrs, attr, users, np.zeros_like(lengths), lengths, 4)
        for i, u in enumerate(users):
            if lengths[i] < ctx.config.min_history:
                continue
            attribute = attrs[attr[i]]
            ids, counts = recent[attribute][0][i], recent[attribute][1][i]
            if counts[0] < 2 or counts[0] <= counts[1]:
                continue
            value = int(ids[0])
            prefer = [int(v) for v in whole[attribute][0][i] if v not in (0, value)][:2]
            yield Draft(
                user=int(u),
                variant="attr",
                attribute=attribute,
                answer=ctx.name(attribute, value),
                distractors=ctx.distractors(attribute, value, rng, prefer=prefer),
                history_len=int(lengths[i]),
                params={"value": value, "window": int(window[i])},
            )


class InterestTrajectory(QuestionTask):
    """it: whether the dominant category/brand/shop changed between two recent windows, and how."""

    name = "it"
    population_distractors = True
    description = "interest trajectory: dominant interest before vs. now"

    def drafts(
        self, ctx: QuestionContext, users: np.ndarray, rng: np.random.Generator
    ) -> Iterator[Draft]:
        attrs = self.active_attributes(ctx)
        lengths = ctx.sequences.lengths[users]
        window = it_window(lengths, ctx.config.recent_window)
        attr = rng.integers(0, len(attrs), size=len(users))
        early = _by_attribute(ctx, attrs, attr, users, lengths - 2 * window, lengths - window, 2)
        late = _by_attribute(ctx, attrs, attr, users, lengths - window, lengths, 2)
        phrases = TRAJECTORY[ctx.lang]
        for i, u in enumerate(users):
            if lengths[i] < ctx.config.min_history or window[i] < 2:
                continue
            attribute = attrs[attr[i]]
            (e_ids, e_counts), (l_ids, l_counts) = (
                (early[attribute][0][i], early[attribute][1][i]),
                (late[attribute][0][i], late[attribute][1][i]),
            )
            if e_counts[0] <= e_counts[1] or l_counts[0] <= l_counts[1]:
                continue
            a, b = int(e_ids[0]), int(l_ids[0])
            name_a, name_b = ctx.name(attribute, a), ctx.name(attribute, b)
            if a != b and name_a == name_b:
                continue

            def changed(x: str, y: str) -> str:
                return phrases["changed"].format(a=x, b=y)

            def stayed(x: str) -> str:
                return phrases["stayed"].format(a=x)

            # Own-history options share the answer's form, so the form never points
            # at the answer (most answers are "stayed": a rule picking one of two
            # stayed options among four found 38-49% of them): stayed -> four
            # "X, then X"; changed -> the paths over {A, B} and one more name Z
            # ("B, then A", "A, then Z", "Z, then A"), where no option agrees with
            # the others more than the rest do.
            near = [
                name
                for name in (
                    ctx.name(attribute, int(v)) for v in ctx.neighbours(attribute, b, rng, 8)
                )
                if name not in (name_a, name_b)
            ]
            if a == b:
                answer = stayed(name_a)
                second = [ctx.name(attribute, int(v)) for v in (e_ids[1], l_ids[1]) if v]
                candidates = [stayed(z) for z in dict.fromkeys([*second, *near])
                              if z != name_a]
            else:
                if not near:
                    continue
                answer = changed(name_a, name_b)
                z = near[0]
                candidates = [changed(name_b, name_a), changed(name_a, z), changed(z, name_a)]
            yield Draft(
                user=int(u),
                variant="attr",
                attribute=attribute,
                answer=answer,
                distractors=candidates,
                history_len=int(lengths[i]),
                params={"from": a, "to": b, "window": int(window[i])},
            )
