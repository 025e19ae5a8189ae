"""What every adapter shares: the call signature, input standardisation, building by name.

An adapter maps per-position user embeddings ``emb [B, T, D]`` with a validity
mask ``mask [B, T]`` to ``num_tokens`` soft tokens ``[B, num_tokens, H]`` in the
LLM's embedding space. A row whose mask is all False (no usable position) must
still give finite soft tokens.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import torch
from torch import nn
from uqa_data.errors import UqaInputError
from uqa_data.registry import get_component

OFF = 1e30
"""The ``in_std`` of a switched-off input dimension (its standardised value is ~0)."""

LEGACY_STATE = {"out_norm": torch.zeros(()), "log_gain": torch.zeros(())}
"""What an adapter saved without soft-token norms loads with: the norm left off."""


class Adapter(nn.Module):
    """Base of the built-in adapters: standardises inputs with stored statistics.

    ``in_mean``/``in_std`` are buffers fitted once on the alignment embeddings
    (:meth:`fit_input_stats`) and saved with the weights, so embeddings of any
    scale train at the same learning rate.
    """

    num_tokens: int
    in_dim: int
    hidden_size: int
    input_scale: str = "dim"
    """``dim``: each input dimension to unit spread; ``global``: one spread for all of
    them (centred per dimension), which keeps sparse slots at their relative size;
    ``whiten``: centred and decorrelated, every principal direction to unit spread (ZCA),
    so directions a trained encoder keeps narrow weigh as much as its dominant ones."""

    def __init__(self, in_dim: int, hidden_size: int, input_scale: str = "dim") -> None:
        super().__init__()
        self.in_dim = in_dim
        self.hidden_size = hidden_size
        self.input_scale = input_scale
        self.register_buffer("in_mean", torch.zeros(in_dim))
        self.register_buffer("in_std", torch.ones(in_dim))
        if input_scale == "whiten":
            self.register_buffer("in_whiten", torch.eye(in_dim))
        # Each soft token's norm: out_norm (the LLM's typical token-embedding norm, set by
        # set_output_norm; 0 leaves the projection's own norm) times a learned gain.
        self.register_buffer("out_norm", torch.zeros(()))
        self.log_gain = nn.Parameter(torch.zeros(()))

    @torch.no_grad()
    def fit_input_stats(self, emb: torch.Tensor, mask: torch.Tensor) -> None:
        """Set the standardisation from the valid positions of ``emb [N, T, D]``.

        A dimension that never varies over them is switched off (it cannot be learnt
        from, and a value unseen in training would otherwise be divided by ~0); the
        others' spread is floored at 5% of the median spread, so a rare one-hot slot
        (a brand of one user in a thousand) is not blown up a thousandfold.
        """
        valid = emb[mask.bool()].float()
        if valid.shape[0] < 2:
            return
        if self.input_scale == "whiten":
            mean, matrix = whitening(valid)
            self.in_mean.copy_(mean)
            self.in_whiten.copy_(matrix)
            return
        std = valid.std(0)
        moving = std > 1e-8
        if self.input_scale == "global":
            # the root-mean-square spread of the varying dimensions, shared by all
            shared = float(std[moving].square().mean().sqrt()) if bool(moving.any()) else 1.0
            std = torch.full_like(std, shared)
        floor = 0.05 * float(std[moving].median()) if bool(moving.any()) else 1.0
        self.in_mean.copy_(valid.mean(0))
        self.in_std.copy_(torch.where(moving, std.clamp_min(floor), torch.full_like(std, OFF)))

    def standardise(self, emb: torch.Tensor) -> torch.Tensor:
        if self.input_scale == "whiten":
            return (emb - self.in_mean) @ self.in_whiten
        return (emb - self.in_mean) / self.in_std

    @torch.no_grad()
    def set_output_norm(self, norm: float) -> None:
        """Give every soft token the norm ``norm`` (times the learned gain)."""
        self.out_norm.fill_(float(norm))

    def finish(self, soft: torch.Tensor) -> torch.Tensor:
        """Soft tokens ``[B, n, H]`` scaled to ``out_norm * exp(log_gain)`` when set."""
        if float(self.out_norm) <= 0:
            return soft
        scale = self.out_norm * torch.exp(self.log_gain)
        return soft * (scale / soft.norm(dim=-1, keepdim=True).clamp_min(1e-6))

    def check_width(self, emb: torch.Tensor, where: str = "embeddings") -> None:
        if emb.shape[-1] != self.in_dim:
            raise UqaInputError(
                f"{where}: embedding width {emb.shape[-1]} does not match the adapter's "
                f"input width {self.in_dim} (was it trained on another encoder's embeddings?)"
            )


WHITEN_FLOOR = 1e-3
"""Eigenvalues below this share of the largest are raised to it before whitening, so a
direction the alignment embeddings never vary along is not blown up without bound."""


def whitening(x: torch.Tensor, chunk: int = 65536) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean ``[D]`` and symmetric (ZCA) whitening matrix ``W [D, D]`` of the rows of
    ``x [N, D]``, as ``x``'s dtype: ``(x - mean) @ W`` has unit variance along every
    principal direction whose variance is at least :data:`WHITEN_FLOOR` of the largest.
    Sums run in float64, ``chunk`` rows at a time, so a large alignment set is not
    copied whole."""
    n, d = x.shape
    total = torch.zeros(d, dtype=torch.float64)
    gram = torch.zeros(d, d, dtype=torch.float64)
    for start in range(0, n, chunk):
        block = x[start:start + chunk].double()
        total += block.sum(0)
        gram += block.T @ block
    mean = total / n
    cov = (gram - n * torch.outer(mean, mean)) / max(1, n - 1)
    values, vectors = torch.linalg.eigh(cov)
    top = float(values.max().clamp_min(1e-30))
    matrix = (vectors * values.clamp_min(WHITEN_FLOOR * top).rsqrt()) @ vectors.T
    return mean.to(x.dtype), matrix.to(x.dtype)


def config_from_options(config_cls: type, options: dict[str, Any], name: str) -> Any:
    """Build ``config_cls`` from ``options``, rejecting unknown keys by name."""
    valid = {f.name for f in fields(config_cls)}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise UqaInputError(
            f"adapter '{name}': unknown option(s) {', '.join(unknown)}; "
            f"valid: {', '.join(sorted(valid)) or '(none)'}"
        )
    return config_cls(**options)


def check_adapter_options(name: str, options: dict[str, Any] | None) -> None:
    """Resolve adapter ``name`` and check ``options`` before anything is built.

    Unknown option keys, values of the wrong type and sizes below 1 (``num_tokens``,
    ``width``, ``layers``, ``heads``...) or negative rates raise naming the option.
    """
    import math

    from uqa_data.settings import SettingError, coerce_settings

    spec = get_component("adapter", name, flag="--adapter")
    if not spec.config:
        return
    config_cls = spec.load_config()
    what = f"adapter '{name}'"
    config = config_from_options(config_cls, coerce_settings(config_cls, dict(options or {}),
                                                             what=what), name)
    for f in fields(config_cls):
        v = getattr(config, f.name)
        if isinstance(v, bool):
            continue
        if isinstance(v, int) and v < 1:
            raise SettingError(what, f.name, v, "an integer >= 1")
        if isinstance(v, float) and not (math.isfinite(v) and v >= 0):
            raise SettingError(what, f.name, v, "a number >= 0")


def build_adapter(
    name: str, in_dim: int, hidden_size: int, options: dict[str, Any] | None = None
) -> Adapter:
    """Instantiate the registered adapter ``name`` (``--adapter``)."""
    spec = get_component("adapter", name, flag="--adapter")
    cls = spec.load()
    config_cls = spec.load_config() if spec.config else None
    config = config_from_options(config_cls, dict(options or {}), name) if config_cls else None
    return cls(in_dim=in_dim, hidden_size=hidden_size, config=config)


def adapter_options(adapter: nn.Module) -> dict[str, Any]:
    """The adapter's config as a JSON-able dict (for ``adapter/config.json``)."""
    config = getattr(adapter, "config", None)
    return asdict(config) if config is not None else {}


def load_adapter_module(
    name: str, in_dim: int, hidden_size: int, options: dict[str, Any], state: dict[str, Any],
    source: Any = "adapter weights",
) -> Adapter:
    """Rebuild an adapter from its saved config and load ``state`` strictly.

    :raises UqaInputError: naming ``source`` and the first tensor whose name or
        shape does not match the config (e.g. an edited ``in_dim``).
    """
    adapter = build_adapter(name, in_dim, hidden_size, options)
    own = adapter.state_dict()
    # adapters saved before soft-token norms existed (and qformer's old LayerNorm name)
    state = {**LEGACY_STATE, **{("final_norm." + k[len("out_norm."):]
                                 if k.startswith("out_norm.") else k): v
                                for k, v in state.items()}}
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        raise UqaInputError(
            f"{source}: weights do not match adapter '{name}' of its config.json "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    for k, v in own.items():
        if tuple(state[k].shape) != tuple(v.shape):
            raise UqaInputError(
                f"{source}: tensor '{k}' has shape {tuple(state[k].shape)} but adapter "
                f"'{name}' with in_dim={in_dim}, hidden_size={hidden_size} and options "
                f"{options} expects {tuple(v.shape)}; was config.json edited?"
            )
    adapter.load_state_dict(state, strict=True)
    return adapter
