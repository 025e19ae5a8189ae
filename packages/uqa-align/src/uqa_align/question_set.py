"""A question file read for the LLM: :class:`QuestionSet` (lists, the answer as an option
index) from a file of ``questions/align.arrow``'s schema, for alignment and answering.

(Generating questions is the job of :mod:`uqa_data.questions`.)"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from uqa_data.errors import UqaInputError
from uqa_data.io import INT, STRING, list_of, read_table

from uqa_align.prompt import letter_index

QUESTION_COLUMNS = {
    "question_id": (STRING, "string question ids"),
    "user_id": (INT, "int64 user ids"),
    "question": (STRING, "the question stem (string)"),
    "options": (list_of(STRING), "list<string> of answer options"),
    "answer": (STRING, "the correct option letter (string)"),
    "history_len": (INT, "int64 number of the user's clicks the question may use"),
}


@dataclass
class QuestionSet:
    """Questions as Python lists, with the answer as an option index."""

    path: Path
    question_ids: list[str]
    user_ids: np.ndarray
    questions: list[str]
    options: list[list[str]]
    answers: np.ndarray
    history_lens: np.ndarray
    splits: list[str]
    langs: list[str]
    table: pa.Table

    def __len__(self) -> int:
        return len(self.question_ids)


def read_questions(path: str | os.PathLike[str], *, limit: int | None = None) -> QuestionSet:
    """Read and check a question file; ``limit`` keeps the first rows only."""
    p = Path(path)
    table = read_table(p, QUESTION_COLUMNS, what="question file", allow_empty=False)
    if limit is not None:
        if limit < 1:
            raise UqaInputError(f"{p}: asked for the first {limit} questions; expected >= 1")
        table = table.slice(0, limit)
    options = table.column("options").to_pylist()
    answers = table.column("answer").to_pylist()
    qids = [str(q) for q in table.column("question_id").to_pylist()]
    idx = np.empty(len(options), dtype=np.int64)
    for i, (opts, ans) in enumerate(zip(options, answers, strict=True)):
        if not opts or len(opts) < 2:
            raise UqaInputError(f"{p}: row {i} (question {qids[i]}) has fewer than 2 options")
        idx[i] = letter_index(ans, len(opts), where=f"{p}: row {i} (question {qids[i]})")
    n = table.num_rows
    names = set(table.column_names)
    splits = table.column("split").to_pylist() if "split" in names else ["test"] * n
    langs = table.column("lang").to_pylist() if "lang" in names else ["en"] * n
    return QuestionSet(
        path=p, question_ids=qids,
        user_ids=table.column("user_id").to_numpy().astype(np.int64),
        questions=[str(q) for q in table.column("question").to_pylist()],
        options=[[str(o) for o in opts] for opts in options], answers=idx,
        history_lens=table.column("history_len").to_numpy().astype(np.int64),
        splits=[str(s) for s in splits], langs=[str(s) for s in langs], table=table,
    )
