"""Entry point of uqa-eval: adds its hookspecs and registers the built-in baselines."""

from __future__ import annotations

import pluggy
from uqa_data import hookimpl
from uqa_data.registry import ComponentSpec


@hookimpl
def uqa_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    from uqa_eval import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def _spec(name: str, attr: str, description: str) -> ComponentSpec:
    return ComponentSpec(kind="baseline", name=name, target=f"uqa_eval.baselines:{attr}",
                         description=description)


@hookimpl
def uqa_register_baselines() -> list[ComponentSpec]:
    return [
        _spec("none", "NONE", "no user context: the LLM's prior"),
        _spec("random", "RANDOM", "an untrained encoder's embeddings, trained adapter"),
        _spec("shuffled", "SHUFFLED", "real embeddings permuted across users at evaluation"),
        _spec("oracle", "ORACLE", "planted interests as a vector (synthetic data only)"),
        _spec("text20", "TEXT20", "last 20 clicks as text, LoRA instead of the adapter"),
        _spec("text50", "TEXT50", "last 50 clicks as text, LoRA instead of the adapter"),
    ]
