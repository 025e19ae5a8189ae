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
    return []


@hookimpl
def uqa_register_llms() -> list[ComponentSpec]:
    return []
