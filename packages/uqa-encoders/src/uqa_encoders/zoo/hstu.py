"""HSTU: Hierarchical Sequential Transduction Units on padded dense tensors.

Zhai et al., "Actions Speak Louder than Words: Trillion-Parameter Sequential
Transducers for Generative Recommendations", ICML 2024. Each layer:

    U, V, Q, K = split(SiLU(f1(LayerNorm(X))))
    A = SiLU(Q K^T / sqrt(d_qk) + rab^{p,t}) / n      (causal, pointwise: no softmax)
    X = X + f2(Dropout(LayerNorm(A V) * U))

``rab^{p,t}`` is a learned relative-position bias plus a learned bias of the
log-bucketed time gap between the clicks. The reference code runs on jagged
tensors through fbgemm; this version uses padded tensors and plain PyTorch. The
normaliser ``n`` is the number of keys each query sees (its position + 1), so a
valid position's output does not depend on how much padding follows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from uqa_encoders.zoo.base import (
    Dropout,
    EncoderConfig,
    SequentialEncoder,
    check_heads,
    init_weights,
)


@dataclass
class HSTUConfig(EncoderConfig):
    """:param heads: attention heads (must divide dim); per-head q/k and v/u width dim/heads.
    :param time_buckets: log-spaced buckets of the time gap between two clicks."""

    heads: int = 2
    time_buckets: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        check_heads(self.dim, self.heads)


class RelativeBias(nn.Module):
    """``rab[i, j] = w_pos[i - j] + w_time[bucket(t_i - t_j)]``: ``[B, L, L]``."""

    def __init__(self, max_len: int, time_buckets: int) -> None:
        super().__init__()
        self.max_len = max_len
        self.time_buckets = time_buckets
        self.pos = nn.Parameter(torch.zeros(max_len))
        self.time = nn.Parameter(torch.zeros(time_buckets + 1))

    def forward(self, length: int, timestamps: torch.Tensor | None, batch: int) -> torch.Tensor:
        idx = torch.arange(length, device=self.pos.device)
        rel = (idx[:, None] - idx[None, :]).clamp(0, self.max_len - 1)  # [L, L], causal part
        bias = self.pos[rel].unsqueeze(0).expand(batch, -1, -1)
        if timestamps is not None:
            gap = (timestamps[:, :, None] - timestamps[:, None, :]).abs().float()
            bucket = (torch.log1p(gap) / 0.301).long().clamp(0, self.time_buckets)
            bias = bias + self.time[bucket]
        else:  # no times: keep the time table in the graph so DDP sees every parameter used
            bias = bias + 0.0 * self.time.sum()
        return bias


class _Layer(nn.Module):
    def __init__(self, c: HSTUConfig) -> None:
        super().__init__()
        self.heads = c.heads
        self.norm_in = nn.LayerNorm(c.dim)
        self.f1 = nn.Linear(c.dim, 4 * c.dim)
        self.norm_av = nn.LayerNorm(c.dim)
        self.f2 = nn.Linear(c.dim, c.dim)
        self.rab = RelativeBias(c.max_len, c.time_buckets)
        self.drop = Dropout(c.dropout)

    def forward(self, x: torch.Tensor, timestamps: torch.Tensor | None) -> torch.Tensor:
        b, n, d = x.shape
        hd = d // self.heads
        u, v, q, k = F.silu(self.f1(self.norm_in(x))).split(d, dim=-1)
        # [B, L, D] -> [B, H, L, hd]
        q, k, v = (t.view(b, n, self.heads, hd).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd)  # [B, H, L, L]
        scores = scores + self.rab(n, timestamps, b).unsqueeze(1).to(scores.dtype)
        causal = torch.ones(n, n, dtype=torch.bool, device=x.device).tril()
        seen = torch.arange(1, n + 1, device=x.device, dtype=scores.dtype)[:, None]
        attn = F.silu(scores) * causal / seen
        av = (attn @ v).transpose(1, 2).reshape(b, n, d)
        return x + self.f2(self.drop(self.norm_av(av) * u))


class HSTU(SequentialEncoder):
    """Stack of HSTU layers with a final LayerNorm."""

    config_class = HSTUConfig
    name = "hstu"

    def __init__(self, config: HSTUConfig) -> None:
        super().__init__(config)
        self.drop = Dropout(config.dropout)
        self.layers = nn.ModuleList(_Layer(config) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.dim)
        self.apply(init_weights)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor, timestamps: torch.Tensor | None = None
    ) -> torch.Tensor:
        self.check_input(x, lengths)
        if timestamps is not None and timestamps.shape != x.shape[:2]:
            from uqa_data.errors import UqaInputError

            raise UqaInputError(
                f"hstu: timestamps of shape {tuple(timestamps.shape)}; "
                f"expected {tuple(x.shape[:2])}"
            )
        h = self.drop(x)
        for layer in self.layers:
            h = layer(h, timestamps)
        return self.norm(h)
