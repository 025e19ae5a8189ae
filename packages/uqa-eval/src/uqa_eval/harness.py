"""Scoring lm-evaluation-harness ``--log_samples`` output of the tasks ``uqa questions
--format lm-eval`` writes, into a uqa report (``uqa-eval score-predictions``).

Each line of a ``samples_<task>_<time>.jsonl`` file holds the document the harness was
given (``doc``: question_id, task, dimension, uqa_context...) and the harness's own
per-sample ``acc`` and ``acc_norm``. The report takes those verdicts as they are; the
model comes from the ``results_<time>.json`` written beside the samples, when present.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from uqa_data.errors import UqaInputError

from uqa_eval.official import json_lines
from uqa_eval.report import summarize

SAMPLE_KEYS = ("doc_id", "doc")


def find_samples(path: str | os.PathLike[str]) -> Path:
    """``path`` itself, or the one ``samples_*.jsonl`` file under the folder ``path``."""
    p = Path(path)
    if not p.is_dir():
        return p
    found = sorted(p.rglob("samples_*.jsonl"))
    if len(found) != 1:
        listed = ", ".join(str(f.relative_to(p)) for f in found[:6]) or "none"
        raise UqaInputError(
            f"{p}: expected one lm-evaluation-harness samples_*.jsonl file in it, found "
            f"{len(found)} ({listed}); give the file itself"
        )
    return found[0]


def is_samples_file(path: str | os.PathLike[str]) -> bool:
    """Whether the first non-blank line of ``path`` is an lm-eval sample (doc_id, doc)."""
    try:
        with Path(path).open(encoding="utf-8") as fh:
            for raw in fh:
                if raw.strip():
                    item = json.loads(raw)
                    return isinstance(item, Mapping) and all(k in item for k in SAMPLE_KEYS)
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return False


def _model_of(samples: Path) -> str | None:
    """``model_args.pretrained`` of the results file written with ``samples``."""
    stamp = samples.stem.rsplit("_", 1)[-1]
    for results in (samples.parent / f"results_{stamp}.json", *samples.parent.glob("results_*")):
        try:
            config = json.loads(results.read_text(encoding="utf-8")).get("config", {})
        except (OSError, ValueError, AttributeError):
            continue
        args = config.get("model_args")
        if isinstance(args, Mapping) and args.get("pretrained"):
            return str(args["pretrained"])
        if isinstance(args, str) and "pretrained=" in args:
            return args.split("pretrained=", 1)[1].split(",", 1)[0]
    return None


def score_samples(path: str | os.PathLike[str], meta: Mapping[str, Any] | None = None
                  ) -> dict[str, Any]:
    """A uqa report of one lm-eval samples file (``acc`` and ``acc_norm`` per sub-task).

    :raises UqaInputError: naming the file and line of the first sample that is not JSON,
        lacks the uqa document fields or the harness's ``acc``/``acc_norm``.
    """
    p = find_samples(path)
    tasks, dims, acc, norm, contexts, seen = [], [], [], [], set(), {}
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UqaInputError(f"lm-eval samples file not readable: {p} ({exc})") from exc
    for number, where, item in json_lines(lines, str(p)):
        doc = item.get("doc") if isinstance(item, Mapping) else None
        if not isinstance(doc, Mapping) or "question_id" not in doc or "task" not in doc:
            raise UqaInputError(
                f"{where}: expected an lm-evaluation-harness sample whose 'doc' has "
                "question_id and task (a task written by `uqa questions --format lm-eval`)")
        qid = str(doc["question_id"])
        if qid in seen:
            raise UqaInputError(f"{where}: question_id '{qid}' was scored already (line "
                                f"{seen[qid]})")
        seen[qid] = number
        verdicts = []
        for metric in ("acc", "acc_norm"):
            v = item.get(metric)
            if v not in (0, 1, 0.0, 1.0, True, False):
                raise UqaInputError(f"{where}: '{metric}' is {v!r}; expected the harness's "
                                    "per-sample 0 or 1 (run lm_eval with --log_samples)")
            verdicts.append(bool(v))
        acc.append(verdicts[0])
        norm.append(verdicts[1])
        tasks.append(str(doc["task"]))
        dims.append(doc.get("dimension"))
        if doc.get("uqa_context"):
            contexts.add(str(doc["uqa_context"]))
    if not tasks:
        raise UqaInputError(f"{p}: has no samples; expected one JSON object per line")
    name = p.stem.removeprefix("samples_").rsplit("_", 1)[0]  # the task: uqabench_text20
    if not contexts:  # documents without uqa_context: the task's name says it
        contexts.add(name.removeprefix("uqabench_") if name.startswith("uqabench_") else name)
    context = contexts.pop() if len(contexts) == 1 else "mixed"
    model = _model_of(p)
    out_meta = {"run": f"lm-eval {name}" + (f" ({Path(model).name})" if model else ""),
                "method": context, "baseline": context, "llm": model or "lm-eval",
                "mode": "loglik", "source": str(p), **(meta or {})}
    return summarize(tasks, acc, correct_norm=norm,
                     dimensions=None if any(d is None for d in dims) else dims, meta=out_meta)
