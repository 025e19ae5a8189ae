"""GRU4Rec: a multi-layer GRU over the click sequence.

Hidasi et al., "Session-based Recommendations with Recurrent Neural Networks",
ICLR 2016. The paper's ~20M setting is 3 layers of hidden size 1024.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from uqa_encoders.zoo.base import Dropout, EncoderConfig, SequentialEncoder, init_weights


@dataclass
class GRU4RecConfig(EncoderConfig):
    """:param hidden: GRU hidden size; 0 means ``dim``. A hidden size other than ``dim``
    adds a linear projection back to ``dim`` (the official module's shape: hidden 2 x dim).
    Dropout applies to the input and between layers."""

    hidden: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.hidden < 0:
            from uqa_data.errors import UqaInputError

            raise UqaInputError(f"gru4rec: hidden={self.hidden}; expected >= 0 (0 means dim)")


class GRU4Rec(SequentialEncoder):
    """Unidirectional GRU: right padding comes after every valid step, so it never leaks."""

    config_class = GRU4RecConfig
    name = "gru4rec"

    def __init__(self, config: GRU4RecConfig) -> None:
        super().__init__(config)
        self.drop = Dropout(config.dropout)
        hidden = config.hidden or config.dim
        self.gru = nn.GRU(
            config.dim, hidden, num_layers=config.layers, batch_first=True,
            dropout=config.dropout if config.layers > 1 else 0.0,
        )
        self.out = nn.Linear(hidden, config.dim) if hidden != config.dim else None
        self.norm = nn.LayerNorm(config.dim)
        self.apply(init_weights)
        for name, p in self.gru.named_parameters():
            if "weight" in name:
                nn.init.xavier_uniform_(p)
            else:
                nn.init.zeros_(p)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor, timestamps: torch.Tensor | None = None
    ) -> torch.Tensor:
        self.check_input(x, lengths)
        out, _ = self.gru(self.drop(x))  # [B, L, H]
        if self.out is not None:
            out = self.out(out)
        return self.norm(out)
