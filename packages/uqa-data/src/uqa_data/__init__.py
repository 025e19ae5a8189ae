"""uqa-data: Arrow schemas, synthetic source, importers, preprocessing, questions.

Plugins import :data:`hookimpl` from here to implement any ``uqa_*`` hook.
"""

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("uqa")
"""Marker for hook implementations in uqa plugins (``@hookimpl``)."""

__all__ = ["__version__", "hookimpl"]
