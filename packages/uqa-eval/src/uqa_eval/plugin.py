"""Entry point of uqa-eval: adds its hookspecs and registers the built-in baselines."""

from __future__ import annotations

import pluggy

from uqa_data import hookimpl
from uqa_data.registry import ComponentSpec


@hookimpl
def uqa_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    from uqa_eval import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def uqa_register_baselines() -> list[ComponentSpec]:
    return []
