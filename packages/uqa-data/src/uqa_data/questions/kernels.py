"""Numba kernels computing answers over flattened Arrow list columns.

A split's sequences are ``offsets`` (int64, users + 1) and ``items`` (int64,
one item id per click); user ``u``'s clicks are ``items[offsets[u]:offsets[u+1]]``,
oldest first. ``lookup`` maps an item id to the value asked about (its
category/brand/shop id, or the item id itself), so no per-click attribute array
is materialised. Windows are given per question as ``[start, end)`` positions
inside the user's sequence.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def window_top(
    offsets: np.ndarray,
    items: np.ndarray,
    lookup: np.ndarray,
    users: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    n_values: int,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most clicked values in each window, most clicked first.

    Ties in count go to the value clicked more recently (later last click).
    Returns ``(ids [m, k], counts [m, k])``; missing ranks have id 0, count 0.
    """
    m = users.shape[0]
    top_ids = np.zeros((m, k), dtype=np.int64)
    top_counts = np.zeros((m, k), dtype=np.int64)
    counts = np.zeros(n_values, dtype=np.int64)
    last = np.full(n_values, -1, dtype=np.int64)
    distinct = np.empty(n_values, dtype=np.int64)
    for i in range(m):
        base = offsets[users[i]]
        lo = base + starts[i]
        hi = base + ends[i]
        nd = 0
        for p in range(lo, hi):
            v = lookup[items[p]]
            if counts[v] == 0:
                distinct[nd] = v
                nd += 1
            counts[v] += 1
            last[v] = p
        for r in range(min(k, nd)):
            best = -1
            for j in range(nd):
                v = distinct[j]
                if counts[v] < 0:  # already taken
                    continue
                if (
                    best < 0
                    or counts[v] > counts[best]
                    or (counts[v] == counts[best] and last[v] > last[best])
                ):
                    best = v
            top_ids[i, r] = best
            top_counts[i, r] = counts[best]
            counts[best] = -counts[best] - 1  # mark taken; restored below
        for j in range(nd):
            v = distinct[j]
            counts[v] = 0
            last[v] = -1
    return top_ids, top_counts


@njit(cache=True, nogil=True)
def count_matches(
    offsets: np.ndarray,
    items: np.ndarray,
    lookup: np.ndarray,
    users: np.ndarray,
    ends: np.ndarray,
    targets: np.ndarray,
) -> np.ndarray:
    """How many of each user's first ``ends[i]`` clicks have value ``targets[i]``."""
    m = users.shape[0]
    out = np.zeros(m, dtype=np.int64)
    for i in range(m):
        base = offsets[users[i]]
        c = 0
        for p in range(base, base + ends[i]):
            if lookup[items[p]] == targets[i]:
                c += 1
        out[i] = c
    return out


@njit(cache=True, nogil=True)
def values_at(
    offsets: np.ndarray,
    items: np.ndarray,
    lookup: np.ndarray,
    users: np.ndarray,
    positions: np.ndarray,
) -> np.ndarray:
    """The value of click ``positions[i]`` (0 = oldest) of each user's sequence."""
    m = users.shape[0]
    out = np.empty(m, dtype=np.int64)
    for i in range(m):
        out[i] = lookup[items[offsets[users[i]] + positions[i]]]
    return out
