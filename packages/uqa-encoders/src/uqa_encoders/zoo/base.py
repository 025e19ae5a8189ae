"""The base of every sequential encoder: input checks, masks and shared helpers.

Sequences are right-padded: valid clicks at positions ``0..len-1``, padding
after. Every encoder is causal, so position ``t`` sees clicks ``0..t`` only and
padding can never reach a valid position.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable
from uqa_data.errors import UqaInputError

from uqa_encoders.zoo.blocked_attention import blocked_causal_attention


@dataclass
class EncoderConfig:
    """Fields every encoder config has."""

    dim: int = 64
    layers: int = 2
    dropout: float = 0.1
    max_len: int = 512

    def __post_init__(self) -> None:
        for name in ("dim", "layers", "max_len"):
            if getattr(self, name) < 1:
                raise UqaInputError(f"encoder config: {name}={getattr(self, name)}; expected >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise UqaInputError(f"encoder config: dropout={self.dropout}; expected in [0, 1)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_heads(dim: int, heads: int) -> None:
    """Raise when ``dim`` does not split evenly into ``heads``."""
    if heads < 1 or dim % heads:
        raise UqaInputError(
            f"encoder config: dim={dim} is not divisible by heads={heads}; "
            "choose heads that divide dim"
        )


def init_weights(module: nn.Module) -> None:
    """Truncated-normal (std 0.02) for linear and embedding weights, zero biases."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02, a=-0.04, b=0.04)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.trunc_normal_(module.weight, std=0.02, a=-0.04, b=0.04)


SPLIT_POSITIONS = (257, 512)
"""Sequence lengths :func:`causal_attention` takes in two flash calls on a CPU (all but bf16
training, which goes in blocks of queries)."""


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``scaled_dot_product_attention(q, k, v, is_causal=True)`` over ``[B, H, L, hd]``.

    Training in bf16 on a CPU (inputs of one shape, a gradient to form), the queries go
    in blocks of 128 through batched products (:mod:`.blocked_attention`): PyTorch's CPU
    flash kernel computes every score below 512 keys, masked or not, and its bf16
    backward runs far below the CPU's product rate (8 x 4 heads x 512 x 128, forward and
    backward: 77-116 -> 36-60 ms; SASRec's 8 x 64 heads 116-149 -> 61-86).

    Otherwise on a CPU with 257 to 512 positions (float32, and bf16 without a gradient),
    two flash calls: the first half of the queries over the first half of the
    keys (causal), the second half over all keys through a mask, a quarter fewer scores
    (fp32 107 -> 85 ms). In float32 the blocked form gains less (1-6% of a d512 step) and
    holds its probabilities for the backward pass (SASRec d512: about 300 MiB more at the
    peak), so float32 keeps flash. Elsewhere (off the CPU, other lengths, or keys not as
    long as the queries) PyTorch's own.
    """
    cpu = q.device.type == "cpu"
    if (cpu and q.dtype == k.dtype == v.dtype == torch.bfloat16
            and q.shape == k.shape == v.shape and torch.is_grad_enabled()
            and (q.requires_grad or k.requires_grad or v.requires_grad)):
        return blocked_causal_attention(q, k, v)
    n = q.shape[-2]
    low, high = SPLIT_POSITIONS
    if not cpu or not low <= n <= high or k.shape[-2] != n:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    h = n // 2
    mask = torch.ones(n - h, n, dtype=torch.bool, device=q.device).tril(diagonal=h)
    first = F.scaled_dot_product_attention(q[..., :h, :], k[..., :h, :], v[..., :h, :],
                                           is_causal=True)
    second = F.scaled_dot_product_attention(q[..., h:, :], k, v, attn_mask=mask)
    return torch.cat([first, second], dim=-2)


class Dropout(nn.Dropout):
    """``nn.Dropout`` whose CPU mask (float32 or bfloat16 input) is drawn by a numba kernel
    from a hash of a per-call seed and each element's index, and drawn again in the
    backward pass instead of stored (:mod:`.dropout_kernels`); the seed comes from torch's
    default generator, so ``torch.manual_seed`` repeats it. Native dropout elsewhere."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (not self.training or self.p == 0.0 or x.device.type != "cpu"
                or x.dtype not in (torch.float32, torch.bfloat16)):
            return super().forward(x)
        seed = int(torch.randint(0, 2**62, (), dtype=torch.int64))
        return _HashDropout.apply(x, self.p, seed)


class _HashDropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, p: float, seed: int) -> torch.Tensor:
        ctx.p, ctx.seed = p, seed
        return hash_dropout(x, p, seed)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        return hash_dropout(grad, ctx.p, ctx.seed), None, None


def hash_dropout(x: torch.Tensor, p: float, seed: int) -> torch.Tensor:
    """``x`` with each element zeroed where its draw for ``seed`` falls below ``p``, the
    rest scaled by ``1 / (1 - p)``: the same elements for the same ``seed``, shape and
    ``p`` (a float32 or bfloat16 CPU tensor; the result is contiguous)."""
    from uqa_encoders.zoo.dropout_kernels import dropout_bf16, dropout_f32

    src = x.detach().contiguous()
    out = torch.empty_like(src)
    threshold = np.uint32(min(round(p * 2.0**32), 2**32 - 1))
    scale, key = np.float32(1.0 / (1.0 - p)), np.uint64(seed)
    if src.dtype == torch.bfloat16:
        flat_in, flat_out = (t.view(torch.int16).reshape(-1).numpy().view(np.uint16)
                             for t in (src, out))
        dropout_bf16(flat_in, flat_out, key, threshold, scale)
    else:
        dropout_f32(src.reshape(-1).numpy(), out.reshape(-1).numpy(), key, threshold, scale)
    return out


class SequentialEncoder(nn.Module):
    """``forward(x [B, L, D], lengths [B], timestamps [B, L] | None) -> [B, L, D]``.

    Returns the hidden state after each click; ``timestamps`` (int64 seconds) are
    used by encoders with time-aware attention (hstu) and ignored by the others.
    """

    config_class: ClassVar[type[EncoderConfig]] = EncoderConfig
    name: ClassVar[str] = ""

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config

    def check_input(self, x: torch.Tensor, lengths: torch.Tensor) -> None:
        """Shapes and lengths must agree with the config."""
        if x.dim() != 3 or x.shape[-1] != self.config.dim:
            raise UqaInputError(
                f"{self.name}: input of shape {tuple(x.shape)}; expected [batch, length, "
                f"{self.config.dim}]"
            )
        if x.shape[1] > self.config.max_len:
            raise UqaInputError(
                f"{self.name}: sequence length {x.shape[1]} exceeds max_len={self.config.max_len}"
            )
        if lengths.shape != x.shape[:1]:
            raise UqaInputError(f"{self.name}: lengths of shape {tuple(lengths.shape)}")
        if bool((lengths < 1).any()):
            row = int(torch.nonzero(lengths < 1)[0, 0])
            raise UqaInputError(f"{self.name}: sequence {row} of the batch is empty")

    @staticmethod
    def valid_mask(lengths: torch.Tensor, length: int) -> torch.Tensor:
        """``[B, L]`` bool, True at valid (non-padding) positions."""
        return torch.arange(length, device=lengths.device)[None, :] < lengths[:, None]

    @staticmethod
    def gather_last(hidden: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Hidden state at each sequence's last valid position: ``[B, D]``."""
        idx = (lengths - 1).clamp(min=0)
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), idx]

    def get_num_params(self) -> int:
        """Backbone parameters (the encoder alone, without item/feature embeddings)."""
        return sum(p.numel() for p in self.parameters())

    def forward(  # pragma: no cover
        self, x: torch.Tensor, lengths: torch.Tensor, timestamps: torch.Tensor | None = None
    ) -> torch.Tensor:
        raise NotImplementedError
