"""The official UQABench layout: options inside the question text.

One JSON object per line: ``{"id", "user_id", "task", "question", "answer",
"answer_text"}`` where ``question`` is the stem followed by the options as
``选项：A. … B. … C. … D. …`` (``Options: A. …`` for English sets), so a set
can be fed to the paper's own scripts, whose scorer classifies a question by
phrases of its Chinese stem (:data:`OFFICIAL_PHRASINGS`, :func:`official_task`: the one
classifier, which ``uqa-eval score-predictions`` and the uqabench importer use too).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pyarrow as pa

from uqa_data.io import write_text
from uqa_data.schemas import OPTION_LETTERS

OPTION_HEADERS = {"zh": "选项：", "en": "Options: "}

OFFICIAL_PHRASINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("df", ("次浏览的商品的", "次（从1开始计数）浏览的")),
    ("mf", ("长度是多少？", "的商品有多少个")),
    ("ip", ("下一个可能点击的商品的标题是什么",)),
    ("ap", ("用户下一个可能点击的商品的",)),
    ("li", ("用户最感兴趣的3个",)),
    ("si", ("用户近期最感兴趣的",)),
    ("it", ("偏好的转移路径是什么",)),
)
"""Sub-task -> the phrases of a Chinese stem that identify it, in the order the official
scorer checks them (ip before ap, whose phrase ip's stem also contains)."""


def official_task(question: str) -> str | None:
    """The sub-task the official scorer assigns to a Chinese stem (None: no phrase matches)."""
    for task, phrases in OFFICIAL_PHRASINGS:
        if any(p in question for p in phrases):
            return task
    return None


def english_task(question: str) -> str | None:
    """The sub-task of a question asked with one of uqa's built-in English stems (the
    question's first line; an official-layout export puts the options after it), None
    when no stem matches. The official scorer knows only Chinese stems; this lets
    English sets exported with ``--format official`` be scored too."""
    stem = question.strip().split("\n", 1)[0].strip()
    return next((task for task, pattern in _english_stems() if pattern.fullmatch(stem)), None)


@functools.cache
def _english_stems() -> tuple[tuple[str, re.Pattern[str]], ...]:
    from uqa_data.questions.templates import BUILTIN_TEMPLATES

    def pattern(text: str) -> re.Pattern[str]:
        parts = re.split(r"\{\w+\}", text)
        return re.compile(".+?".join(re.escape(part) for part in parts), re.DOTALL)

    return tuple((t.task, pattern(t.text["en"])) for t in BUILTIN_TEMPLATES)


def official_question(stem: str, options: list[str], lang: str) -> str:
    """``stem`` plus ``选项：A. x B. y C. z D. w``."""
    listed = " ".join(f"{letter}. {text}"
                      for letter, text in zip(OPTION_LETTERS, options, strict=False))
    return f"{stem}\n{OPTION_HEADERS.get(lang, OPTION_HEADERS['en'])}{listed}"


def write_official(table: pa.Table, path: Path) -> Path:
    """Write ``table`` (question rows) as official-layout JSON lines, atomically."""
    lines = []
    for row in table.to_pylist():
        lines.append(
            json.dumps(
                {
                    "id": row["question_id"],
                    "user_id": row["user_id"],
                    "task": row["task"],
                    "question": official_question(row["question"], row["options"], row["lang"]),
                    "answer": row["answer"],
                    "answer_text": row["answer_text"],
                },
                ensure_ascii=False,
            )
        )
    return write_text("\n".join(lines) + ("\n" if lines else ""), path)
