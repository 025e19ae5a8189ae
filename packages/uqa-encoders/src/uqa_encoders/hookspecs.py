"""Hook specifications owned by uqa-encoders. Importing this never imports torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from uqa_data.registry import ComponentSpec

hookspec = pluggy.HookspecMarker("uqa")


@hookspec
def uqa_register_encoders() -> list[ComponentSpec]:
    """Register sequential user encoders.

    Return :class:`~uqa_data.registry.ComponentSpec` rows with ``kind="encoder"``,
    ``target`` naming a :class:`~uqa_encoders.base.SequentialEncoder` subclass and
    ``config`` its config dataclass, both as ``"module:attr"`` (imported lazily).
    ``options["sizes"]`` may map size preset names to config overrides.

    :returns: a list of encoder specs (may be empty).
    """
