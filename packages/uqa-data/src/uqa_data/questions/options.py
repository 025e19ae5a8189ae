"""Distractor builders shared by the built-in tasks: counts, orderings, paths."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from itertools import permutations
from typing import TypeVar

T = TypeVar("T")


def count_distractors(answer: int, rnd: random.Random, *, low: int = 0) -> list[str]:
    """Other counts around ``answer`` (all >= ``low``), written as digits, best first.

    The first three and the answer are four counts a step apart with the
    answer's rank among them drawn uniformly; when that rank would need a count
    below ``low`` (small answers), no options are returned and the caller's
    draft is dropped. Otherwise small answers would mostly be the smallest
    option and "pick the smallest number" would beat chance. One more count at
    each end follows, as spare candidates for balancing popularity.
    """
    step = max(1, round(answer * 0.25))
    rank = int(rnd.random() * 4)
    if answer - rank * step < low:
        return []
    values = [answer + (i - rank) * step for i in range(4)]
    spare = [answer + (4 - rank) * step, answer - (rank + 1) * step]
    return [str(v) for v in values if v != answer] + [str(v) for v in spare if v >= low]


def wrong_orderings(answer: Sequence[int], counts: Sequence[int]) -> list[tuple[int, ...]]:
    """Permutations of ``answer`` that put a value before one with a strictly higher count.

    ``counts[i]`` is the count of ``answer[i]``; orderings consistent with the
    counts (possible under ties) are not wrong, so they are left out.
    """
    out = []
    for perm in permutations(range(len(answer))):
        c = [counts[i] for i in perm]
        if any(c[i] < c[j] for i in range(len(c)) for j in range(i + 1, len(c))):
            out.append(tuple(answer[i] for i in perm))
    return out


def pick_distinct(
    groups: Sequence[Sequence[T]],
    answer: str,
    rnd: random.Random,
    n: int = 3,
    render: Callable[[T], str] | None = None,
) -> list[str]:
    """Up to ``n`` distinct option texts, none equal to ``answer``.

    One candidate is taken from each group in turn (each group in random order),
    round-robin, so every kind of wrong option is represented when possible.
    Candidates are rendered to text with ``render`` (default: they are text)
    only when reached, so long candidate lists cost little.
    """
    pools = [list(g) for g in groups]
    seen = {answer}
    out: list[str] = []
    while len(out) < n and any(pools):
        for pool in pools:
            while pool:
                c = pool.pop(int(rnd.random() * len(pool)))
                s = render(c) if render is not None else c
                if s not in seen:
                    seen.add(s)
                    out.append(s)
                    break
            if len(out) == n:
                break
    return out
