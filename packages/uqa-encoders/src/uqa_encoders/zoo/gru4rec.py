"""GRU4Rec: a multi-layer GRU over the click sequence.

Hidasi et al., "Session-based Recommendations with Recurrent Neural Networks",
ICLR 2016. The paper's ~20M setting is 3 layers of hidden size 1024.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
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


class _Recurrence(torch.autograd.Function):
    """The hidden-to-hidden half of one GRU layer over time, gates in PyTorch's order
    (reset, update, new): ``gi [T, B, 3H]`` (the input projections of every step, computed
    beforehand in one product), ``w_hh [3H, H]``, ``b_hh [3H]`` -> ``h [T, B, H]`` from a zero
    state. The backward pass walks time in reverse for the state's gradient only and forms
    the gradient of ``w_hh`` as one product over all steps, where autograd through
    ``nn.GRU`` on CPU adds a ``[3H, H]`` outer product into it at every step."""

    @staticmethod
    def forward(ctx: Any, gi: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor
                ) -> torch.Tensor:
        steps, batch, three_h = gi.shape
        hid = three_h // 3
        h = gi.new_zeros(batch, hid)
        outs = gi.new_empty(steps, batch, hid)
        gates = gi.new_empty(steps, batch, 3 * hid)  # r, z, n after their nonlinearities
        ghn = gi.new_empty(steps, batch, hid)  # the new gate's hidden part (before r *)
        for t in range(steps):
            gh = torch.addmm(b_hh, h, w_hh.t())
            rz = torch.sigmoid(gi[t, :, : 2 * hid] + gh[:, : 2 * hid])
            r, z = rz[:, :hid], rz[:, hid:]
            n = torch.tanh(torch.addcmul(gi[t, :, 2 * hid :], r, gh[:, 2 * hid :]))
            h = torch.lerp(n, h, z)  # (1 - z) * n + z * h
            outs[t] = h
            gates[t, :, : 2 * hid] = rz
            gates[t, :, 2 * hid :] = n
            ghn[t] = gh[:, 2 * hid :]
        ctx.save_for_backward(outs, gates, ghn, w_hh)
        return outs

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        outs, gates, ghn, w_hh = ctx.saved_tensors
        steps, batch, hid = outs.shape
        d_gi = torch.empty_like(gates)
        d_gh = torch.empty_like(gates)
        dh = grad_out.new_zeros(batch, hid)
        zero = outs.new_zeros(batch, hid)
        for t in range(steps - 1, -1, -1):
            prev = outs[t - 1] if t else zero
            r, z, n = gates[t, :, :hid], gates[t, :, hid : 2 * hid], gates[t, :, 2 * hid :]
            dh = dh + grad_out[t]
            dn = dh * (1 - z) * (1 - n * n)  # through tanh
            dz = dh * (prev - n) * z * (1 - z)
            dr = dn * ghn[t] * r * (1 - r)
            d_gi[t, :, :hid] = dr
            d_gi[t, :, hid : 2 * hid] = dz
            d_gi[t, :, 2 * hid :] = dn
            d_gh[t, :, : 2 * hid] = d_gi[t, :, : 2 * hid]
            d_gh[t, :, 2 * hid :] = dn * r
            dh = dh * z + d_gh[t] @ w_hh
        prevs = torch.cat([outs.new_zeros(1, batch, hid), outs[:-1]]).reshape(-1, hid)
        flat = d_gh.reshape(-1, 3 * hid)
        return d_gi, flat.t() @ prevs, flat.sum(0)


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
        x = self.drop(x)
        if (x.device.type == "cpu" and torch.is_grad_enabled() and x.shape[0] < self.gru.hidden_size
                and not torch.is_autocast_enabled("cpu")):
            # Few sequences against a wide state: nn.GRU's per-step weight-gradient sums
            # dominate (batch 8, hidden 1024: 1.4x faster this way; batch 256, hidden 128:
            # no gain). Under bf16 autocast, nn.GRU runs oneDNN's own kernel.
            out = self._train_layers(x)
        else:
            out, _ = self.gru(x)  # [B, L, H]
        if self.out is not None:
            out = self.out(out)
        return self.norm(out)

    def _train_layers(self, x: torch.Tensor) -> torch.Tensor:
        """``self.gru``'s layers with the same weights and inter-layer dropout, through
        :class:`_Recurrence` (the same outputs, a faster backward pass on CPU)."""
        gru, h = self.gru, x.transpose(0, 1)  # [T, B, D]
        for layer in range(gru.num_layers):
            if layer and self.training and gru.dropout:
                h = F.dropout(h, gru.dropout, True)
            w_ih, w_hh = getattr(gru, f"weight_ih_l{layer}"), getattr(gru, f"weight_hh_l{layer}")
            b_ih, b_hh = getattr(gru, f"bias_ih_l{layer}"), getattr(gru, f"bias_hh_l{layer}")
            gi = F.linear(h, w_ih, b_ih)  # every step's input projection in one product
            h = _Recurrence.apply(gi.contiguous(), w_hh, b_hh)
        return h.transpose(0, 1)
