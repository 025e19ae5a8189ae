"""Distractor builders shared by the built-in tasks: counts, orderings, paths."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import permutations

import numpy as np


def count_distractors(answer: int, rng: np.random.Generator, *, low: int = 1) -> list[str]:
    """Three other counts around ``answer`` (all >= ``low``), written as digits.

    The answer's rank among the four counts is uniform where ``low`` allows,
    so "pick the middle number" is no strategy.
    """
    step = max(1, round(answer * 0.25))
    rank = int(rng.integers(0, 4))
    rank = min(rank, (answer - low) // step)
    values = [answer + (i - rank) * step for i in range(4)]
    return [str(v) for v in values if v != answer]


def wrong_orderings(answer: Sequence[int], counts: Sequence[int]) -> list[tuple[int, ...]]:
    """Permutations of ``answer`` that put a value before one with a strictly higher count.

    ``counts[i]`` is the count of ``answer[i]``; orderings consistent with the
    counts (possible under ties) are not wrong, so they are left out.
    """
    count_of = dict(zip(answer, counts, strict=True))
    out = []
    for perm in permutations(answer):
        if tuple(perm) == tuple(answer):
            continue
        if any(
            count_of[perm[i]] < count_of[perm[j]]
            for i in range(len(perm))
            for j in range(i + 1, len(perm))
        ):
            out.append(tuple(perm))
    return out


def near_misses(
    answer: Sequence[int], alternatives: Sequence[int], rng: np.random.Generator
) -> list[tuple[int, ...]]:
    """Lists equal to ``answer`` except one position holds one of ``alternatives``."""
    out = []
    for alt in alternatives:
        if alt in answer:
            continue
        pos = int(rng.integers(0, len(answer)))
        miss = list(answer)
        miss[pos] = int(alt)
        out.append(tuple(miss))
    return out


def pick_distinct(
    groups: Sequence[Sequence[str]], answer: str, rng: np.random.Generator, n: int = 3
) -> list[str]:
    """Up to ``n`` distinct strings, none equal to ``answer``.

    One string is taken from each group in turn (each group in random order),
    round-robin, so every kind of wrong option is represented when possible.
    """
    pools = [[g[i] for i in rng.permutation(len(g))] for g in groups]
    seen = {answer}
    out: list[str] = []
    while len(out) < n and any(pools):
        for pool in pools:
            while pool:
                s = pool.pop(0)
                if s not in seen:
                    seen.add(s)
                    out.append(s)
                    break
            if len(out) == n:
                break
    return out
