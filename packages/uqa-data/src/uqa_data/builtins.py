"""uqa-data's built-in plugin: the question sub-tasks and data sources it ships."""

from __future__ import annotations

from uqa_data import hookimpl
from uqa_data.registry import ComponentSpec


@hookimpl
def uqa_register_tasks() -> list[ComponentSpec]:
    return []


@hookimpl
def uqa_register_datasets() -> list[ComponentSpec]:
    return []
