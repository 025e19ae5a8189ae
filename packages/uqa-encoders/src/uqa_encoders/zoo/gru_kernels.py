"""numba kernel of the GRU training recurrence's backward step (:mod:`.gru4rec`).

A reverse step's gate gradients are a dozen elementwise products of the step's saved
gates. As torch operations they were passes over ``[T, B, 3H]`` factors formed before the
reverse walk plus several dispatches a step; here each step is one pass over its own
gates (two layers at batch 256 x 50, hidden 128, forward and backward: 157 -> 124 ms).
The pass evaluates no transcendental function (the forward pass saved the gates after
their nonlinearities), so it compiles to plain arithmetic.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, fastmath={"contract"})
def gru_backward_step(back: np.ndarray, carry: np.ndarray, grad_out: np.ndarray,
                      gates: np.ndarray, ghn: np.ndarray, prev: np.ndarray,
                      d_gh: np.ndarray, d_gi: np.ndarray) -> None:
    """One reverse step of a GRU layer (gates in PyTorch's order: reset, update, new).

    The gradient reaching the step's state is ``d = back + carry + grad_out``: ``back``
    is the next step's ``d_gh @ w_hh``, ``carry`` its ``d * z``. Writes the gradients of
    the step's hidden pre-activations ``d_gh [B, 3H]`` (``gh = h_prev @ w_hh.T + b_hh``)
    and input pre-activations ``d_gi [B, 3H]``, and overwrites ``carry`` with this step's
    ``d * z``. ``gates [B, 3H]``: r, z, n after their nonlinearities; ``ghn [B, H]``: the
    new gate's hidden part before the reset gate scales it; ``prev [B, H]``: the state the
    step started from.
    """
    rows, hid = carry.shape
    one = np.float32(1.0)
    for b in range(rows):
        # one contiguous slice per gate: indexed by the loop counter alone, the loop
        # vectorises (about 1.6x faster than offsets into the [3H] row)
        g, dh, di = gates[b], d_gh[b], d_gi[b]
        g_r, g_z, g_n = g[:hid], g[hid:2 * hid], g[2 * hid:]
        h_r, h_z, h_n = dh[:hid], dh[hid:2 * hid], dh[2 * hid:]
        i_r, i_z, i_n = di[:hid], di[hid:2 * hid], di[2 * hid:]
        c, up, out, hn, p = carry[b], back[b], grad_out[b], ghn[b], prev[b]
        for j in range(hid):
            d = up[j] + c[j] + out[j]
            r, z, n = g_r[j], g_z[j], g_n[j]
            dn = d * (one - z) * (one - n * n)  # through tanh, before r scales ghn
            dz = d * (p[j] - n) * z * (one - z)
            dr = dn * hn[j] * r * (one - r)
            h_r[j], h_z[j], h_n[j] = dr, dz, dn * r
            i_r[j], i_z[j], i_n[j] = dr, dz, dn
            c[j] = d * z
