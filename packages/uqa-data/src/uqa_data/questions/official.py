"""The official UQABench layout: options inside the question text.

One JSON object per line: ``{"id", "user_id", "task", "question", "answer",
"answer_text"}`` where ``question`` is the stem followed by the options as
``选项：A. … B. … C. … D. …`` (``Options: A. …`` for English sets), so a set
can be fed to the paper's own scripts, whose scorer classifies a question by
phrases of its Chinese stem (see :data:`uqa_data.questions.templates.OFFICIAL_KEYS`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from uqa_data.io import write_text

OPTION_HEADERS = {"zh": "选项：", "en": "Options: "}


def official_question(stem: str, options: list[str], lang: str) -> str:
    """``stem`` plus ``选项：A. x B. y C. z D. w``."""
    listed = " ".join(f"{letter}. {text}" for letter, text in zip("ABCD", options, strict=False))
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
