"""``qformer``: learned queries cross-attending to the per-position embeddings.

After BLIP-2's Q-Former (Li et al. 2023, arXiv 2301.12597) as used by the
UQABench paper (arXiv 2502.19178, §3.2): ``num_tokens`` learned query vectors
attend (cross-attention) to the user's per-position embeddings through a few
transformer layers; each query becomes one soft token. A learned "null" memory
slot is always attendable, so users with no valid position still get finite
outputs (and the queries can ignore a weak history).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from uqa_align.adapters.base import Adapter


@dataclass
class QFormerConfig:
    """Options of ``qformer``.

    :param num_tokens: learned queries = soft tokens (16 by default).
    :param width: internal width of the queries.
    :param layers: number of (self-attn, cross-attn, MLP) blocks.
    :param heads: attention heads.
    :param dropout: dropout inside the blocks.
    """

    num_tokens: int = 16
    width: int = 128
    layers: int = 2
    heads: int = 4
    dropout: float = 0.0


class _Block(nn.Module):
    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.self_attn = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        self.cross_attn = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.norm3 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(), nn.Dropout(dropout), nn.Linear(4 * width, width)
        )

    def forward(self, q: torch.Tensor, mem: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        h = self.norm1(q)
        q = q + self.self_attn(h, h, h, need_weights=False)[0]
        h = self.norm2(q)
        q = q + self.cross_attn(h, mem, mem, key_padding_mask=pad, need_weights=False)[0]
        return q + self.mlp(self.norm3(q))


class QFormer(Adapter):
    """``emb [B, T, D]``, ``mask [B, T]`` -> ``[B, num_tokens, H]``."""

    def __init__(self, in_dim: int, hidden_size: int, config: QFormerConfig | None = None):
        super().__init__(in_dim, hidden_size)
        self.config = c = config or QFormerConfig()
        if c.width % c.heads:
            raise ValueError(f"qformer width {c.width} must be divisible by heads {c.heads}")
        self.num_tokens = c.num_tokens
        self.queries = nn.Parameter(torch.randn(c.num_tokens, c.width) * 0.02)
        self.null = nn.Parameter(torch.zeros(1, c.width))
        self.in_proj = nn.Linear(in_dim, c.width)
        self.pos = nn.Parameter(torch.zeros(1, 1, c.width))
        self.blocks = nn.ModuleList(_Block(c.width, c.heads, c.dropout) for _ in range(c.layers))
        self.final_norm = nn.LayerNorm(c.width)
        self.out = nn.Linear(c.width, hidden_size)
        nn.init.normal_(self.out.weight, std=0.02)
        nn.init.zeros_(self.out.bias)

    def forward(self, emb: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        self.check_width(emb)
        b = emb.shape[0]
        mem = self.in_proj(self.standardise(emb)) + self.pos  # [B, T, W]
        mem = torch.cat([self.null.expand(b, 1, -1), mem], dim=1)  # [B, 1+T, W]
        pad = torch.cat([mask.new_ones(b, 1), mask.bool()], dim=1).logical_not()  # True = ignore
        q = self.queries.unsqueeze(0).expand(b, -1, -1)  # [B, Q, W]
        for block in self.blocks:
            q = block(q, mem, pad)
        return self.finish(self.out(self.final_norm(q)))  # [B, Q, H]
