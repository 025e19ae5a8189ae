"""Scoring the official UQABench generation output (a JSONL of predictions).

Each line is a JSON object with ``question`` (the Chinese question as asked),
``prediction`` (the generated text) and ``answer`` (the gold option letter, a
string or a one-element list). A prediction is correct when, stripped of
surrounding white space, it starts with the answer, as in the official
``evaluate.py``. Sub-tasks are recognised by the official question phrasings,
checked in the official order (ip before ap, whose phrase ip's contains), or, for a
set uqa wrote in English, by its built-in English stems.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from uqa_data.errors import UqaInputError
from uqa_data.questions.official import OFFICIAL_PHRASINGS, english_task, official_task

from uqa_eval.report import summarize

PHRASINGS = OFFICIAL_PHRASINGS
"""Sub-task -> phrases that identify it, in the order they are checked."""

METRIC_DESCRIPTION = "generated answer (stripped) starts with the gold answer"


def classify(question: str) -> str | None:
    """The sub-task of a question: by the official Chinese phrasings, else by uqa's
    built-in English stems; None when neither matches."""
    return official_task(question) or english_task(question)


def is_correct(prediction: str, answer: str) -> bool:
    """Official rule: the stripped prediction starts with the (stripped) answer."""
    gold = answer.strip()
    return bool(gold) and prediction.strip().startswith(gold)


@dataclass(frozen=True)
class ScoredLine:
    """One scored line of the predictions file."""

    line: int
    task: str
    correct: bool


def json_lines(lines: Iterable[str], source: str) -> Iterator[tuple[int, str, Any]]:
    """``(line number, "SOURCE: line N", parsed value)`` of each non-blank JSON line.

    :raises UqaInputError: naming ``source`` and the line that is not valid JSON.
    """
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{source}: line {number}"
        try:
            yield number, where, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise UqaInputError(f"{where}: not valid JSON ({exc.msg})") from exc


def score_lines(lines: Iterable[str], source: str = "<predictions>") -> list[ScoredLine]:
    """Parse and score JSONL lines; blank lines are skipped.

    :raises UqaInputError: naming ``source`` and the 1-based line number of the
        first malformed line, missing key or unrecognised question.
    """
    out: list[ScoredLine] = []
    for number, where, item in json_lines(lines, source):
        if not isinstance(item, Mapping):
            raise UqaInputError(
                f"{where}: expected a JSON object with question, prediction, answer; "
                f"got {type(item).__name__}"
            )
        missing = [k for k in ("question", "prediction", "answer") if k not in item]
        if missing:
            raise UqaInputError(
                f"{where}: missing key(s) {', '.join(missing)}; "
                "expected question, prediction, answer"
            )
        question, prediction = item["question"], item["prediction"]
        answer = _answer(item["answer"], where)
        if not isinstance(question, str):
            raise UqaInputError(f"{where}: 'question' must be a string")
        if not isinstance(prediction, str):
            raise UqaInputError(f"{where}: 'prediction' must be a string")
        task = classify(question)
        if task is None:
            short = question if len(question) <= 80 else question[:77] + "..."
            raise UqaInputError(
                f"{where}: the question matches no UQABench phrasing (expected an official "
                f"Chinese df/mf/ip/ap/li/si/it stem, or one of uqa's English stems): {short!r}"
            )
        out.append(ScoredLine(number, task, is_correct(prediction, answer)))
    return out


def _answer(value: Any, where: str) -> str:
    if isinstance(value, list):
        if len(value) != 1 or not isinstance(value[0], str):
            raise UqaInputError(
                f"{where}: 'answer' is a list of {len(value)}; expected a string or a "
                "one-element list of a string"
            )
        value = value[0]
    if not isinstance(value, str) or not value.strip():
        raise UqaInputError(f"{where}: 'answer' must be a non-empty string (the option letter)")
    return value


def score_predictions(
    path: str | os.PathLike[str], meta: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Score an official generation-output JSONL file into a uqa report dict.

    The report has accuracy for all questions, each dimension and each
    sub-task (``acc``; generation has no ``acc_norm``).
    """
    from uqa_data.io import check_file

    p = check_file(path, "predictions file")
    try:
        with p.open(encoding="utf-8-sig") as fh:  # a leading UTF-8 BOM is accepted
            scored = score_lines(fh, str(p))
    except UnicodeDecodeError as exc:
        raise UqaInputError(f"{p}: not UTF-8 text ({exc.reason})") from exc
    if not scored:
        raise UqaInputError(f"{p}: has no predictions; expected one JSON object per line")
    return summarize(
        [s.task for s in scored],
        [s.correct for s in scored],
        meta={"run": p.stem, "source": str(p), "mode": "generate", **(meta or {})},
        metric_descriptions={"acc": METRIC_DESCRIPTION},
    )
