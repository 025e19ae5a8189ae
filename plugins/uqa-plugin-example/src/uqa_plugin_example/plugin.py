"""Entry point of uqa-plugin-example (``[project.entry-points.uqa]`` in pyproject.toml).

Registers the ``lru`` encoder, the ``nc`` sub-task and extra phrasings of the
built-in ``si`` sub-task. Importing this module never imports torch or numpy:
targets are ``"module:attr"`` strings the registry resolves when they are used.
"""

from __future__ import annotations

from typing import Any

from uqa_data import hookimpl
from uqa_data.registry import ComponentSpec

LRU_SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"dim": 32, "layers": 1, "state_dim": 32},
    "small": {"dim": 64, "layers": 2, "state_dim": 64},
    "base": {"dim": 128, "layers": 2, "state_dim": 128},
    # ~21M backbone parameters, the paper's encoder budget (UQABench §4.1.3)
    "paper": {"dim": 768, "layers": 6, "state_dim": 768},
}
"""Size preset -> overrides of :class:`uqa_plugin_example.lru.LRUConfig`."""


# uqa-encoders owns this hook: optionalhook keeps the plugin loadable without it.
@hookimpl(optionalhook=True)
def uqa_register_encoders() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind="encoder",
            name="lru",
            target="uqa_plugin_example.lru:LRU",
            config="uqa_plugin_example.lru:LRUConfig",
            description="Linear Recurrent Unit, chunked parallel scan (Orvieto et al., 2023)",
            options={"sizes": LRU_SIZES},
        )
    ]


@hookimpl
def uqa_register_tasks() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind="task",
            name="nc",
            target="uqa_plugin_example.tasks:NeverClicked",
            description="never clicked: the category/brand/shop absent from the history",
            options={"langs": ["en", "zh"]},
        )
    ]


@hookimpl
def uqa_register_templates() -> list[Any]:
    from uqa_plugin_example.templates import TEMPLATES

    return list(TEMPLATES)
