"""numba kernels of preprocessing: factorize, group and time-order, dedupe, filter.

All kernels work on flat int64 arrays; a user's clicks are the rows
``ptr[u]:ptr[u+1]`` after :func:`group_by_user`. No Python object is created per
click.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Filter rows of the ``stats`` array filled by :func:`filter_round`.
F_USER_SHORT, F_USER_LONG, F_ITEM_COUNT = 0, 1, 2
# Columns of ``stats``: rows, users, items removed.
ROWS, USERS, ITEMS = 0, 1, 2


@njit(cache=True)
def check_ids(values: np.ndarray) -> int:
    """Index of the first negative value, or -1."""
    for i in range(values.shape[0]):
        if values[i] < 0:
            return i
    return -1


@njit(cache=True)
def copy_checked(src: np.ndarray, dst: np.ndarray, offset: int, non_negative: bool) -> int:
    """Copy ``src`` into ``dst[offset:]``; return the first negative index (or -1)."""
    bad = -1
    for i in range(src.shape[0]):
        v = src[i]
        if non_negative and v < 0 and bad < 0:
            bad = i
        dst[offset + i] = v
    return bad


@njit(cache=True)
def _dense_codes(
    values: np.ndarray, vmin: int, span: int, codes: np.ndarray
) -> np.ndarray:
    present = np.zeros(span, dtype=np.bool_)
    for i in range(values.shape[0]):
        present[values[i] - vmin] = True
    remap = np.full(span, -1, dtype=np.int64)
    k = 0
    for i in range(span):
        if present[i]:
            remap[i] = k
            k += 1
    uniques = np.empty(k, dtype=np.int64)
    for i in range(span):
        if present[i]:
            uniques[remap[i]] = vmin + i
    for i in range(values.shape[0]):  # may overwrite ``values`` itself (codes is values)
        codes[i] = remap[values[i] - vmin]
    return uniques


def factorize(
    values: np.ndarray, *, in_place: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)``: ``uniques`` ascending, ``values == uniques[codes]``.

    Uses a direct lookup table when the id range is compact (O(n)), else a sort.
    ``in_place=True`` writes the codes over ``values`` (saves a large allocation).
    """
    if values.shape[0] == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    vmin, vmax = int(values.min()), int(values.max())
    span = vmax - vmin + 1
    codes = values if in_place else np.empty(values.shape[0], dtype=np.int64)
    if span <= 8 * values.shape[0] + (1 << 22):
        return codes, _dense_codes(values, vmin, span, codes)
    uniques, inverse = np.unique(values, return_inverse=True)
    codes[:] = inverse.reshape(-1)
    return codes, uniques.astype(np.int64)


@njit(cache=True)
def group_by_user(
    user: np.ndarray, n_users: int, item: np.ndarray, ts: np.ndarray, item_s: np.ndarray,
    ts_s: np.ndarray,
) -> np.ndarray:
    """Stable counting sort by user into ``item_s``/``ts_s``, then each user's rows by
    (timestamp, item).

    :returns: ``ptr`` (n_users + 1): user ``u``'s rows are ``ptr[u]:ptr[u+1]``.
    """
    n = user.shape[0]
    counts = np.zeros(n_users + 1, dtype=np.int64)
    for i in range(n):
        counts[user[i] + 1] += 1
    ptr = np.cumsum(counts)
    fill = ptr[:-1].copy()
    for i in range(n):
        j = fill[user[i]]
        item_s[j] = item[i]
        ts_s[j] = ts[i]
        fill[user[i]] = j + 1
    for u in range(n_users):
        a, b = ptr[u], ptr[u + 1]
        ordered = True
        for j in range(a + 1, b):
            if ts_s[j] < ts_s[j - 1] or (ts_s[j] == ts_s[j - 1] and item_s[j] < item_s[j - 1]):
                ordered = False
                break
        if ordered:
            continue
        seg_item = item_s[a:b].copy()
        seg_ts = ts_s[a:b].copy()
        by_item = np.argsort(seg_item, kind="mergesort")
        by_ts = np.argsort(seg_ts[by_item], kind="mergesort")
        order = by_item[by_ts]
        for j in range(b - a):
            item_s[a + j] = seg_item[order[j]]
            ts_s[a + j] = seg_ts[order[j]]
    return ptr


@njit(cache=True)
def drop_rows(
    ptr: np.ndarray, item: np.ndarray, alive: np.ndarray, dead: np.ndarray,
    user_len: np.ndarray, item_cnt: np.ndarray, out: np.ndarray,
) -> None:
    """Kill the alive rows flagged in ``dead``; add rows/users/items removed to ``out``."""
    for u in range(ptr.shape[0] - 1):
        had = user_len[u]
        for r in range(ptr[u], ptr[u + 1]):
            if alive[r] and dead[r]:
                alive[r] = False
                out[ROWS] += 1
                user_len[u] -= 1
                c = item[r]
                item_cnt[c] -= 1
                if item_cnt[c] == 0:
                    out[ITEMS] += 1
        if had > 0 and user_len[u] == 0:
            out[USERS] += 1


@njit(cache=True)
def duplicate_rows(ptr: np.ndarray, item: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Flag each row equal to the previous row of its user (rows are sorted)."""
    dead = np.zeros(item.shape[0], dtype=np.bool_)
    for u in range(ptr.shape[0] - 1):
        for r in range(ptr[u] + 1, ptr[u + 1]):
            if ts[r] == ts[r - 1] and item[r] == item[r - 1]:
                dead[r] = True
    return dead


@njit(cache=True)
def filter_round(
    ptr: np.ndarray, item: np.ndarray, alive: np.ndarray, user_len: np.ndarray,
    item_cnt: np.ndarray, min_item_count: int, min_user_len: int, max_user_len: int,
    stats: np.ndarray,
) -> int:
    """One round: drop users outside the length bounds, then rare items.

    Item counts are taken once at the start of the item step, so the step is
    one declared rule, not order-dependent. Fills ``stats[filter, ROWS/USERS/ITEMS]``.

    :returns: rows removed in this round (0 means the fixpoint is reached).
    """
    removed = 0
    for u in range(ptr.shape[0] - 1):
        n = user_len[u]
        if n == 0 or (min_user_len <= n <= max_user_len):
            continue
        f = F_USER_SHORT if n < min_user_len else F_USER_LONG
        for r in range(ptr[u], ptr[u + 1]):
            if alive[r]:
                alive[r] = False
                c = item[r]
                item_cnt[c] -= 1
                if item_cnt[c] == 0:
                    stats[f, ITEMS] += 1
        stats[f, ROWS] += n
        stats[f, USERS] += 1
        removed += n
        user_len[u] = 0
    rare = (item_cnt > 0) & (item_cnt < min_item_count)
    for u in range(ptr.shape[0] - 1):
        if user_len[u] == 0:
            continue
        for r in range(ptr[u], ptr[u + 1]):
            if alive[r] and rare[item[r]]:
                alive[r] = False
                user_len[u] -= 1
                item_cnt[item[r]] -= 1
                stats[F_ITEM_COUNT, ROWS] += 1
                removed += 1
        if user_len[u] == 0:
            stats[F_ITEM_COUNT, USERS] += 1
    stats[F_ITEM_COUNT, ITEMS] += rare.sum()
    return removed


@njit(cache=True)
def compact(
    ptr: np.ndarray, item: np.ndarray, ts: np.ndarray, alive: np.ndarray, item_new: np.ndarray,
    out_item: np.ndarray, out_ts: np.ndarray,
) -> np.ndarray:
    """Write alive rows to the front of ``out_item``/``out_ts`` (items mapped through
    ``item_new``); return the new per-user ``ptr``."""
    n_users = ptr.shape[0] - 1
    new_ptr = np.zeros(n_users + 1, dtype=np.int64)
    k = 0
    for u in range(n_users):
        for r in range(ptr[u], ptr[u + 1]):
            if alive[r]:
                out_item[k] = item_new[item[r]]
                out_ts[k] = ts[r]
                k += 1
        new_ptr[u + 1] = k
    return new_ptr


@njit(cache=True)
def gather(
    ptr: np.ndarray, take: np.ndarray, items: np.ndarray, ts: np.ndarray,
    out_item: np.ndarray, out_ts: np.ndarray, start: int,
) -> int:
    """Copy the first ``take[u]`` rows of every user ``u`` (in order) to ``out_*[start:]``.

    :returns: the position after the last row written.
    """
    k = start
    for u in range(ptr.shape[0] - 1):
        for r in range(ptr[u], ptr[u] + take[u]):
            out_item[k] = items[r]
            out_ts[k] = ts[r]
            k += 1
    return k
