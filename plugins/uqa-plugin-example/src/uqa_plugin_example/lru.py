"""LRU: a stack of Linear Recurrent Units as a sequential user encoder.

Orvieto, Smith, Gu, Fernando, Gulcehre, Pascanu & De, "Resurrecting Recurrent
Neural Networks for Long Sequences", ICML 2023. Per layer, with ``H = dim``
and ``N = state_dim``, a diagonal complex linear recurrence::

    x_t = lam * x_{t-1} + gamma * (B u_t)      lam, gamma in C^N, B in C^{N x H}
    y_t = Re(C x_t) + D * u_t                  C in C^{H x N}, D in R^H

with the stable exponential parameterisation ``lam = exp(-exp(nu_log) + i
exp(theta_log))`` (``|lam| < 1`` for any parameter value), eigenvalues
initialised uniformly on the ring ``r_min <= |lam| <= r_max`` with phase in
``[0, max_phase]``, and the normalisation ``gamma = sqrt(1 - |lam|^2)``.
Blocks are pre-norm: ``u + drop(GLU(drop(GELU(LRU(LayerNorm(u))))))``.
The recurrence runs as a chunked parallel scan (:mod:`uqa_plugin_example.scan`).

Causal by construction; padding positions are zeroed before the recurrence,
so padding can never reach a valid position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from uqa_data.errors import UqaInputError
from uqa_encoders.zoo.base import EncoderConfig, SequentialEncoder, init_weights

from uqa_plugin_example.scan import linear_scan


@dataclass
class LRUConfig(EncoderConfig):
    """:param state_dim: complex state size N per layer (0 means ``dim``).
    :param r_min: smallest initial eigenvalue modulus (the shortest memory).
    :param r_max: largest initial eigenvalue modulus (the longest memory).
    :param max_phase: initial eigenvalue phases are uniform in ``[0, max_phase]``.
    :param chunk: time steps per chunk of the parallel scan."""

    state_dim: int = 0
    r_min: float = 0.9
    r_max: float = 0.999
    max_phase: float = 2 * math.pi
    chunk: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.state_dim < 0 or self.chunk < 1:
            raise UqaInputError(
                f"lru: state_dim={self.state_dim}, chunk={self.chunk}; expected state_dim >= 0 "
                "(0 means dim) and chunk >= 1"
            )
        if self.state_dim == 0:
            self.state_dim = self.dim
        if not 0.0 < self.r_min < self.r_max < 1.0:
            raise UqaInputError(
                f"lru: r_min={self.r_min}, r_max={self.r_max}; expected 0 < r_min < r_max < 1"
            )
        if not self.max_phase > 0.0:
            raise UqaInputError(f"lru: max_phase={self.max_phase}; expected > 0")


class LRULayer(nn.Module):
    """One Linear Recurrent Unit: ``forward(u [B, L, H], mask [B, L]) -> [B, L, H]``."""

    def __init__(self, c: LRUConfig) -> None:
        super().__init__()
        h, n = c.dim, c.state_dim
        self.chunk = c.chunk
        # eigenvalues uniform on the ring r_min <= |lam| <= r_max, phase in [0, max_phase]
        u1, u2 = torch.rand(n), torch.rand(n).clamp(min=1e-6)
        nu = -0.5 * torch.log(u1 * (c.r_max**2 - c.r_min**2) + c.r_min**2)  # -log|lam|
        self.nu_log = nn.Parameter(torch.log(nu))
        self.theta_log = nn.Parameter(torch.log(c.max_phase * u2))
        self.gamma_log = nn.Parameter(0.5 * torch.log(1.0 - torch.exp(-2.0 * nu)))
        self.b_re = nn.Parameter(torch.randn(n, h) / math.sqrt(2 * h))
        self.b_im = nn.Parameter(torch.randn(n, h) / math.sqrt(2 * h))
        self.c_re = nn.Parameter(torch.randn(h, n) / math.sqrt(n))
        self.c_im = nn.Parameter(torch.randn(h, n) / math.sqrt(n))
        self.d = nn.Parameter(torch.randn(h))

    def log_lambda(self) -> torch.Tensor:
        """``[N]`` complex ``log(lam) = -exp(nu_log) + i exp(theta_log)``."""
        return torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log))

    def forward(self, u: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=u.device.type, enabled=False):
            uf = u.float() * mask.unsqueeze(-1).float()  # padding adds nothing to the state
            gamma = torch.exp(self.gamma_log)[:, None]
            # [B, L, H] -> [B, L, N] complex: gamma * (B u)
            bu = torch.complex(uf @ (self.b_re * gamma).T, uf @ (self.b_im * gamma).T)
            x = linear_scan(self.log_lambda(), bu, self.chunk)  # [B, L, N]
            y = x.real @ self.c_re.T - x.imag @ self.c_im.T + self.d * uf  # Re(C x) + D u
        return y.to(u.dtype)


class _Block(nn.Module):
    def __init__(self, c: LRUConfig) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(c.dim)
        self.lru = LRULayer(c)
        self.glu = nn.Linear(c.dim, 2 * c.dim)
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        y = self.drop(F.gelu(self.lru(self.norm(x), mask)))
        return x + self.drop(F.glu(self.glu(y), dim=-1))  # out1(y) * sigmoid(out2(y))


class LRU(SequentialEncoder):
    """Stacked LRU blocks; position ``t`` depends on clicks ``0..t`` only."""

    config_class = LRUConfig
    name = "lru"

    def __init__(self, config: LRUConfig) -> None:
        super().__init__(config)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.dim)
        self.apply(init_weights)  # linear layers only; LRU parameters keep the paper's init

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor, timestamps: torch.Tensor | None = None
    ) -> torch.Tensor:
        self.check_input(x, lengths)
        mask = self.valid_mask(lengths, x.shape[1])  # [B, L]
        h = self.drop(x)
        for block in self.blocks:
            h = block(h, mask)
        return self.norm(h)
