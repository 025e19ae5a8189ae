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
    The backward pass walks time in reverse for the state's gradient only, a step being
    one pass of :func:`~uqa_encoders.zoo.gru_kernels.gru_backward_step` and one product,
    and forms the gradient of ``w_hh`` as one product over all steps, where autograd
    through ``nn.GRU`` on CPU adds a ``[3H, H]`` outer product into it at every step."""

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
        from uqa_encoders.zoo.gru_kernels import gru_backward_step

        outs, gates, ghn, w_hh = ctx.saved_tensors
        steps, batch, hid = outs.shape
        grad_out = grad_out.detach().contiguous()  # [T, B, H], often a transpose's gradient
        d_gh, d_gi = torch.empty_like(gates), torch.empty_like(gates)
        carry, zero = outs.new_zeros(batch, hid), outs.new_zeros(batch, hid)
        back = step_product(w_hh.t().contiguous(), batch)  # [B, 3H] @ w_hh [3H, H]
        arrays = [x.numpy() for x in (outs, grad_out, gates, ghn, d_gh, d_gi, carry, zero)]
        n_outs, n_grad, n_gates, n_ghn, n_dgh, n_dgi, n_carry, n_zero = arrays
        from_next = zero  # the next step's d_gh @ w_hh
        for t in range(steps - 1, -1, -1):  # per step: one kernel pass, one product
            prev = n_outs[t - 1] if t else n_zero
            gru_backward_step(from_next.numpy(), n_carry, n_grad[t], n_gates[t], n_ghn[t],
                              prev, n_dgh[t], n_dgi[t])
            if t:
                from_next = back(d_gh[t])
        flat = d_gh.view(-1, 3 * hid)
        # step 0 started from the zero state: only later steps add to w_hh's gradient
        grad_w = flat[batch:].t() @ outs[:-1].reshape(-1, hid)
        return d_gi, grad_w, flat.sum(0)


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
        if (x.device.type == "cpu" and torch.is_grad_enabled()
                and x.dtype in (torch.float32, torch.float64)
                and not torch.is_autocast_enabled("cpu")):
            # Two layers forward and backward, interleaved in one process
            # (bench/gru_recurrence.py): batch 8 x 512, hidden 1024: 1.53 s this way
            # against 2.95 s through nn.GRU; 256 x 50, hidden 128: 104 against 128 ms;
            # 128 x 50, hidden 64: 26 against 35 ms. Under bf16 autocast, nn.GRU runs
            # oneDNN's own kernel; other dtypes have no numba kernel.
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
