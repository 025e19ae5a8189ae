"""Mamba4Rec: selective state-space (Mamba) blocks for sequential recommendation.

Liu et al., "Mamba4Rec: Towards Efficient Sequential Recommendation with
Selective State Space Models", 2024; Mamba: Gu & Dao, 2023. Each layer is a
Mamba mixer (causal depthwise conv + selective scan, gated by SiLU(z)) with
residual + LayerNorm, followed by a position-wise feed-forward network.

The selective scan runs in PyTorch as a parallel (Hillis-Steele) scan over time
in ``log2(L)`` vectorised steps, no Python loop over positions; the fused
``mamba_ssm`` CUDA kernel is used instead when it is installed and the input is
on a GPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from uqa_encoders.zoo.base import Dropout, EncoderConfig, SequentialEncoder, init_weights


@dataclass
class Mamba4RecConfig(EncoderConfig):
    """:param d_state: SSM state size N. :param d_conv: causal conv width.
    :param expand: inner width factor E. :param ffn_mult: feed-forward width / dim.
    :param use_kernel: use mamba_ssm's CUDA kernel when available."""

    d_state: int = 16
    d_conv: int = 4
    expand: int = 2
    ffn_mult: int = 4
    use_kernel: bool = True

    @property
    def dt_rank(self) -> int:
        return math.ceil(self.dim / 16)


def parallel_linear_scan(a: torch.Tensor, b: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """``h_t = a_t * h_{t-1} + b_t`` (``h_{-1} = 0``) for all t along ``dim``, in log2(L) steps."""
    a = a.movedim(dim, 0)
    b = b.movedim(dim, 0)
    n = a.shape[0]
    k = 1
    while k < n:
        # combine (a_t, b_t) with (a_{t-k}, b_{t-k}): h_t depends on h_{t-k}
        b = torch.cat([b[:k], b[k:] + a[k:] * b[:-k]], dim=0)
        a = torch.cat([a[:k], a[k:] * a[:-k]], dim=0)
        k *= 2
    return b.movedim(0, dim)


def _scan_chunk(
    h: torch.Tensor, u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor,
    C: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One chunk: carried state ``h [B, E, N]`` -> (``y [B, T, E]`` without D, last state)."""
    d = delta.float()  # [B, T, E]
    da = torch.exp(d.unsqueeze(-1) * A.float())  # [B, T, E, N]
    dbu = (d * u.float()).unsqueeze(-1) * B[:, :, None, :].float()
    first = dbu[:, :1] + da[:, :1] * h.unsqueeze(1)  # fold in the carried state
    states = parallel_linear_scan(da, torch.cat([first, dbu[:, 1:]], dim=1), dim=1)
    return torch.einsum("bten,btn->bte", states, C.float()), states[:, -1].clone()


def selective_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
    chunk: int = 16,
) -> torch.Tensor:
    """Selective SSM ``h_t = exp(d_t A) h_{t-1} + d_t B_t u_t``, ``y_t = C_t h_t + D u_t``.

    Shapes: ``u, delta [B, L, E]``, ``A [E, N]``, ``B, C [B, L, N]``, ``D [E]`` -> ``[B, L, E]``.
    Time is processed in chunks of ``chunk`` positions, each by a parallel scan seeded
    with the previous chunk's last state. When training, each chunk is recomputed in the
    backward pass (activation checkpointing) so the ``[B, T, E, N]`` states of only one
    chunk are alive at a time.
    """
    from torch.utils.checkpoint import checkpoint

    bsz, length, e = u.shape
    h = u.new_zeros(bsz, e, A.shape[1], dtype=torch.float32)
    outs = []
    grad = torch.is_grad_enabled() and any(
        t.requires_grad for t in (u, delta, A, B, C)
    )
    for s in range(0, length, chunk):
        args = (h, u[:, s : s + chunk], delta[:, s : s + chunk], A, B[:, s : s + chunk],
                C[:, s : s + chunk])
        if grad:
            # reentrant: the chunk's forward runs without a graph, so nothing of its
            # [B, T, E, N] states stays alive until backward recomputes them
            y, h = checkpoint(_scan_chunk, *args, use_reentrant=True)
        else:
            y, h = _scan_chunk(*args)
        outs.append(y)
    y = torch.cat(outs, dim=1) + u.float() * D.float()
    return y.to(u.dtype)


def _kernel():
    try:
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
    except Exception:  # not installed, or built for another torch/CUDA
        return None
    return selective_scan_fn


class MambaMixer(nn.Module):
    """The Mamba block: in-projection, causal conv, selective scan, SiLU gate, out-projection."""

    def __init__(self, c: Mamba4RecConfig) -> None:
        super().__init__()
        inner = c.expand * c.dim
        self.c = c
        self.in_proj = nn.Linear(c.dim, 2 * inner, bias=False)
        self.conv = nn.Conv1d(inner, inner, c.d_conv, groups=inner, padding=c.d_conv - 1)
        self.x_proj = nn.Linear(inner, c.dt_rank + 2 * c.d_state, bias=False)
        self.dt_proj = nn.Linear(c.dt_rank, inner)
        a = torch.arange(1, c.d_state + 1, dtype=torch.float32).repeat(inner, 1)
        self.A_log = nn.Parameter(torch.log(a))  # [E, N]
        self.D = nn.Parameter(torch.ones(inner))
        self.out_proj = nn.Linear(inner, c.dim, bias=False)

    def reset_dt(self) -> None:
        """Mamba's dt initialisation: dt in [1e-3, 1e-1] log-uniform via the bias."""
        dt = torch.exp(
            torch.rand(self.dt_proj.out_features) * (math.log(0.1) - math.log(1e-3))
            + math.log(1e-3)
        ).clamp(min=1e-4)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))
        nn.init.uniform_(self.dt_proj.weight, -self.c.dt_rank**-0.5, self.c.dt_rank**-0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[1]
        xz = self.in_proj(x)
        xs, z = xz.chunk(2, dim=-1)  # [B, L, E]
        xs = F.silu(self.conv(xs.transpose(1, 2))[..., :n].transpose(1, 2))  # causal conv
        dt, b, c = self.x_proj(xs).split([self.c.dt_rank, self.c.d_state, self.c.d_state], -1)
        delta = F.softplus(self.dt_proj(dt))  # [B, L, E]
        A = -torch.exp(self.A_log.float())
        kernel = _kernel() if (self.c.use_kernel and x.is_cuda) else None
        if kernel is not None:
            y = kernel(
                xs.transpose(1, 2).contiguous(), delta.transpose(1, 2).contiguous(), A,
                b.transpose(1, 2).contiguous(), c.transpose(1, 2).contiguous(), self.D.float(),
            ).transpose(1, 2)
        else:
            y = selective_scan(xs, delta, A, b, c, self.D)
        return self.out_proj(y * F.silu(z))


class _Layer(nn.Module):
    def __init__(self, c: Mamba4RecConfig) -> None:
        super().__init__()
        self.mixer = MambaMixer(c)
        self.norm1 = nn.LayerNorm(c.dim)
        self.ffn = nn.Sequential(
            nn.Linear(c.dim, c.ffn_mult * c.dim), nn.GELU(), Dropout(c.dropout),
            nn.Linear(c.ffn_mult * c.dim, c.dim),
        )
        self.norm2 = nn.LayerNorm(c.dim)
        self.drop = Dropout(c.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.drop(self.mixer(x)))
        return self.norm2(x + self.drop(self.ffn(x)))


class Mamba4Rec(SequentialEncoder):
    """Stack of Mamba layers; causal conv and scan keep right padding out of valid steps."""

    config_class = Mamba4RecConfig
    name = "mamba4rec"

    def __init__(self, config: Mamba4RecConfig) -> None:
        super().__init__(config)
        self.drop = Dropout(config.dropout)
        self.norm = nn.LayerNorm(config.dim)
        self.layers = nn.ModuleList(_Layer(config) for _ in range(config.layers))
        self.apply(init_weights)
        for layer in self.layers:
            if not layer.mixer.dt_proj.weight.is_meta:
                layer.mixer.reset_dt()

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor, timestamps: torch.Tensor | None = None
    ) -> torch.Tensor:
        self.check_input(x, lengths)
        h = self.drop(self.norm(x))
        for layer in self.layers:
            h = layer(h)
        return h
