"""Backbone parameter counts of every registered encoder size (built on the meta device)."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from uqa_data.errors import UqaError
from uqa_data.registry import UqaPluginWarning, list_components

from uqa_encoders.presets import TRM_PLUS_SCALING

PIPELINE_SIZES = ("tiny", "small", "paper")
"""The sizes the pipeline presets ask every encoder for: tiny; small (small, default);
paper (full)."""


def backbone_params(name: str, size: str, **overrides: Any) -> int:
    """Parameters of encoder ``name`` at ``size`` without allocating memory."""
    from uqa_encoders.model import build_encoder, encoder_config

    config = encoder_config(name, size, **overrides)
    with torch.device("meta"):
        return build_encoder(name, config).get_num_params()


def encoder_size_rows() -> list[dict[str, Any]]:
    """One row per (encoder, size): layers, dim, heads, shape and backbone parameters."""
    from uqa_encoders.model import encoder_config, encoder_sizes

    rows = []
    for name, spec in sorted(list_components("encoder").items()):
        try:
            sizes = encoder_sizes(spec)
        except UqaError as exc:  # one broken plugin must not hide the others
            warnings.warn(f"uqa: {exc}", UqaPluginWarning, stacklevel=2)
            continue
        missing = [s for s in PIPELINE_SIZES if s not in sizes]
        if missing:
            warnings.warn(f"uqa: encoder '{name}' ({spec.origin()}) has no size "
                          f"{', '.join(repr(s) for s in missing)}, which the presets ask for "
                          "(tiny; small for small and default; paper for full)",
                          UqaPluginWarning, stacklevel=2)
        for size in sizes:
            try:
                cfg = encoder_config(name, size)
                params = backbone_params(name, size)
            except UqaError as exc:  # one broken plugin must not hide the others
                warnings.warn(f"uqa: {exc}", UqaPluginWarning, stacklevel=2)
                break
            heads = getattr(cfg, "heads", None)
            shape = f"(l={cfg.layers}, d={cfg.dim}" + (f", h={heads})" if heads else ")")
            row: dict[str, Any] = {
                "encoder": name, "size": size, "layers": cfg.layers, "dim": cfg.dim,
                "heads": heads, "shape": shape, "backbone_params": params,
            }
            if name == "trm_plus" and size in TRM_PLUS_SCALING:
                row["paper_params"] = int(TRM_PLUS_SCALING[size][3])
            rows.append(row)
    return rows
