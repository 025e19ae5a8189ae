"""uqa-data's built-in plugin for data sources: the synthetic generator and importers."""

from __future__ import annotations

from uqa_data import hookimpl
from uqa_data.registry import ComponentSpec


@hookimpl
def uqa_register_datasets() -> list[ComponentSpec]:
    return []
