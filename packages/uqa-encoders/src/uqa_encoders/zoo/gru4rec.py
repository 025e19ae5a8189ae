"""GRU4Rec: a multi-layer GRU over the click sequence.

Hidasi et al., "Session-based Recommendations with Recurrent Neural Networks",
ICLR 2016. The paper's ~20M setting is 3 layers of hidden size 1024.
"""

from __future__ import annotations

from collections.abc import Callable
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


def step_product(weight: torch.Tensor, rows: int) -> Callable[..., torch.Tensor]:
    """``f(x, bias=None) = x @ weight.T (+ bias)`` for ``x [rows, in]``, with ``weight``
    packed once for MKL's GEMM where torch has it (CPU float32), so a recurrence's many
    products of few rows do not repack the same weight at every time step (8 rows against
    a ``[3072, 1024]`` weight: 0.26 ms a product against 0.70 for ``addmm``; no gain at
    256 rows against ``[384, 128]``). Elsewhere it is plain ``addmm``/``mm``; an ``x`` of
    another row count falls back to a plain product inside MKL's op."""
    if weight.device.type == "cpu" and weight.dtype == torch.float32 and _HAS_MKL_PACK:
        packed = torch.ops.mkl._mkl_reorder_linear_weight(weight, rows)
        return lambda x, bias=None: torch.ops.mkl._mkl_linear(x, packed, weight, bias, rows)
    return lambda x, bias=None: x @ weight.T if bias is None else torch.addmm(bias, x, weight.T)


def _mkl_pack_available() -> bool:
    try:
        return (torch.backends.mkl.is_available()
                and hasattr(torch.ops.mkl, "_mkl_reorder_linear_weight")
                and hasattr(torch.ops.mkl, "_mkl_linear"))
    except (AttributeError, RuntimeError):
        return False


_HAS_MKL_PACK = _mkl_pack_available()


class _Recurrence(torch.autograd.Function):
    """The hidden-to-hidden half of one GRU layer over time, gates in PyTorch's order
    (reset, update, new): ``gi [T, B, 3H]`` (the input projections of every step, computed
    beforehand in one product), ``w_hh [3H, H]``, ``b_hh [3H]`` -> ``h [T, B, H]`` from a zero
    state. Each step's product with ``w_hh`` uses a weight packed once (:func:`step_product`).
    The backward pass walks time in reverse for the state's gradient only and forms the
    gradient of ``w_hh`` as one product over all steps, where autograd through ``nn.GRU``
    on CPU adds a ``[3H, H]`` outer product into it at every step."""

    @staticmethod
    def forward(ctx: Any, gi: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor
                ) -> torch.Tensor:
        steps, batch, three_h = gi.shape
        hid = three_h // 3
        h = gi.new_zeros(batch, hid)
        outs = gi.new_empty(steps, batch, hid)
        gates = gi.new_empty(steps, batch, 3 * hid)  # r, z, n after their nonlinearities
        ghn = gi.new_empty(steps, batch, hid)  # the new gate's hidden part (before r *)
        product = step_product(w_hh, batch)
        two = 2 * hid
        for t in range(steps):  # each step writes its results in place (no copies after)
            gh = product(h, b_hh)
            g = gates[t]
            rz = torch.add(gi[t, :, :two], gh[:, :two], out=g[:, :two]).sigmoid_()
            r, z = rz[:, :hid], rz[:, hid:]
            n = torch.addcmul(gi[t, :, two:], r, gh[:, two:], out=g[:, two:]).tanh_()
            h = torch.lerp(n, h, z, out=outs[t])  # (1 - z) * n + z * h
            ghn[t] = gh[:, two:]
        ctx.save_for_backward(outs, gates, ghn, w_hh)
        return outs

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        outs, gates, ghn, w_hh = ctx.saved_tensors
        steps, batch, hid = outs.shape
        r, z, n = gates[..., :hid], gates[..., hid : 2 * hid], gates[..., 2 * hid :]
        prev = torch.cat([outs.new_zeros(1, batch, hid), outs[:-1]])
        # With d = dL/dh_t (what flows back from later steps plus grad_out[t]), every gate
        # gradient of step t is d times a factor known from the forward pass alone, so the
        # factors are formed for all steps at once and the reverse walk is four products:
        # dn = d (1 - z)(1 - n^2); dz = d (h_prev - n) z (1 - z); dr = dn ghn r (1 - r);
        # the hidden part of the new gate is dn r. d_gh = d * k, d_gi the same but dn last.
        a = (1 - z) * (1 - n * n)
        k = torch.stack([a * ghn * r * (1 - r), (prev - n) * z * (1 - z), a * r], dim=2)
        d_gh = torch.empty_like(k)  # [T, B, 3, H]
        ds = torch.empty_like(outs)
        dh = grad_out.new_zeros(batch, hid)
        back = step_product(w_hh.t().contiguous(), batch)  # [B, 3H] @ w_hh [3H, H]
        for t in range(steps - 1, -1, -1):
            d = torch.add(dh, grad_out[t], out=ds[t])
            g = torch.mul(k[t], d.unsqueeze(1), out=d_gh[t])
            dh = torch.addcmul(back(g.view(batch, 3 * hid)), d, z[t])
        flat = d_gh.view(-1, 3 * hid)
        d_gi = d_gh.clone()
        d_gi[:, :, 2] = ds * a
        return (d_gi.view(steps, batch, 3 * hid), flat.t() @ prev.reshape(-1, hid),
                flat.sum(0))


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
            # dominate (batch 8 x 512, hidden 1024, two layers forward and backward: 1.39 s
            # this way against 2.81 s; batch 256 x 50, hidden 128: 8-15% slower, so nn.GRU
            # stays). Under bf16 autocast, nn.GRU runs oneDNN's own kernel.
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
            if layer:  # nn.GRU's dropout between layers, the rate of self.drop
                h = self.drop(h)
            w_ih, w_hh = getattr(gru, f"weight_ih_l{layer}"), getattr(gru, f"weight_hh_l{layer}")
            b_ih, b_hh = getattr(gru, f"bias_ih_l{layer}"), getattr(gru, f"bias_hh_l{layer}")
            gi = F.linear(h, w_ih, b_ih)  # every step's input projection in one product
            h = _Recurrence.apply(gi.contiguous(), w_hh, b_hh)
        return h.transpose(0, 1)
