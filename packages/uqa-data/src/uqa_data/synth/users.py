"""Synthetic users: interest mixtures, sessions, drift, repeats and noise (numba).

Each user draws from a private splitmix64 stream seeded by ``(seed, user)``, so
a user's clicks depend only on the seed, the user's index and length. Per user:

- a long-term mixture over 2-5 interest categories (Zipf-like category
  popularity, heaviest first), one preferred brand and one preferred shop per
  interest;
- 1-3 phases (longer users drift more); each phase has a dominant interest
  that takes 70% of the phase's sessions, the rest follow the long-term mixture;
- sessions (geometric length, mean ``session_mean``) concentrate on one
  interest: 80% of a session's clicks are in its category; within a category a
  click goes to the preferred brand (35%), the preferred shop (20%) or any item
  by popularity;
- a per-user share of repeat clicks (an item from the last 20 clicks) and of
  noise clicks (any item, by global popularity);
- timestamps: seconds to minutes within a session, hours to days between.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MAX_INTERESTS = 5
MAX_PHASES = 3
PHASE_DOMINANCE = 0.7
"""Share of a phase's sessions (and re-picked clicks) in its dominant interest."""
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True)
def _next(state: np.ndarray) -> np.uint64:
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def _uniform(state: np.ndarray) -> float:
    return float(_next(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _seed_state(seed: int, user: int) -> np.ndarray:
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed) * _M2 + np.uint64(user) * _GOLDEN + np.uint64(1)
    _next(state)
    return state


@njit(cache=True)
def _sample_segment(ptr: np.ndarray, items: np.ndarray, cum: np.ndarray, g: int, u: float) -> int:
    """An item of group ``g`` drawn by its cumulative weights (each segment ends at 1)."""
    a, b = ptr[g], ptr[g + 1]
    j = a + np.searchsorted(cum[a:b], u, side="right")
    if j >= b:
        j = b - 1
    return items[j]


@njit(cache=True)
def _sample_weights(w: np.ndarray, k: int, u: float) -> int:
    acc = 0.0
    for i in range(k):
        acc += w[i]
        if u < acc:
            return i
    return k - 1


@njit(cache=True)
def generate_users(
    seed: int,
    lengths: np.ndarray,
    dups: np.ndarray,
    row_off: np.ndarray,
    start_ts: np.ndarray,
    cate_cum: np.ndarray,
    cat_ptr: np.ndarray,
    cat_items: np.ndarray,
    cat_cum: np.ndarray,
    brand_ptr: np.ndarray,
    brand_items: np.ndarray,
    brand_cum: np.ndarray,
    shop_ptr: np.ndarray,
    shop_items: np.ndarray,
    shop_cum: np.ndarray,
    glob_items: np.ndarray,
    glob_cum: np.ndarray,
    item_brand: np.ndarray,
    item_shop: np.ndarray,
    noise_lo: float,
    noise_hi: float,
    rep_lo: float,
    rep_hi: float,
    session_mean: float,
    out_item: np.ndarray,
    out_ts: np.ndarray,
    t_k: np.ndarray,
    t_cate: np.ndarray,
    t_w: np.ndarray,
    t_brand: np.ndarray,
    t_shop: np.ndarray,
    t_np: np.ndarray,
    t_pcate: np.ndarray,
    t_ppos: np.ndarray,
    t_pts: np.ndarray,
    t_noise: np.ndarray,
    t_rep: np.ndarray,
) -> None:
    """Fill ``out_item``/``out_ts`` (rows ``row_off[u]:row_off[u+1]``) and the truth arrays."""
    n_users = lengths.shape[0]
    n_cates = cate_cum.shape[0]
    p_geo = 1.0 / max(session_mean, 1.0)
    for u in range(n_users):
        st = _seed_state(seed, u)
        L = lengths[u]
        # -- long-term interests --------------------------------------------
        K = 2
        if _uniform(st) < 0.6:
            K += 1
        if _uniform(st) < 0.35:
            K += 1
        if _uniform(st) < 0.15:
            K += 1
        K = min(K, n_cates)
        for k in range(K):
            c = -1
            for _ in range(100):
                cand = np.searchsorted(cate_cum, _uniform(st), side="right")
                if cand >= n_cates:
                    cand = n_cates - 1
                dup = False
                for j in range(k):
                    if t_cate[u, j] == cand:
                        dup = True
                if not dup:
                    c = cand
                    break
            if c < 0:  # fall back to the first unused category
                for cand in range(n_cates):
                    dup = False
                    for j in range(k):
                        if t_cate[u, j] == cand:
                            dup = True
                    if not dup:
                        c = cand
                        break
            t_cate[u, k] = c
        total = 0.0
        for k in range(K):
            t_w[u, k] = (0.85 + 0.3 * _uniform(st)) / (k + 1.0) ** 1.5
            total += t_w[u, k]
        for k in range(K):
            t_w[u, k] /= total
            it = _sample_segment(cat_ptr, cat_items, cat_cum, t_cate[u, k], _uniform(st))
            t_brand[u, k] = item_brand[it]
            it = _sample_segment(cat_ptr, cat_items, cat_cum, t_cate[u, k], _uniform(st))
            t_shop[u, k] = item_shop[it]
        t_k[u] = K
        w = t_w[u]
        # -- drift phases --------------------------------------------------
        P = 1
        if L >= 40 and _uniform(st) < 0.55:
            P = 2
            if L >= 80 and _uniform(st) < 0.4:
                P = 3
        bounds = np.full(MAX_PHASES + 1, L + 1, dtype=np.int64)
        bounds[0] = 0
        if P == 2:
            bounds[1] = int(L * (0.3 + 0.3 * _uniform(st)))
        elif P == 3:
            bounds[1] = int(L * (0.2 + 0.15 * _uniform(st)))
            bounds[2] = int(L * (0.55 + 0.15 * _uniform(st)))
        dom = np.zeros(MAX_PHASES, dtype=np.int64)
        dom[0] = 0 if _uniform(st) < 0.6 else _sample_weights(w, K, _uniform(st))
        for p in range(1, P):
            nxt = dom[p - 1]
            for _ in range(100):
                nxt = _sample_weights(w, K, _uniform(st))
                if nxt != dom[p - 1]:
                    break
            if nxt == dom[p - 1]:
                nxt = (dom[p - 1] + 1) % K
            dom[p] = nxt
        t_np[u] = P
        for p in range(P):
            t_pcate[u, p] = t_cate[u, dom[p]]
            t_ppos[u, p] = bounds[p]
        noise = noise_lo + (noise_hi - noise_lo) * _uniform(st)
        rep = rep_lo + (rep_hi - rep_lo) * _uniform(st)
        t_noise[u] = noise
        t_rep[u] = rep
        # -- clicks ----------------------------------------------------------
        hist = np.empty(L, dtype=np.int64)
        t = start_ts[u]
        row = row_off[u]
        dup_left = dups[u]
        left = 0
        sess_k = 0
        phase = 0
        for j in range(L):
            while phase + 1 < P and j >= bounds[phase + 1]:
                phase += 1
            if left == 0:
                if j > 0:
                    t += 600 + int(-np.log(1.0 - _uniform(st)) * 86400.0)
                left = 1 + int(np.log(1.0 - _uniform(st)) / np.log(1.0 - p_geo + 1e-12))
                pick_dominant = _uniform(st) < PHASE_DOMINANCE
                sess_k = dom[phase] if pick_dominant else _sample_weights(w, K, _uniform(st))
            else:
                t += 5 + int(-np.log(1.0 - _uniform(st)) * 60.0)
            if j == bounds[phase]:
                t_pts[u, phase] = t
            r = _uniform(st)
            if r < noise:
                g = np.searchsorted(glob_cum, _uniform(st) * glob_cum[-1], side="right")
                item = glob_items[min(g, glob_items.shape[0] - 1)]
            elif r < noise + rep and j > 0:
                back = 1 + int(_uniform(st) * min(j, 20))
                item = hist[j - back]
            else:
                k = sess_k
                if _uniform(st) >= 0.8:
                    pick_dominant = _uniform(st) < PHASE_DOMINANCE
                    k = dom[phase] if pick_dominant else _sample_weights(w, K, _uniform(st))
                q = _uniform(st)
                if q < 0.35:
                    item = _sample_segment(brand_ptr, brand_items, brand_cum, t_brand[u, k],
                                           _uniform(st))
                elif q < 0.55:
                    item = _sample_segment(shop_ptr, shop_items, shop_cum, t_shop[u, k],
                                           _uniform(st))
                else:
                    item = _sample_segment(cat_ptr, cat_items, cat_cum, t_cate[u, k],
                                           _uniform(st))
            hist[j] = item
            out_item[row] = item
            out_ts[row] = t
            row += 1
            if dup_left > 0 and _uniform(st) * (L - j) < dup_left:
                out_item[row] = item
                out_ts[row] = t
                row += 1
                dup_left -= 1
            left -= 1


def build_csr(group: np.ndarray, n_groups: int, weight: np.ndarray) -> tuple[np.ndarray, ...]:
    """Group items: ``(ptr, items, cum)`` with per-group cumulative weights ending at 1."""
    order = np.lexsort((-weight, group))
    counts = np.bincount(group, minlength=n_groups)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    w = weight[order]
    cum = np.cumsum(w)
    seg_start = np.repeat(np.concatenate([[0.0], cum])[ptr[:-1]], counts)
    seg_total = np.repeat(np.bincount(group, weights=weight, minlength=n_groups), counts)
    cum = (cum - seg_start) / np.where(seg_total > 0, seg_total, 1.0)
    # Guard the last element of each segment against rounding just below 1.
    ends = ptr[1:][counts > 0] - 1
    cum[ends] = 1.0
    return ptr, order.astype(np.int64), cum
