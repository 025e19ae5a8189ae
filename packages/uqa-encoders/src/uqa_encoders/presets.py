"""Size presets of every built-in encoder (pure Python: importing this never imports torch).

Each preset maps to keyword overrides of the encoder's config dataclass. ``paper``
is the paper's ~20M-parameter setting (UQABench §4.1.3); ``trm_plus`` also has
the scaling presets of Table 5 as ``(layers, dim, heads)``.
"""

from __future__ import annotations

from typing import Any

ENCODER_TARGETS: dict[str, tuple[str, str, str]] = {
    # name -> (module, model class, config class)
    "gru4rec": ("uqa_encoders.zoo.gru4rec", "GRU4Rec", "GRU4RecConfig"),
    "sasrec": ("uqa_encoders.zoo.sasrec", "SASRec", "SASRecConfig"),
    "mamba4rec": ("uqa_encoders.zoo.mamba4rec", "Mamba4Rec", "Mamba4RecConfig"),
    "hstu": ("uqa_encoders.zoo.hstu", "HSTU", "HSTUConfig"),
    "trm_plus": ("uqa_encoders.zoo.trm_plus", "TrmPlus", "TrmPlusConfig"),
}

ENCODER_DESCRIPTIONS: dict[str, str] = {
    "gru4rec": "multi-layer GRU (Hidasi et al., 2016)",
    "sasrec": "causal self-attention blocks (Kang & McAuley, 2018)",
    "mamba4rec": "selective state-space blocks, parallel scan in PyTorch (Liu et al., 2024)",
    "hstu": "HSTU: pointwise SiLU attention, relative position/time bias (Zhai et al., 2024)",
    "trm_plus": "pre-norm Transformer with RoPE, SwiGLU, RMSNorm (Trm++, Zhai et al., 2024)",
}

ENCODER_LABELS: dict[str, str] = {
    "gru4rec": "GRU4Rec",
    "sasrec": "SASRec",
    "mamba4rec": "Mamba4Rec",
    "hstu": "HSTU",
    "trm_plus": "Trm++",
}
"""How report tables name each encoder (the ``label`` option of its registry entry)."""

# Table 5 of the paper: name -> (layers, dim, heads, reported parameter count).
TRM_PLUS_SCALING: dict[str, tuple[int, int, int, float]] = {
    "3m": (4, 256, 4, 3.2e6),
    "13m": (4, 512, 8, 13e6),
    "25m": (8, 512, 8, 25e6),
    "57m": (8, 768, 12, 57e6),
    "85m": (12, 768, 12, 85e6),
    "303m": (24, 1024, 8, 303e6),
    "680m": (24, 1536, 12, 680e6),
    "1.2b": (24, 2048, 16, 1.2e9),
}

ENCODER_SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "gru4rec": {
        "tiny": {"dim": 32, "layers": 1},
        "small": {"dim": 64, "layers": 2},
        "base": {"dim": 128, "layers": 2},
        "paper": {"dim": 1024, "layers": 3},
    },
    "sasrec": {
        "tiny": {"dim": 32, "layers": 1, "heads": 2, "ffn_dim": 64},
        "small": {"dim": 64, "layers": 2, "heads": 2, "ffn_dim": 128},
        "base": {"dim": 128, "layers": 2, "heads": 4, "ffn_dim": 256},
        "paper": {"dim": 1024, "layers": 6, "heads": 8, "ffn_dim": 1536},
    },
    "mamba4rec": {
        "tiny": {"dim": 32, "layers": 1, "d_state": 8},
        "small": {"dim": 64, "layers": 2, "d_state": 16},
        "base": {"dim": 128, "layers": 2, "d_state": 16},
        "paper": {"dim": 512, "layers": 5, "d_state": 32},
    },
    "hstu": {
        "tiny": {"dim": 32, "layers": 1, "heads": 2},
        "small": {"dim": 64, "layers": 2, "heads": 2},
        "base": {"dim": 128, "layers": 2, "heads": 4},
        "paper": {"dim": 768, "layers": 7, "heads": 8},
    },
    "trm_plus": {
        "tiny": {"dim": 32, "layers": 1, "heads": 2},
        "small": {"dim": 64, "layers": 2, "heads": 2},
        "base": {"dim": 128, "layers": 2, "heads": 4},
        "paper": {"dim": 512, "layers": 8, "heads": 8},
        **{
            name: {"layers": layers, "dim": dim, "heads": heads}
            for name, (layers, dim, heads, _) in TRM_PLUS_SCALING.items()
        },
    },
}
"""encoder -> size preset -> config overrides."""
