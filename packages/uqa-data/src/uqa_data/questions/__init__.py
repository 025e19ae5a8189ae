"""Question generation for the seven UQABench sub-tasks (df, mf, ip, ap, li, si, it).

Public entry points (imported lazily, so importing this package, as the
registry's built-in plugin does, pulls in neither numpy nor numba):

- :class:`QuestionConfig` (``from_preset(name, **overrides)``),
- :func:`generate` ``(data_dir, questions_dir, config) -> dict``,
- :class:`~uqa_data.questions.base.QuestionTask`, :class:`Template`,
  :class:`Draft`: the interface plugin tasks implement (see ``base.py``).
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "QuestionConfig": "uqa_data.questions.config",
    "PRESETS": "uqa_data.questions.config",
    "generate": "uqa_data.questions.generation",
    "QUESTION_SCHEMA": "uqa_data.questions.generation",
    "QuestionTask": "uqa_data.questions.base",
    "Template": "uqa_data.questions.base",
    "Draft": "uqa_data.questions.base",
    "QuestionContext": "uqa_data.questions.base",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'uqa_data.questions' has no attribute '{name}'")
