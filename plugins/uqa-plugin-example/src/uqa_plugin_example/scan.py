"""Parallel scan of the diagonal linear recurrence ``h_t = lam * h_{t-1} + b_t``.

Chunked: within a chunk of ``T`` steps, ``h = K b`` with the causal kernel
``K[i, j] = lam^(i - j)`` (``j <= i``), one real batched matmul; across chunks, the
chunk-end states follow the same recurrence with ``lam^T``, solved by a
Hillis-Steele scan in ``log2(chunks)`` steps; each chunk then adds the decayed
state carried in. Powers are ``exp(k * log_lam)``, so ``|lam| < 1`` keeps every
term bounded. No Python loop runs over time steps.
"""

from __future__ import annotations

import torch


def linear_scan(log_lam: torch.Tensor, b: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """All states of ``h_t = exp(log_lam) * h_{t-1} + b_t`` with ``h_{-1} = 0``.

    :param log_lam: ``[N]`` complex log of the diagonal transition.
    :param b: ``[B, L, N]`` complex inputs.
    :param chunk: steps per chunk (memory ``chunk^2 * N`` for the kernel).
    :returns: ``[B, L, N]`` complex states.
    """
    batch, length, n = b.shape
    t = max(1, min(chunk, length))
    n_chunks = -(-length // t)
    pad = n_chunks * t - length
    if pad:
        b = torch.cat([b, b.new_zeros(batch, pad, n)], dim=1)
    b = b.view(batch, n_chunks, t, n)
    steps = torch.arange(t + 1, device=b.device)
    pow_lam = torch.exp(steps.to(log_lam.real.dtype)[:, None] * log_lam)  # [T+1, N]: lam^k
    diff = steps[:t, None] - steps[None, :t]  # [T, T]: i - j
    kernel = pow_lam[diff.clamp(min=0)] * (diff >= 0)[..., None]  # [T, T, N], 0 above diagonal
    h = _chunk_matmul(kernel, b)  # [B, C, T, N], each chunk from zero
    if n_chunks > 1:
        ends = _scan_constant(h[:, :, -1], t * log_lam)  # [B, C, N] true chunk-end states
        carried = torch.cat([ends.new_zeros(batch, 1, n), ends[:, :-1]], dim=1)
        h = h + carried[:, :, None, :] * pow_lam[1:]  # decay lam^(i+1) of the carried state
    return h.reshape(batch, n_chunks * t, n)[:, :length]


def _chunk_matmul(kernel: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``h[b, c, i, n] = sum_j kernel[i, j, n] * b[b, c, j, n]`` as one real batched matmul.

    Complex products as the real block matrix ``[[Kr, -Ki], [Ki, Kr]]``: real
    BLAS / tensor-core matmuls are much faster than complex ones on CPU.
    """
    batch, n_chunks, t, n = b.shape
    k = kernel.permute(2, 0, 1)  # [N, T, T]
    block = torch.cat([torch.cat([k.real, -k.imag], 2), torch.cat([k.imag, k.real], 2)], 1)
    x = b.permute(3, 2, 0, 1).reshape(n, t, batch * n_chunks)  # [N, T, B*C]
    y = block @ torch.cat([x.real, x.imag], 1)  # [N, 2T, B*C]
    h = torch.complex(y[:, :t], y[:, t:])  # [N, T, B*C]
    return h.reshape(n, t, batch, n_chunks).permute(2, 3, 1, 0)  # [B, C, T, N]


def _scan_constant(x: torch.Tensor, log_a: torch.Tensor) -> torch.Tensor:
    """Inclusive scan ``s_c = a * s_{c-1} + x_c`` over dim 1 in ``ceil(log2 C)`` steps."""
    offset = 1
    while offset < x.shape[1]:
        shifted = x[:, :-offset] * torch.exp(offset * log_a)
        x = torch.cat([x[:, :offset], x[:, offset:] + shifted], dim=1)
        offset *= 2
    return x


def sequential_scan(log_lam: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Reference: the same recurrence, one step at a time (tests only)."""
    lam = torch.exp(log_lam)
    h = b.new_zeros(b.shape[0], b.shape[2])
    out = []
    for step in range(b.shape[1]):
        h = lam * h + b[:, step]
        out.append(h)
    return torch.stack(out, dim=1)
