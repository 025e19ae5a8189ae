"""SASRec: causal self-attention over the click sequence.

Kang & McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018.
Pre-norm blocks (LayerNorm -> attention / feed-forward -> residual) with learned
absolute positions, attention through ``scaled_dot_product_attention``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from uqa_encoders.zoo.base import (
    Dropout,
    EncoderConfig,
    SequentialEncoder,
    causal_attention,
    check_heads,
    init_weights,
)


@dataclass
class SASRecConfig(EncoderConfig):
    """:param heads: attention heads (must divide dim). :param ffn_dim: feed-forward width."""

    heads: int = 2
    ffn_dim: int = 256

    def __post_init__(self) -> None:
        super().__post_init__()
        check_heads(self.dim, self.heads)


class _Block(nn.Module):
    def __init__(self, c: SASRecConfig) -> None:
        super().__init__()
        self.heads = c.heads
        self.ln1 = nn.LayerNorm(c.dim)
        self.qkv = nn.Linear(c.dim, 3 * c.dim)
        self.proj = nn.Linear(c.dim, c.dim)
        self.ln2 = nn.LayerNorm(c.dim)
        self.ffn = nn.Sequential(
            nn.Linear(c.dim, c.ffn_dim),
            nn.GELU(),
            Dropout(c.dropout),
            nn.Linear(c.ffn_dim, c.dim),
        )
        self.drop = Dropout(c.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        # [B, L, D] -> [B, H, L, D/H]
        q, k, v = (t.view(b, n, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
        att = causal_attention(q, k, v)
        x = x + self.drop(self.proj(att.transpose(1, 2).reshape(b, n, d)))
        return x + self.drop(self.ffn(self.ln2(x)))


class SASRec(SequentialEncoder):
    """Causal Transformer encoder; right padding is never attended by valid positions."""

    config_class = SASRecConfig
    name = "sasrec"

    def __init__(self, config: SASRecConfig) -> None:
        super().__init__(config)
        self.pos = nn.Embedding(config.max_len, config.dim)
        self.drop = Dropout(config.dropout)
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.layers))
        self.ln_f = nn.LayerNorm(config.dim)
        self.apply(init_weights)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor, timestamps: torch.Tensor | None = None
    ) -> torch.Tensor:
        self.check_input(x, lengths)
        h = self.drop(x + self.pos.weight[: x.shape[1]])
        for block in self.blocks:
            h = block(h)
        return self.ln_f(h)
