"""Built-in plugin: the seven UQABench sub-tasks and their templates.

Registered by :mod:`uqa_data.registry` exactly like a third-party plugin; it
also adds the question hookspecs (``uqa_register_templates``).
"""

from __future__ import annotations

import pluggy

from uqa_data import hookimpl
from uqa_data.questions import hookspecs as question_hookspecs
from uqa_data.registry import ComponentSpec

_TASKS: tuple[tuple[str, str, str], ...] = (
    ("df", "sequence:DirectFeature", "direct feature of a recent click (sequence understanding)"),
    ("mf", "sequence:MatchFeature", "count of clicks matching a target (sequence understanding)"),
    ("ip", "action:ItemPrediction", "next item's title (action prediction)"),
    ("ap", "action:AttributePrediction", "next item's category/brand/shop (action prediction)"),
    ("li", "interest:LongTermInterest", "top-3 long-term interests (interest perception)"),
    ("si", "interest:ShortTermInterest", "recent favourite (interest perception)"),
    ("it", "interest:InterestTrajectory", "interest trajectory (interest perception)"),
)


@hookimpl
def uqa_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    pluginmanager.add_hookspecs(question_hookspecs)


@hookimpl
def uqa_register_tasks() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind="task",
            name=name,
            target=f"uqa_data.questions.{target}",
            description=description,
            options={"langs": ["en", "zh"]},
        )
        for name, target, description in _TASKS
    ]


@hookimpl
def uqa_register_templates() -> list:
    from uqa_data.questions.templates import BUILTIN_TEMPLATES

    return list(BUILTIN_TEMPLATES)
