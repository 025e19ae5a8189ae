"""Built-in plugin registering the seven UQABench sub-tasks."""

from __future__ import annotations

from uqa_data import hookimpl
from uqa_data.registry import ComponentSpec


@hookimpl
def uqa_register_tasks() -> list[ComponentSpec]:
    return []
