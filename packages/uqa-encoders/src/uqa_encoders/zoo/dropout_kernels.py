"""numba kernels of the encoders' CPU dropout (:class:`.base.Dropout`).

Each element's keep/drop draw is a hash of ``(seed, index)`` (splitmix64's finaliser), so
the mask is never stored: the backward pass draws it again from the seed. ``torch.rand``
is one thread of Mersenne Twister on CPU; this is one pass over the tensor on every
thread (``[8, 512, 512]``, forward and backward: about 3 ms against 8.5).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
CHUNK = 1 << 14
"""Elements per parallel work item."""


@njit(inline="always")
def _draw(seed: np.uint64, i: int) -> np.uint32:
    """32 uniform bits for element ``i``: splitmix64 at ``seed + (i + 1) * golden``."""
    z = seed + np.uint64(i + 1) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return np.uint32((z ^ (z >> np.uint64(31))) >> np.uint64(32))


@njit(parallel=True, cache=True)
def dropout_f32(src: np.ndarray, out: np.ndarray, seed: np.uint64, threshold: np.uint32,
                scale: np.float32) -> None:
    """``out[i] = src[i] * scale`` where element ``i``'s draw is at least ``threshold``,
    else 0 (``threshold = p * 2**32``), over flat float32 arrays."""
    n = src.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            out[i] = src[i] * scale if _draw(seed, i) >= threshold else np.float32(0.0)


@njit(parallel=True, cache=True)
def dropout_bf16(src: np.ndarray, out: np.ndarray, seed: np.uint64, threshold: np.uint32,
                 scale: np.float32) -> None:
    """:func:`dropout_f32` over bfloat16 bits (flat uint16 arrays): each kept value is
    widened to float32, scaled, and rounded back to nearest-even, as ``x * scale`` in
    float32 then ``.to(torch.bfloat16)``."""
    n = src.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        lo, hi = c * CHUNK, min(n, (c + 1) * CHUNK)
        bits = np.empty(hi - lo, np.uint32)
        wide = bits.view(np.float32)
        for i in range(lo, hi):
            bits[i - lo] = np.uint32(src[i]) << np.uint32(16)
        for i in range(lo, hi):
            keep = _draw(seed, i) >= threshold
            wide[i - lo] = wide[i - lo] * scale if keep else np.float32(0.0)
        for i in range(lo, hi):
            b = bits[i - lo]
            b = b + np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1))
            out[i] = np.uint16(b >> np.uint32(16))
