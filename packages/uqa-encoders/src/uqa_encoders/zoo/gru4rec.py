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


def step_product(weight: torch.Tensor, rows: int, compute: torch.dtype | None = None
                 ) -> Callable[..., torch.Tensor]:
    """``f(x, bias=None) = x @ weight.T (+ bias)`` for ``x [rows, in]``, the product taken in
    ``compute`` (default: the weight's dtype; ``torch.bfloat16`` for a bf16 step) and
    returned in the weight's dtype, the bias added at that precision.

    On a CPU the weight is packed once, so that a recurrence's many products of few rows
    do not repack it at every time step: for oneDNN where torch has it (float32 or
    bfloat16), else for MKL's GEMM (float32). 8 rows against a ``[3072, 1024]`` weight on
    the AMD EPYC VM of 2026-12-07 (`bench/gru_recurrence.py --products`): ``addmm``
    1.0 ms, MKL packed 0.75-0.92, oneDNN packed 0.29 in float32 and 0.15 in bfloat16.
    Elsewhere it is a plain product. An ``x`` of another row count is still right
    (the packing is only tuned for ``rows``)."""
    out_dtype = weight.dtype
    compute = compute or out_dtype
    w = weight.detach().to(compute)
    if weight.device.type == "cpu" and compute in _ONEDNN_PACK_DTYPES:
        packed = torch.ops.mkldnn._reorder_linear_weight(w, rows)
        if compute == out_dtype:  # the bias inside the product
            return lambda x, bias=None: torch.ops.mkldnn._linear_pointwise(
                x, packed, bias, "none", [], "")

        def multiply(x: torch.Tensor) -> torch.Tensor:
            return torch.ops.mkldnn._linear_pointwise(x.to(compute), packed, None, "none",
                                                      [], "")
    elif (weight.device.type == "cpu" and compute == out_dtype == torch.float32
            and _HAS_MKL_PACK):
        packed = torch.ops.mkl._mkl_reorder_linear_weight(w, rows)
        return lambda x, bias=None: torch.ops.mkl._mkl_linear(x, packed, w, bias, rows)
    else:
        def multiply(x: torch.Tensor) -> torch.Tensor:
            return x.to(compute) @ w.T

    def product(x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        y = multiply(x).to(out_dtype)
        return y if bias is None else y.add_(bias)

    return product


def _mkl_pack_available() -> bool:
    try:
        return (torch.backends.mkl.is_available()
                and hasattr(torch.ops.mkl, "_mkl_reorder_linear_weight")
                and hasattr(torch.ops.mkl, "_mkl_linear"))
    except (AttributeError, RuntimeError):
        return False


def _onednn_pack_dtypes() -> frozenset[torch.dtype]:
    """The dtypes whose packed oneDNN product works here (tried once on a small weight)."""
    found = set()
    try:
        if not (torch.backends.mkldnn.is_available()
                and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")
                and hasattr(torch.ops.mkldnn, "_linear_pointwise")):
            return frozenset()
        for dtype in (torch.float32, torch.bfloat16):
            if dtype == torch.bfloat16 and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
                continue
            w = torch.ones(3, 2, dtype=dtype)
            packed = torch.ops.mkldnn._reorder_linear_weight(w, 2)
            y = torch.ops.mkldnn._linear_pointwise(torch.ones(2, 2, dtype=dtype), packed,
                                                   None, "none", [], "")
            if y.shape == (2, 3) and bool((y.float() == 2).all()):
                found.add(dtype)
    except (AttributeError, RuntimeError):
        pass
    return frozenset(found)


_HAS_MKL_PACK = _mkl_pack_available()
_ONEDNN_PACK_DTYPES = _onednn_pack_dtypes()


class _Recurrence(torch.autograd.Function):
    """The hidden-to-hidden half of one GRU layer over time, gates in PyTorch's order
    (reset, update, new): ``gi [T, B, 3H]`` (the input projections of every step, computed
    beforehand in one product), ``w_hh [3H, H]``, ``b_hh [3H]`` -> ``h [T, B, H]`` from a zero
    state. Each step's product with ``w_hh`` uses a weight packed once (:func:`step_product`),
    in bfloat16 when ``low`` (a bf16 autocast step: the gates, states and their gradients
    stay in ``gi``'s float32, as oneDNN's own bf16 GRU keeps them).
    The backward pass walks time in reverse for the state's gradient only, a step being
    one pass of :func:`~uqa_encoders.zoo.gru_kernels.gru_backward_step` and one product,
    and forms the gradient of ``w_hh`` as one product over all steps, where autograd
    through ``nn.GRU`` on CPU adds a ``[3H, H]`` outer product into it at every step."""

    @staticmethod
    def forward(ctx: Any, gi: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor,
                low: bool = False) -> torch.Tensor:
        steps, batch, three_h = gi.shape
        hid = three_h // 3
        # zeros, not empty: every page is mapped here in one pass rather than faulted in a
        # few at a time inside the loop (a step of 8 x 1024 went from 346 to 260 us)
        h = gi.new_zeros(batch, hid)
        outs = gi.new_zeros(steps, batch, hid)
        gates = gi.new_zeros(steps, batch, 3 * hid)  # r, z, n after their nonlinearities
        ghn = gi.new_zeros(steps, batch, hid)  # the new gate's hidden part (before r *)
        compute = torch.bfloat16 if low else None
        product = step_product(w_hh.to(gi.dtype), batch, compute)
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
        ctx.compute = compute
        return outs

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        from uqa_encoders.zoo.gru_kernels import gru_backward_step

        outs, gates, ghn, w_hh = ctx.saved_tensors
        steps, batch, hid = outs.shape
        # [T, B, H], often a transpose's gradient
        grad_out = grad_out.detach().to(outs.dtype).contiguous()
        d_gh, d_gi = torch.zeros_like(gates), torch.zeros_like(gates)  # mapped up front
        carry, zero = outs.new_zeros(batch, hid), outs.new_zeros(batch, hid)
        # [B, 3H] @ w_hh [3H, H]
        back = step_product(w_hh.to(outs.dtype).t().contiguous(), batch, ctx.compute)
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
        dtype = ctx.compute or outs.dtype  # the step products' precision
        with torch.autocast(outs.device.type, enabled=False):
            grad_w = flat[batch:].t().to(dtype) @ outs[:-1].reshape(-1, hid).to(dtype)
        return d_gi, grad_w.to(w_hh.dtype), flat.sum(0).to(w_hh.dtype), None


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
        autocast = torch.is_autocast_enabled("cpu")
        low = (autocast and torch.get_autocast_dtype("cpu") == torch.bfloat16
               and torch.bfloat16 in _ONEDNN_PACK_DTYPES)
        if (x.device.type == "cpu" and torch.is_grad_enabled()
                and x.dtype in (torch.float32, torch.float64) and (low or not autocast)):
            # Two layers forward and backward against nn.GRU, interleaved in one process
            # (bench/gru_recurrence.py; its results file has the figures): fp32 on every
            # shape measured, and under bf16 autocast, where nn.GRU runs oneDNN's own bf16
            # kernel, at batch 8 x 512, hidden 1024. Other dtypes have no numba kernel.
            out = self._train_layers(x, low=low)
        else:
            out, _ = self.gru(x)  # [B, L, H]
        if self.out is not None:
            out = self.out(out)
        return self.norm(out)

    def _train_layers(self, x: torch.Tensor, low: bool = False) -> torch.Tensor:
        """``self.gru``'s layers with the same weights and inter-layer dropout, through
        :class:`_Recurrence` (the same outputs, a faster backward pass on CPU). ``low``:
        the step products in bfloat16 (a bf16 autocast step; the input projections follow
        autocast), everything else in ``x``'s dtype."""
        gru, h = self.gru, x.transpose(0, 1)  # [T, B, D]
        for layer in range(gru.num_layers):
            if layer:  # nn.GRU's dropout between layers, the rate of self.drop
                h = self.drop(h)
            w_ih, w_hh = getattr(gru, f"weight_ih_l{layer}"), getattr(gru, f"weight_hh_l{layer}")
            b_ih, b_hh = getattr(gru, f"bias_ih_l{layer}"), getattr(gru, f"bias_hh_l{layer}")
            gi = F.linear(h, w_ih, b_ih)  # every step's input projection in one product
            h = _Recurrence.apply(gi.to(x.dtype).contiguous(), w_hh, b_hh, low)
        return h.transpose(0, 1)
