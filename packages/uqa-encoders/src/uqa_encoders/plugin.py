"""Entry point of uqa-encoders: adds its hookspecs and registers the built-in zoo.

Importing this never imports torch: targets are ``"module:attr"`` strings.
"""

from __future__ import annotations

import pluggy
from uqa_data import hookimpl
from uqa_data.registry import ComponentSpec

from uqa_encoders.presets import (
    ENCODER_DESCRIPTIONS,
    ENCODER_LABELS,
    ENCODER_SIZES,
    ENCODER_TARGETS,
)


@hookimpl
def uqa_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    from uqa_encoders import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def uqa_register_encoders() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind="encoder",
            name=name,
            target=f"{module}:{cls}",
            config=f"{module}:{cfg}",
            description=ENCODER_DESCRIPTIONS[name],
            options={"sizes": ENCODER_SIZES[name], "label": ENCODER_LABELS[name]},
        )
        for name, (module, cls, cfg) in ENCODER_TARGETS.items()
    ]
