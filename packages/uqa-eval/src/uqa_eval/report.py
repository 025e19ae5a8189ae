"""Accuracy reports for one run: per sub-task, per dimension and overall.

A report is a JSON-able dict built from ``predictions/eval.arrow`` joined with
``questions/eval.arrow`` on ``question_id``. Dimension and overall accuracies
are micro-averaged over questions, as in the paper's tables; the macro average
over the sub-tasks that have questions is reported beside them. Accuracies are
fractions in JSON and percentages (two decimals) in tables.

Columns always follow the paper's Table 2: DF, MF, Avg. | IP, AP, Avg. |
LI, SI, IT, Avg. | Overall. A sub-task without questions shows as ``-``.
Sub-tasks registered by plugins are appended to their dimension's group.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from uqa_data.errors import UqaInputError
from uqa_data.io import INT, STRING, read_table, write_bytes, write_json, write_text

if TYPE_CHECKING:
    from rich.table import Table

REPORT_SCHEMA = "uqa-report/1"

TASKS: tuple[str, ...] = ("df", "mf", "ip", "ap", "li", "si", "it")
"""The seven UQABench sub-tasks in the paper's column order."""

DIMENSIONS: tuple[str, ...] = (
    "sequence_understanding",
    "action_prediction",
    "interest_perception",
)
"""The three dimensions in the paper's column order."""

TASK_DIMENSION: dict[str, str] = {
    "df": "sequence_understanding",
    "mf": "sequence_understanding",
    "ip": "action_prediction",
    "ap": "action_prediction",
    "li": "interest_perception",
    "si": "interest_perception",
    "it": "interest_perception",
}

DIMENSION_LABELS: dict[str, str] = {
    "sequence_understanding": "Sequence understanding",
    "action_prediction": "Action prediction",
    "interest_perception": "Interest perception",
}

DIMENSION_AVG_LABELS: dict[str, str] = {
    "sequence_understanding": "Seq. Avg.",
    "action_prediction": "Act. Avg.",
    "interest_perception": "Int. Avg.",
}

METRICS: tuple[str, ...] = ("acc", "acc_norm")

METRIC_DESCRIPTIONS: dict[str, str] = {
    "acc": "option with the highest summed log-probability of its text",
    "acc_norm": "option with the highest log-probability per character of its text",
}

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Column:
    """One accuracy column of a report table.

    :param key: a sub-task name, a dimension name or ``"overall"``.
    :param label: the header shown (``DF``, ``Seq. Avg.``, ``Overall``).
    :param kind: ``"task"``, ``"dimension"`` or ``"overall"``.
    """

    key: str
    label: str
    kind: str


# ---------------------------------------------------------------------------
# Building


def summarize(
    tasks: Sequence[str],
    correct: Sequence[bool] | np.ndarray,
    *,
    correct_norm: Sequence[bool] | np.ndarray | None = None,
    dimensions: Sequence[str] | None = None,
    input_tokens: Sequence[float] | np.ndarray | None = None,
    meta: Mapping[str, Any] | None = None,
    metric_descriptions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Aggregate per-question correctness into a report dict.

    :param tasks: the sub-task of each question.
    :param correct: whether each question was answered correctly (``acc``).
    :param correct_norm: the same under the ``acc_norm`` rule, or None when the
        answering mode has no such rule (generation).
    :param dimensions: each question's dimension; defaults to the paper's
        mapping, which then must know every task.
    :param input_tokens: the LLM input tokens of each question, when known.
    :param meta: run facts copied into the report (run, encoder, adapter,
        baseline, llm, wall_time_s...). ``reference_tokens`` (a mapping
        ``{"text20": avg_tokens, ...}``) adds token ratios.
    :param metric_descriptions: how each metric was computed (defaults to the
        log-likelihood rules).
    :returns: the report dict (see the module docstring).
    """
    task_arr = np.asarray([str(t) for t in tasks], dtype=object)
    n = len(task_arr)
    acc = np.asarray(correct, dtype=bool).reshape(-1)
    if len(acc) != n:
        raise ValueError(f"{len(acc)} correctness values for {n} questions")
    norm = None if correct_norm is None else np.asarray(correct_norm, dtype=bool).reshape(-1)
    if norm is not None and len(norm) != n:
        raise ValueError(f"{len(norm)} acc_norm values for {n} questions")
    if dimensions is None:
        unknown = sorted({t for t in task_arr if t not in TASK_DIMENSION})
        if unknown:
            raise UqaInputError(
                f"sub-task(s) {', '.join(unknown)} have no known dimension; "
                f"expected one of {', '.join(TASKS)} or a 'dimension' column"
            )
        dim_arr = np.asarray([TASK_DIMENSION[t] for t in task_arr], dtype=object)
    else:
        dim_arr = np.asarray([str(d) for d in dimensions], dtype=object)
        if len(dim_arr) != n:
            raise ValueError(f"{len(dim_arr)} dimensions for {n} questions")
    metrics = ("acc", "acc_norm") if norm is not None else ("acc",)

    def stats(mask: np.ndarray) -> dict[str, Any]:
        count = int(mask.sum())
        out: dict[str, Any] = {"n": count}
        out["acc"] = float(acc[mask].mean()) if count else None
        out["acc_norm"] = float(norm[mask].mean()) if (count and norm is not None) else None
        return out

    task_dims: dict[str, str] = dict(TASK_DIMENSION)
    for t, d in zip(task_arr, dim_arr, strict=True):
        if t in TASK_DIMENSION and TASK_DIMENSION[t] != d:
            raise UqaInputError(
                f"sub-task '{t}' is listed under dimension '{d}'; "
                f"expected '{TASK_DIMENSION[t]}'"
            )
        task_dims.setdefault(t, d)
    task_names = list(TASKS) + sorted(t for t in task_dims if t not in TASKS)
    dim_names = list(DIMENSIONS) + sorted({d for d in task_dims.values()} - set(DIMENSIONS))

    task_report = {
        t: {"dimension": task_dims[t], **stats(task_arr == t)} for t in task_names
    }
    dim_report: dict[str, Any] = {}
    for d in dim_names:
        members = [t for t in task_names if task_dims[t] == d]
        entry = {"tasks": members, **stats(dim_arr == d)}
        entry.update(_macro(task_report, members, metrics))
        dim_report[d] = entry
    overall = {**stats(np.ones(n, dtype=bool)), **_macro(task_report, task_names, metrics)}

    tokens_avg = None
    if input_tokens is not None:
        tok = np.asarray(input_tokens, dtype=np.float64).reshape(-1)
        if len(tok) != n:
            raise ValueError(f"{len(tok)} token counts for {n} questions")
        tokens_avg = float(tok.mean()) if n else None

    meta_out = dict(meta or {})
    report: dict[str, Any] = {
        "schema": REPORT_SCHEMA,
        "meta": meta_out,
        "n_questions": n,
        "avg_input_tokens": tokens_avg,
        "token_ratio": token_ratios(tokens_avg, meta_out.get("reference_tokens") or {}),
        "metrics": {
            m: dict(metric_descriptions or METRIC_DESCRIPTIONS).get(m, m) for m in metrics
        },
        "tasks": task_report,
        "dimensions": dim_report,
        "overall": overall,
    }
    return report


def _macro(task_report: Mapping[str, Any], members: Sequence[str], metrics: Sequence[str]) -> dict:
    out: dict[str, Any] = {}
    for m in METRICS:
        values = [task_report[t][m] for t in members if task_report[t][m] is not None]
        out[f"macro_{m}"] = float(np.mean(values)) if (values and m in metrics) else None
    return out


def token_ratios(avg_tokens: float | None, reference: Mapping[str, Any]) -> dict[str, float]:
    """``avg_tokens`` divided by each reference's average tokens (``{"text20": 0.08}``)."""
    if avg_tokens is None:
        return {}
    return {
        name: float(avg_tokens) / float(ref)
        for name, ref in reference.items()
        if ref is not None and float(ref) > 0
    }


def build_report(
    predictions_path: str | os.PathLike[str],
    questions_path: str | os.PathLike[str],
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Join predictions with their questions and aggregate accuracy.

    :param predictions_path: ``predictions/eval.arrow``: ``question_id`` plus
        ``correct`` (bool) or ``prediction`` (option letter); optionally
        ``correct_norm`` or ``prediction_norm``, and ``input_tokens``.
    :param questions_path: ``questions/eval.arrow``: ``question_id``, ``task``;
        ``dimension``, ``answer`` and ``options`` when present.
    :param meta: run facts copied into the report (see :func:`summarize`).
    :raises UqaInputError: a missing column, an unknown or repeated
        ``question_id``, a null verdict or a letter outside the options, naming
        the file and the first bad row.
    """
    pred_path, q_path = Path(predictions_path), Path(questions_path)
    preds = read_table(
        pred_path, {"question_id": (STRING, "string")}, what="predictions file", allow_empty=False
    )
    questions = read_table(
        q_path,
        {"question_id": (STRING, "string"), "task": (STRING, "string")},
        what="questions file",
    )
    q_ids = questions.column("question_id").to_pylist()
    index: dict[str, int] = {}
    for row, qid in enumerate(q_ids):
        if qid in index:
            raise UqaInputError(f"{q_path}: question_id '{qid}' appears twice (rows {index[qid]} "
                                f"and {row}); question ids must be unique")
        index[qid] = row
    p_ids = preds.column("question_id").to_pylist()
    seen: dict[str, int] = {}
    rows = np.empty(len(p_ids), dtype=np.int64)
    for i, qid in enumerate(p_ids):
        if qid is None:
            raise UqaInputError(f"{pred_path}: row {i} has a null question_id")
        if qid in seen:
            raise UqaInputError(
                f"{pred_path}: question_id '{qid}' is predicted twice (rows {seen[qid]} and {i})"
            )
        seen[qid] = i
        if qid not in index:
            raise UqaInputError(
                f"{pred_path}: row {i}: question_id '{qid}' is not in the questions file {q_path}"
            )
        rows[i] = index[qid]

    answers = _column_or_none(questions, "answer")
    options = _column_or_none(questions, "options")
    correct = _verdicts(preds, "correct", "prediction", pred_path, rows, answers, options)
    if correct is None:
        raise UqaInputError(
            f"{pred_path}: has neither a 'correct' (bool) nor a 'prediction' (option letter) "
            f"column; columns present: {', '.join(preds.column_names)}"
        )
    correct_norm = _verdicts(
        preds, "correct_norm", "prediction_norm", pred_path, rows, answers, options
    )
    tokens = None
    if "input_tokens" in preds.column_names:
        col = preds.column("input_tokens")
        if not INT(col.type) or col.null_count:
            raise UqaInputError(
                f"{pred_path}: column 'input_tokens' has type {col.type}"
                f"{' with nulls' if col.null_count else ''}; expected non-null integers"
            )
        tokens = col.to_numpy()

    tasks_all = questions.column("task").to_pylist()
    dims_all = _column_or_none(questions, "dimension")
    out_meta = {**(meta or {})}
    out_meta.setdefault("predictions", str(pred_path))
    out_meta.setdefault("questions", str(q_path))
    report = summarize(
        [tasks_all[r] for r in rows],
        correct,
        correct_norm=correct_norm,
        dimensions=None if dims_all is None else [dims_all[r] for r in rows],
        input_tokens=tokens,
        meta=out_meta,
    )
    report["n_unanswered"] = len(q_ids) - len(p_ids)
    return report


def _column_or_none(table: pa.Table, name: str) -> list[Any] | None:
    return table.column(name).to_pylist() if name in table.column_names else None


def _verdicts(
    preds: pa.Table,
    bool_col: str,
    letter_col: str,
    path: Path,
    rows: np.ndarray,
    answers: list[Any] | None,
    options: list[Any] | None,
) -> np.ndarray | None:
    """Per-question correctness from ``bool_col``, else by comparing ``letter_col`` to answers."""
    names = preds.column_names
    if bool_col in names:
        col = preds.column(bool_col)
        if not pa.types.is_boolean(col.type):
            raise UqaInputError(f"{path}: column '{bool_col}' has type {col.type}; expected bool")
        values = col.to_pylist()
        for i, v in enumerate(values):
            if v is None:
                raise UqaInputError(f"{path}: row {i}: '{bool_col}' is null; expected true/false")
        return np.asarray(values, dtype=bool)
    if letter_col not in names:
        return None
    if answers is None:
        raise UqaInputError(
            f"{path}: has '{letter_col}' but no '{bool_col}' column, and the questions file "
            "has no 'answer' column to score it against"
        )
    letters = preds.column(letter_col).to_pylist()
    out = np.zeros(len(letters), dtype=bool)
    for i, (letter, row) in enumerate(zip(letters, rows, strict=True)):
        n_opt = len(options[row]) if options is not None and options[row] is not None else 26
        valid = LETTERS[:n_opt]
        if not isinstance(letter, str) or letter not in valid:
            raise UqaInputError(
                f"{path}: row {i}: {letter_col} {letter!r} is not an option letter; "
                f"expected one of {', '.join(valid)}"
            )
        out[i] = letter == answers[row]
    return out


# ---------------------------------------------------------------------------
# Layout and formatting


def columns(report: Mapping[str, Any]) -> list[Column]:
    """The accuracy columns of ``report`` in the paper's order."""
    return columns_for(report.get("tasks", {}), report.get("dimensions", {}))


def columns_for(tasks: Mapping[str, Any], dimensions: Mapping[str, Any]) -> list[Column]:
    """Columns for the given task and dimension tables (possibly merged over runs)."""
    dims = list(DIMENSIONS) + sorted(d for d in dimensions if d not in DIMENSIONS)
    out: list[Column] = []
    for d in dims:
        members = [t for t in TASKS if TASK_DIMENSION[t] == d] + sorted(
            t for t, info in tasks.items()
            if t not in TASK_DIMENSION and info.get("dimension") == d
        )
        out.extend(Column(t, t.upper(), "task") for t in members)
        label = DIMENSION_AVG_LABELS.get(d, f"{d.replace('_', ' ').capitalize()} Avg.")
        out.append(Column(d, label, "dimension"))
    out.append(Column("overall", "Overall", "overall"))
    return out


def value(report: Mapping[str, Any], column: Column, metric: str = "acc") -> float | None:
    """The ``metric`` accuracy of ``report`` in ``column`` (None when it has no questions)."""
    if column.kind == "overall":
        entry = report.get("overall", {})
    elif column.kind == "dimension":
        entry = report.get("dimensions", {}).get(column.key, {})
    else:
        entry = report.get("tasks", {}).get(column.key, {})
    v = entry.get(metric)
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def count(report: Mapping[str, Any], column: Column) -> int:
    """Number of questions of ``report`` in ``column``."""
    if column.kind == "overall":
        return int(report.get("overall", {}).get("n", 0))
    table = "dimensions" if column.kind == "dimension" else "tasks"
    return int(report.get(table, {}).get(column.key, {}).get("n", 0))


def pct(v: float | None) -> str:
    """``0.3825 -> "38.25"``; None -> ``"-"``."""
    return "-" if v is None else f"{100.0 * v:.2f}"


def has_metric(report: Mapping[str, Any], metric: str) -> bool:
    return report.get("overall", {}).get(metric) is not None


def run_name(report: Mapping[str, Any]) -> str:
    meta = report.get("meta", {})
    return str(meta.get("run") or meta.get("name") or "run")


def _facts(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    meta = report.get("meta", {})
    facts: list[tuple[str, str]] = [("questions", str(report.get("n_questions", 0)))]
    if report.get("n_unanswered"):
        facts.append(("questions without a prediction", str(report["n_unanswered"])))
    if report.get("avg_input_tokens") is not None:
        facts.append(("avg. input tokens / question", f"{report['avg_input_tokens']:.1f}"))
    for ref, ratio in (report.get("token_ratio") or {}).items():
        shown = f"{ratio:.3f}x ({1 / ratio:.1f}x fewer)" if ratio else "-"
        facts.append((f"tokens vs {ref}", shown))
    if meta.get("wall_time_s") is not None:
        facts.append(("wall time", f"{float(meta['wall_time_s']):.1f} s"))
    for key in ("encoder", "adapter", "strategy", "baseline", "llm", "mode", "source"):
        if meta.get(key) not in (None, ""):
            facts.append((key, str(meta[key])))
    return facts


# ---------------------------------------------------------------------------
# Rendering one report


def report_table(report: Mapping[str, Any], title: str | None = None) -> Table:
    """A rich table: one row per metric, columns in the paper's order."""
    from rich.table import Table

    cols = columns(report)
    caption = "; ".join(f"{k}: {v}" for k, v in _facts(report))
    table = Table(title=title or f"uqa report: {run_name(report)}", caption=caption)
    table.add_column("metric", style="bold")
    for c in cols:
        style = "bold" if c.kind != "task" else None
        table.add_column(c.label, justify="right", style=style)
    for m in METRICS:
        if not has_metric(report, m):
            continue
        table.add_row(m, *(pct(value(report, c, m)) for c in cols))
        if report.get("overall", {}).get(f"macro_{m}") is not None:
            table.add_row(f"macro {m}", *(_macro_cell(report, c, m) for c in cols))
    table.add_row("questions", *(str(count(report, c)) for c in cols), style="dim")
    return table


def _macro_cell(report: Mapping[str, Any], column: Column, metric: str) -> str:
    if column.kind == "task":
        return ""
    entry = (
        report.get("overall", {})
        if column.kind == "overall"
        else report.get("dimensions", {}).get(column.key, {})
    )
    return pct(entry.get(f"macro_{metric}"))


def md_escape(text: str) -> str:
    return str(text).replace("|", "\\|")


def report_markdown(report: Mapping[str, Any]) -> str:
    """Markdown of one report: the accuracy table and the run's facts."""
    cols = columns(report)
    lines = [f"# uqa report: {md_escape(run_name(report))}", ""]
    lines.append("| Metric | " + " | ".join(c.label for c in cols) + " |")
    lines.append("|---|" + "|".join("---:" for _ in cols) + "|")
    for m in METRICS:
        if not has_metric(report, m):
            continue
        lines.append(f"| {m} | " + " | ".join(pct(value(report, c, m)) for c in cols) + " |")
        if report.get("overall", {}).get(f"macro_{m}") is not None:
            lines.append(
                f"| macro {m} | " + " | ".join(_macro_cell(report, c, m) for c in cols) + " |"
            )
    lines.append("| questions | " + " | ".join(str(count(report, c)) for c in cols) + " |")
    lines += ["", "Accuracy in %; dimension averages and Overall are micro-averaged over "
              "questions (as the paper's tables), macro rows average the sub-tasks; "
              "`-`: no questions of that sub-task.", ""]
    for k, v in _facts(report):
        lines.append(f"- {k}: {md_escape(v)}")
    for m, desc in (report.get("metrics") or {}).items():
        lines.append(f"- {m}: {md_escape(desc)}")
    return "\n".join(lines) + "\n"


def accuracy_png(
    series: Sequence[tuple[str, Sequence[float | None]]],
    labels: Sequence[str],
    title: str,
) -> bytes:
    """A grouped bar chart (one group per label, one bar per series) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    n_series = max(1, len(series))
    width = 0.8 / n_series
    fig = Figure(figsize=(max(6.0, 0.9 * len(labels) + 0.25 * len(labels) * n_series), 4.2))
    ax = fig.subplots()
    x = np.arange(len(labels))
    for i, (name, values) in enumerate(series):
        heights = [np.nan if v is None else 100.0 * v for v in values]
        ax.bar(x - 0.4 + width * (i + 0.5), heights, width, label=name)
    ax.set_xticks(x)
    ax.set_xticklabels(labels)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize="small", ncols=min(4, len(series)))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def write_report(report: Mapping[str, Any], report_dir: str | os.PathLike[str]) -> dict[str, str]:
    """Write ``report.json``, ``report.md`` and ``accuracy.png`` atomically into ``report_dir``.

    :returns: file kind -> path written.
    """
    out = Path(report_dir)
    cols = [c for c in columns(report) if c.kind in ("task", "overall")]
    series = [(m, [value(report, c, m) for c in cols]) for m in METRICS if has_metric(report, m)]
    png = accuracy_png(series, [c.label for c in cols], f"uqa: {run_name(report)}")
    paths = {
        "json": write_json(dict(report), out / "report.json"),
        "md": write_text(report_markdown(report), out / "report.md"),
        "png": write_bytes(png, out / "accuracy.png"),
    }
    return {k: str(v) for k, v in paths.items()}


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``report.json`` and check it is a uqa report."""
    from uqa_data.io import read_json

    p = Path(path)
    data = read_json(p, what="report file")
    if not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA:
        raise UqaInputError(
            f"{p}: not a uqa report (expected a JSON object with schema '{REPORT_SCHEMA}')"
        )
    return data
