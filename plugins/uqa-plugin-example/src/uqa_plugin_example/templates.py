"""Question stems this plugin adds: new phrasings of the built-in ``si`` and stems for ``nc``.

Chinese ``si`` stems keep the phrase the official UQABench scorer classifies
by ("用户近期最感兴趣的"), so exported questions are still scored as ``si``.
"""

from __future__ import annotations

from uqa_data.questions.base import Template

TEMPLATES: tuple[Template, ...] = (
    Template("si", "attr", "si_attr_example_1", {
        "en": "Judging by the user's latest clicks, which {attr} do they like best right now?",
        "zh": "从最近的点击来看，用户近期最感兴趣的{attr}是哪一个？",
    }),
    Template("si", "attr", "si_attr_example_2", {
        "en": "Which {attr} dominates the user's most recent browsing?",
        "zh": "在最近的浏览记录里，用户近期最感兴趣的{attr}是什么？",
    }),
    Template("nc", "attr", "nc_attr_example_1", {
        "en": "Which {attr} has the user never clicked?",
        "zh": "以下哪个{attr}是用户从未浏览过的？",
    }),
    Template("nc", "attr", "nc_attr_example_2", {
        "en": "Which of these {attrs} is missing from the user's history?",
        "zh": "用户的浏览历史中没有出现过哪个{attr}？",
    }),
)
"""Registered through the ``uqa_register_templates`` hook (see plugin.py)."""
