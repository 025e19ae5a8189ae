"""A question set as lm-evaluation-harness tasks (``uqa questions --format lm-eval``).

One multiple-choice task per user context, each a task YAML plus a JSONL of documents:

- ``uqabench_none``: no user context (the LLM's prior);
- ``uqabench_text20`` / ``uqabench_text50``: the user's last 20 / 50 clicks (of the
  first ``history_len``) rendered as text, as the text baselines see them.

A document holds ``context`` (uqa's system line, then the user turn exactly as the text
baselines write it, then ``Answer:``), ``choices`` (the option texts), ``gold`` (the
answer's index), plus ``question_id``, ``user_id``, ``task``, ``dimension``, ``answer``
(the letter) and ``uqa_context`` (``none``/``text20``/``text50``), so the harness's
``--log_samples`` output maps back to the questions (``uqa-eval score-predictions``).
The harness scores each choice as the continuation of the context (``acc``) and per
character (``acc_norm``), as ``loglik`` answering does::

    lm_eval --model hf --model_args pretrained=DIR --tasks uqabench_text20 \\
        --include_path OUT --log_samples --output_path RESULTS

The YAML names its JSONL by absolute path (the harness loads it with ``datasets``, which
resolves relative paths against the working directory): export again after moving OUT.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from uqa_data.io import write_text

from uqa_align.prompt import LETTERS, PromptBuilder, PromptStyle

CONTEXTS: dict[str, int] = {"none": 0, "text20": 20, "text50": 50}
"""User context name -> clicks rendered as text (0: no user context)."""

TASK_PREFIX = "uqabench_"

YAML = """\
# lm-evaluation-harness task written by `uqa questions --format lm-eval` ({what}).
# Run: lm_eval --model hf --model_args pretrained=DIR --tasks {task} --include_path {folder}
task: {task}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: context
doc_to_choice: choices
doc_to_target: gold
target_delimiter: " "
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
  source: uqa
  questions: {questions}
"""


def task_name(context: str) -> str:
    return f"{TASK_PREFIX}{context}"


def context_text(builder: PromptBuilder, question: str, options: Sequence[str],
                 history: str | None) -> str:
    """What the harness conditions on: the system line, the user turn, ``Answer:``."""
    user = builder.user_text(question, options, history)
    system = builder.style.system
    return f"{system}\n{user}\nAnswer:" if system else f"{user}\nAnswer:"


def export_lm_eval(
    questions_path: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str],
    contexts: Sequence[str] = tuple(CONTEXTS),
    style: PromptStyle | None = None,
) -> dict[str, Any]:
    """Write ``<task>.yaml`` and ``<task>.jsonl`` per context into ``out_dir``.

    :param questions_path: ``questions/eval.arrow`` (or any question file).
    :param data_dir: ``data/`` (items and sequences), needed for the text contexts.
    :param contexts: names from :data:`CONTEXTS`.
    :returns: ``{"tasks": {name: {"yaml", "jsonl", "docs"}}, "include_path": out_dir}``.
    """
    from uqa_data.errors import UnknownNameError
    from uqa_data.registry import unknown_name_message

    from uqa_align.question_set import read_questions
    from uqa_align.text_history import history_texts

    for c in contexts:
        if c not in CONTEXTS:
            raise UnknownNameError(unknown_name_message("lm-eval context", c, list(CONTEXTS)))
    qs = read_questions(questions_path)
    out = Path(out_dir).resolve()
    builder = PromptBuilder(tokenizer=None, style=style or PromptStyle())
    table = qs.table
    tasks = table.column("task").to_pylist() if "task" in table.column_names else [None] * len(qs)
    dims = (table.column("dimension").to_pylist() if "dimension" in table.column_names
            else [None] * len(qs))
    written: dict[str, Any] = {}
    for context in contexts:
        k = CONTEXTS[context]
        histories = history_texts(qs, Path(data_dir), k) if k else [None] * len(qs)
        lines = []
        for i in range(len(qs)):
            doc = {
                "question_id": qs.question_ids[i],
                "user_id": int(qs.user_ids[i]),
                "task": tasks[i],
                "dimension": dims[i],
                "context": context_text(builder, qs.questions[i], qs.options[i], histories[i]),
                "choices": qs.options[i],
                "gold": int(qs.answers[i]),
                "answer": LETTERS[int(qs.answers[i])],
                "uqa_context": context,
            }
            lines.append(json.dumps(doc, ensure_ascii=False))
        name = task_name(context)
        jsonl = write_text("\n".join(lines) + "\n", out / f"{name}.jsonl")
        what = "no user context" if not k else f"the user's last {k} clicks as text"
        yaml = write_text(YAML.format(task=name, what=what, folder=out, data=json.dumps(
            str(jsonl)), questions=json.dumps(str(Path(questions_path).resolve()))),
            out / f"{name}.yaml")
        written[name] = {"yaml": str(yaml), "jsonl": str(jsonl), "docs": len(lines)}
    return {"tasks": written, "include_path": str(out)}
