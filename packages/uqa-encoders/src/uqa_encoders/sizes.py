"""Backbone parameter counts of every registered encoder size (built on the meta device)."""

from __future__ import annotations

from typing import Any

import torch
from uqa_data.registry import list_components

from uqa_encoders.presets import TRM_PLUS_SCALING


def backbone_params(name: str, size: str, **overrides: Any) -> int:
    """Parameters of encoder ``name`` at ``size`` without allocating memory."""
    from uqa_encoders.model import build_encoder, encoder_config

    config = encoder_config(name, size, **overrides)
    with torch.device("meta"):
        return build_encoder(name, config).get_num_params()


def encoder_size_rows() -> list[dict[str, Any]]:
    """One row per (encoder, size): layers, dim, heads, shape and backbone parameters."""
    from uqa_encoders.model import encoder_config

    rows = []
    for name, spec in sorted(list_components("encoder").items()):
        for size in spec.options.get("sizes", {}):
            cfg = encoder_config(name, size)
            heads = getattr(cfg, "heads", None)
            shape = f"(l={cfg.layers}, d={cfg.dim}" + (f", h={heads})" if heads else ")")
            row: dict[str, Any] = {
                "encoder": name, "size": size, "layers": cfg.layers, "dim": cfg.dim,
                "heads": heads, "shape": shape, "backbone_params": backbone_params(name, size),
            }
            if name == "trm_plus" and size in TRM_PLUS_SCALING:
                row["paper_params"] = int(TRM_PLUS_SCALING[size][3])
            rows.append(row)
    return rows
