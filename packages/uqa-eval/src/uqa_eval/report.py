"""Accuracy reports for one run: per sub-task, per dimension and overall.

A report is a JSON-able dict built from ``predictions/eval.arrow`` joined with
``questions/eval.arrow`` on ``question_id``. Dimension and overall accuracies
are micro-averaged over questions, as in the paper's tables; the macro average
over the sub-tasks that have questions is reported beside them. Accuracies are
fractions in JSON and percentages (two decimals) in tables.

Columns always follow the paper's Table 2: DF, MF, Avg. | IP, AP, Avg. |
LI, SI, IT, Avg. | Overall. A sub-task without questions shows as ``-``.
Sub-tasks registered by plugins are appended to their dimension's group.

``report.json`` (schema ``uqa-report/1``)::

    {"schema", "meta": {run, encoder, adapter, baseline, llm, mode, wall_time_s, ...},
     "n_questions", "n_unanswered", "avg_input_tokens", "token_ratio": {"text20": r, ...},
     "metrics": {"acc": "how it was computed", "acc_norm": ...},
     "tasks": {"df": {"dimension", "n", "acc", "acc_norm"}, ...},          # all seven, always
     "dimensions": {"sequence_understanding": {"tasks", "n", "acc", "acc_norm",
                                               "macro_acc", "macro_acc_norm"}, ...},
     "overall": {"n", "acc", "acc_norm", "macro_acc", "macro_acc_norm"}}

A comparison (:func:`compare_runs`, schema ``uqa-comparison/1``) holds the
ordered ``runs`` (each with its group, label, token ratios and full report)
and the shared ``columns``.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from uqa_data.errors import UqaInputError
from uqa_data.io import INT, STRING, read_table, write_bytes, write_json, write_text

from uqa_eval.significance import fmt_difference, fmt_interval, paired_difference, wilson

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

SUBSETS: dict[str, str] = {
    "oracle_informs": "questions the planted-truth oracle vector carries the answer of "
                      "(category, brand and shop questions of df, ap, li, si, it)",
}

METRIC_DESCRIPTIONS: dict[str, str] = {
    "acc": "option with the highest summed log-probability of its text",
    "acc_norm": "option with the highest log-probability per character of its text",
}

MODE_METRIC_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "loglik": METRIC_DESCRIPTIONS,
    "letters": {
        "acc": "option letter with the highest next-token log-probability",
        "acc_norm": "option letter with the highest next-token log-probability",
    },
    "generate": {"acc": "generated answer (stripped) starts with the gold option letter"},
}
"""What ``acc``/``acc_norm`` mean under each answering mode (``meta["mode"]``)."""

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Column:
    """One accuracy column of a report table.

    :param key: a sub-task name, a dimension name or ``"overall"``.
    :param label: the header shown (``DF``, ``Seq. Avg.``, ``Overall``).
    :param kind: ``"task"``, ``"dimension"``, ``"overall"`` or ``"subset"`` (a named
        subset of the questions, :data:`SUBSETS`).
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
    attributes: Sequence[str | None] | None = None,
) -> dict[str, Any]:
    """Aggregate per-question correctness into a report dict.

    Every accuracy comes with its 95% Wilson interval (``ci``, ``ci_norm``).

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
    :param metric_descriptions: how each metric was computed (default: the
        rules of ``meta["mode"]``, else the log-likelihood rules).
    :param attributes: each question's attribute (category, brand...), when known:
        adds ``subsets["oracle_informs"]``, the questions the planted-truth oracle
        vector carries the answer of (:func:`uqa_eval.baselines.oracle_informs`).
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
        out["ci"] = wilson(int(acc[mask].sum()), count)
        out["acc_norm"] = float(norm[mask].mean()) if (count and norm is not None) else None
        out["ci_norm"] = wilson(int(norm[mask].sum()), count) if norm is not None else None
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
            m: dict(
                metric_descriptions
                or MODE_METRIC_DESCRIPTIONS.get(str(meta_out.get("mode")), METRIC_DESCRIPTIONS)
            ).get(m, m)
            for m in metrics
        },
        "tasks": task_report,
        "dimensions": dim_report,
        "overall": overall,
    }
    if attributes is not None:
        from uqa_eval.baselines import oracle_informs

        attrs = list(attributes)
        if len(attrs) != n:
            raise ValueError(f"{len(attrs)} attributes for {n} questions")
        informs = np.asarray([oracle_informs(t, a) for t, a in zip(task_arr, attrs,
                                                                   strict=True)], dtype=bool)
        report["subsets"] = {"oracle_informs": {
            "description": SUBSETS["oracle_informs"], **stats(informs)}}
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


@dataclass
class Verdicts:
    """Each predicted question's facts and correctness, in the predictions' row order."""

    question_ids: list[str]
    tasks: list[str]
    dimensions: list[str] | None
    attributes: list[str | None]
    correct: np.ndarray
    correct_norm: np.ndarray | None
    input_tokens: np.ndarray | None
    n_unanswered: int


def read_verdicts(
    predictions_path: str | os.PathLike[str], questions_path: str | os.PathLike[str]
) -> Verdicts:
    """Join predictions with their questions (see :func:`build_report` for the columns
    and errors)."""
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
    correct = _verdicts(preds, "correct", "prediction", pred_path, rows, answers, options, q_path)
    if correct is None:
        raise UqaInputError(
            f"{pred_path}: has neither a 'correct' (bool) nor a 'prediction' (option letter) "
            f"column; columns present: {', '.join(preds.column_names)}"
        )
    correct_norm = _verdicts(
        preds, "correct_norm", "prediction_norm", pred_path, rows, answers, options, q_path
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
    attrs_all = _column_or_none(questions, "attribute")
    for r in rows:
        if tasks_all[r] is None:
            raise UqaInputError(f"{q_path}: row {r} has a null 'task'; expected a sub-task name")
        if dims_all is not None and dims_all[r] is None:
            if tasks_all[r] not in TASK_DIMENSION:
                raise UqaInputError(f"{q_path}: row {r} has a null 'dimension' for sub-task "
                                    f"'{tasks_all[r]}'")
            dims_all[r] = TASK_DIMENSION[tasks_all[r]]
    return Verdicts(
        question_ids=[str(q) for q in p_ids],
        tasks=[tasks_all[r] for r in rows],
        dimensions=None if dims_all is None else [dims_all[r] for r in rows],
        attributes=[None if attrs_all is None else attrs_all[r] for r in rows],
        correct=correct,
        correct_norm=correct_norm,
        input_tokens=tokens,
        n_unanswered=len(q_ids) - len(p_ids),
    )


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
        ``dimension``, ``attribute``, ``answer`` and ``options`` when present.
    :param meta: run facts copied into the report (see :func:`summarize`).
    :raises UqaInputError: a missing column, an unknown or repeated
        ``question_id``, a null verdict or a letter outside the options, naming
        the file and the first bad row.
    """
    pred_path, q_path = Path(predictions_path), Path(questions_path)
    v = read_verdicts(pred_path, q_path)
    out_meta = {**(meta or {})}
    out_meta.setdefault("predictions", str(pred_path))
    out_meta.setdefault("questions", str(q_path))
    report = summarize(
        v.tasks,
        v.correct,
        correct_norm=v.correct_norm,
        dimensions=v.dimensions,
        input_tokens=v.input_tokens,
        meta=out_meta,
        attributes=v.attributes,
    )
    report["n_unanswered"] = v.n_unanswered
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
    q_path: Path,
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
        if answers[row] not in valid:
            raise UqaInputError(
                f"{q_path}: row {row} (question_id {preds.column('question_id')[i]}): "
                f"answer {answers[row]!r} is not an option letter; expected one of "
                f"{', '.join(valid)}"
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
    v = entry_of(report, column).get(metric)
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def count(report: Mapping[str, Any], column: Column) -> int:
    """Number of questions of ``report`` in ``column``."""
    return int(entry_of(report, column).get("n", 0))


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
    sub = (report.get("subsets") or {}).get("oracle_informs")
    if sub and sub.get("n"):
        ci = sub.get("ci")
        facts.append(("questions the oracle informs",
                      f"{sub['n']}, acc {pct(sub.get('acc'))} {fmt_interval(*ci) if ci else ''}"))
    if meta.get("wall_time_s") is not None:
        facts.append(("wall time", f"{float(meta['wall_time_s']):.1f} s"))
    if meta.get("questions_per_s") is not None:
        facts.append(("answering", f"{float(meta['questions_per_s']):.2f} questions/s"))
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
        table.add_row("  95% CI", *(ci_cell(report, c, m) for c in cols), style="dim")
        if report.get("overall", {}).get(f"macro_{m}") is not None:
            table.add_row(f"macro {m}", *(_macro_cell(report, c, m) for c in cols))
    table.add_row("questions", *(str(count(report, c)) for c in cols), style="dim")
    return table


def entry_of(report: Mapping[str, Any], column: Column) -> Mapping[str, Any]:
    """The report's entry (n, acc, ci...) behind ``column``."""
    if column.kind == "overall":
        return report.get("overall", {})
    if column.kind == "subset":
        return report.get("subsets", {}).get(column.key, {})
    table = "dimensions" if column.kind == "dimension" else "tasks"
    return report.get(table, {}).get(column.key, {})


def ci_cell(report: Mapping[str, Any], column: Column, metric: str = "acc") -> str:
    """The 95% interval of ``metric`` in ``column`` as ``[lo, hi]`` (percent)."""
    ci = entry_of(report, column).get("ci" if metric == "acc" else "ci_norm")
    return fmt_interval(*ci) if ci else "-"


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
        lines.append(f"| {m} 95% CI | " + " | ".join(ci_cell(report, c, m) for c in cols)
                     + " |")
        if report.get("overall", {}).get(f"macro_{m}") is not None:
            lines.append(
                f"| macro {m} | " + " | ".join(_macro_cell(report, c, m) for c in cols) + " |"
            )
    lines.append("| questions | " + " | ".join(str(count(report, c)) for c in cols) + " |")
    lines += ["", "Accuracy in %; dimension averages and Overall are micro-averaged over "
              "questions (as the paper's tables), macro rows average the sub-tasks; "
              "95% CI: Wilson score interval; `-`: no questions of that sub-task.", ""]
    for k, v in _facts(report):
        lines.append(f"- {k}: {md_escape(v)}")
    for m, desc in (report.get("metrics") or {}).items():
        lines.append(f"- {m}: {md_escape(desc)}")
    return "\n".join(lines) + "\n"


def accuracy_png(
    panels: Sequence[tuple[str, Sequence[tuple[str, Sequence[float | None]]]]],
    labels: Sequence[str],
    title: str,
) -> bytes:
    """Grouped bar charts as PNG bytes.

    :param panels: one ``(panel title, series)`` per subplot; each series is
        ``(legend name, one value per label)``; None draws a ``-`` (no questions).
    :param labels: the x groups (sub-tasks, ``Overall``).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    n_series = max(1, max((len(series) for _, series in panels), default=1))
    width = 0.8 / n_series
    fig_w = max(6.0, 0.6 * len(labels) + 0.22 * len(labels) * n_series) + (
        1.8 if n_series > 1 else 0.0
    )
    fig = Figure(figsize=(fig_w, 0.6 + 3.4 * max(1, len(panels))))
    axes = fig.subplots(max(1, len(panels)), 1, squeeze=False)[:, 0]
    x = np.arange(len(labels))
    for ax, (panel_title, series) in zip(axes, panels, strict=False):
        for i, (name, values) in enumerate(series):
            heights = [np.nan if v is None else 100.0 * v for v in values]
            ax.bar(x - 0.4 + width * (i + 0.5), heights, width, label=name)
        for j in range(len(labels)):
            if series and all(values[j] is None for _, values in series):
                ax.text(x[j], 2, "-", ha="center", va="bottom", color="gray")
        ax.set_xticks(x)
        ax.set_xticklabels(labels)
        ax.set_ylabel("accuracy (%)")
        ax.set_ylim(0, 100)
        ax.set_title(panel_title, fontsize="medium")
        ax.grid(axis="y", alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def write_report(report: Mapping[str, Any], report_dir: str | os.PathLike[str]) -> dict[str, str]:
    """Write ``report.json``, ``report.md`` and ``accuracy.png`` atomically into ``report_dir``,
    and ``curves.png`` when the report has training curves (:mod:`uqa_eval.curves`).

    :returns: file kind -> path written.
    """
    out = Path(report_dir)
    cols = [c for c in columns(report) if c.kind in ("task", "overall")]
    series = [(m, [value(report, c, m) for c in cols]) for m in METRICS if has_metric(report, m)]
    png = accuracy_png([("accuracy per sub-task", series)], [c.label for c in cols],
                       f"uqa: {run_name(report)}")
    paths = {
        "json": write_json(dict(report), out / "report.json"),
        "md": write_text(report_markdown(report), out / "report.md"),
        "png": write_bytes(png, out / "accuracy.png"),
    }
    if report.get("curves"):
        from uqa_eval.curves import CURVES_PNG, curves_png

        curves = curves_png(report["curves"], f"uqa: {run_name(report)} training")
        paths["curves"] = write_bytes(curves, out / CURVES_PNG)
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


# ---------------------------------------------------------------------------
# Several runs side by side

COMPARISON_SCHEMA = "uqa-comparison/1"

TEXT_BASELINES: tuple[str, ...] = ("text20", "text50")
CONTROL_BASELINES: tuple[str, ...] = ("none", "random", "shuffled", "oracle")
ENCODER_ORDER: tuple[str, ...] = ("gru4rec", "sasrec", "mamba4rec", "hstu", "trm_plus")
ADAPTER_ORDER: tuple[str, ...] = ("mean_linear", "qformer")
STRATEGY_ORDER: tuple[str, ...] = ("adapter", "lora", "full")
GROUPS: tuple[str, ...] = ("Text-based", "Control", "Emb-based")
"""Row groups in table order: the paper's Table 2 puts text baselines first,
then embedding methods; controls (no context, random, shuffled, oracle) sit between."""

DISPLAY_NAMES: dict[str, str] = {
    "text20": "Text20",
    "text50": "Text50",
    "none": "None (no user)",
    "random": "Random emb.",
    "shuffled": "Shuffled emb.",
    "oracle": "Oracle",
    "gru4rec": "GRU4Rec",
    "sasrec": "SASRec",
    "mamba4rec": "Mamba4Rec",
    "hstu": "HSTU",
    "trm_plus": "Trm++",
}

_RUN_META_KEYS = ("encoder", "adapter", "strategy", "llm", "mode", "baseline", "preset", "seed")
_NOT_RUN_DIRS = frozenset(
    {"report", "raw", "data", "questions", "encoder", "embeddings", "adapter", "predictions"}
)


def is_run_dir(path: str | os.PathLike[str]) -> bool:
    """A run dir holds ``predictions/eval.arrow`` or a run's ``report/report.json``.

    A study's ``report/report.json`` (a comparison) does not make it a run.
    """
    p = Path(path)
    if (p / "predictions" / "eval.arrow").is_file():
        return True
    report = p / "report" / "report.json"
    if not report.is_file():
        return False
    try:
        import json

        with report.open(encoding="utf-8") as fh:
            return json.load(fh).get("schema") == REPORT_SCHEMA
    except (OSError, ValueError, AttributeError):
        return True  # unreadable: let load_report name the problem


def find_runs(paths: Sequence[str | os.PathLike[str]], *, max_depth: int = 3) -> list[Path]:
    """Expand study dirs (folders holding run dirs) into run dirs; a run dir stays itself.

    Inside a study, nested runs (a run's baselines kept inside it) are included.

    :raises UqaInputError: a path that is missing, or holds no run.
    """
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.is_dir():
            raise UqaInputError(f"{p}: not a directory; expected a run or study directory")
        hits = [p] if is_run_dir(p) else _walk_runs(p, max_depth)
        if not hits:
            raise UqaInputError(
                f"{p}: no run found; expected report/report.json or predictions/eval.arrow "
                "in it or in its sub-directories"
            )
        found.extend(h for h in hits if h not in found)
    return found


def _walk_runs(p: Path, depth: int) -> list[Path]:
    hits = [p] if is_run_dir(p) else []
    if depth > 0:
        for child in sorted(c for c in p.iterdir() if c.is_dir()):
            if child.name in _NOT_RUN_DIRS or child.name.startswith("."):
                continue
            hits.extend(_walk_runs(child, depth - 1))
    return hits


def run_meta(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Run facts read from ``run.json``, when present.

    Name, encoder, adapter, strategy, llm, mode, baseline, preset, seed; the
    seconds of each finished stage (``stage_seconds``, summed as
    ``wall_time_s``) and the answering throughput (``questions_per_s``).
    """
    from uqa_data.io import read_json

    p = Path(run_dir)
    meta: dict[str, Any] = {"run": p.name}
    if not (p / "run.json").is_file():
        if p.parent.name == "baselines":  # <run>/baselines/<name>/ (uqa_eval.baselines)
            meta["baseline"] = p.name
            if (p.parent.parent / "run.json").is_file():
                meta.update(_baseline_meta(p))
        return meta
    data = read_json(p / "run.json", what="run.json")
    if isinstance(data, dict) and data.get("name"):
        meta["run"] = str(data["name"])
    if not isinstance(data, dict):
        return meta
    stages = data.get("stages") if isinstance(data.get("stages"), dict) else {}

    def config_of(stage: str) -> Any:
        record = stages.get(stage)
        return record.get("config") if isinstance(record, dict) else None

    # Only this run's own stages: a baseline's stages (eval-none...) describe another method.
    for source in (data, data.get("settings"), config_of("eval"), config_of("align"),
                   config_of("pretrain")):
        if not isinstance(source, dict):
            continue
        for key in _RUN_META_KEYS:
            v = source.get(key)
            if key not in meta and isinstance(v, str | int) and not isinstance(v, bool):
                meta[key] = v
    if stages:
        seconds = {k: v["seconds"] for k, v in stages.items()
                   if isinstance(v, dict) and isinstance(v.get("seconds"), int | float)}
        if seconds:
            meta["stage_seconds"] = seconds
            meta["wall_time_s"] = round(float(sum(seconds.values())), 2)
        summary = (stages.get("eval") or {}).get("summary") if isinstance(
            stages.get("eval"), dict) else None
        if isinstance(summary, dict) and summary.get("questions_per_s") is not None:
            meta["questions_per_s"] = summary["questions_per_s"]
    return meta


def _baseline_meta(baseline_dir: Path) -> dict[str, Any]:
    """Timing of a baseline kept in ``<run>/baselines/<name>/``, from the run's ``run.json``."""
    from uqa_data.io import read_json

    name = baseline_dir.name
    data = read_json(baseline_dir.parent.parent / "run.json", what="run.json")
    stages = data.get("stages") if isinstance(data, dict) else None
    if not isinstance(stages, dict):
        return {"baseline": name}
    meta: dict[str, Any] = {"baseline": name}
    own = [stages.get(f"align-{name}"), stages.get(f"eval-{name}")]
    seconds = [r["seconds"] for r in own
               if isinstance(r, dict) and isinstance(r.get("seconds"), int | float)]
    if seconds:
        meta["wall_time_s"] = round(float(sum(seconds)), 2)
    summary = own[1].get("summary") if isinstance(own[1], dict) else None
    if isinstance(summary, dict) and summary.get("questions_per_s") is not None:
        meta["questions_per_s"] = summary["questions_per_s"]
    return meta


def load_run(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The report of one run: ``report/report.json``, else built from its predictions.

    Questions are looked up in the run's ``questions/eval.arrow``, then up to
    three folders up (a study sharing one question set, a baseline kept in
    ``<run>/baselines/<name>/``).
    """
    p = Path(run_dir)
    if (p / "report" / "report.json").is_file():
        report = load_report(p / "report" / "report.json")
    else:
        predictions = p / "predictions" / "eval.arrow"
        if not predictions.is_file():
            raise UqaInputError(
                f"{p}: not a run directory; expected report/report.json or predictions/eval.arrow"
            )
        questions = questions_of(p)
        if questions is None:
            raise UqaInputError(
                f"{p}: has predictions but no questions file to score them against; "
                f"expected {p / 'questions' / 'eval.arrow'}"
            )
        report = build_report(predictions, questions, run_meta(p))
    meta = report.setdefault("meta", {})
    meta.setdefault("run", p.name)
    for key, v in run_meta(p).items():  # wall time etc. recorded after the report was built
        meta.setdefault(key, v)
    return report


def questions_of(run_dir: Path) -> Path | None:
    """The questions a run's predictions answer: its ``questions/eval.arrow``, else up to
    three folders up (a study sharing one question set, a baseline kept in
    ``<run>/baselines/<name>/``)."""
    candidates = [d / "questions" / "eval.arrow" for d in (run_dir, *list(run_dir.parents)[:3])]
    return next((c for c in candidates if c.is_file()), None)


def run_verdicts(run_dir: str | os.PathLike[str]) -> Verdicts | None:
    """The run's per-question correctness, or None when it has no predictions file."""
    p = Path(run_dir)
    predictions = p / "predictions" / "eval.arrow"
    questions = questions_of(p)
    if not predictions.is_file() or questions is None:
        return None
    return read_verdicts(predictions, questions)


REFERENCE_BASELINES: tuple[str, ...] = ("none", "shuffled", "random")
"""Controls that know nothing of the user: every other run is compared with each."""

DIFFERENCE_COLUMNS: tuple[Column, ...] = (
    *(Column(d, DIMENSION_AVG_LABELS[d], "dimension") for d in DIMENSIONS),
    Column("overall", "Overall", "overall"),
    Column("oracle_informs", "Oracle-informed", "subset"),
)
"""Where paired differences are reported: each dimension, overall, and the questions
the oracle vector can inform."""


def _in_column(v: Verdicts, column: Column) -> np.ndarray:
    """Which of ``v``'s questions count in ``column``."""
    if column.kind == "overall":
        return np.ones(len(v.tasks), dtype=bool)
    if column.kind == "subset":
        from uqa_eval.baselines import oracle_informs

        return np.asarray([oracle_informs(t, a) for t, a in zip(v.tasks, v.attributes,
                                                              strict=True)], dtype=bool)
    dims = v.dimensions or [TASK_DIMENSION.get(t, "") for t in v.tasks]
    return np.asarray([d == column.key for d in dims], dtype=bool)


def paired_differences(subject: Verdicts, reference: Verdicts, metric: str = "acc"
                       ) -> dict[str, Any]:
    """``subject`` minus ``reference`` on the questions both answered, per column of
    :data:`DIFFERENCE_COLUMNS` (see :func:`uqa_eval.significance.paired_difference`)."""
    ref_at = {q: i for i, q in enumerate(reference.question_ids)}
    common = [(i, ref_at[q]) for i, q in enumerate(subject.question_ids) if q in ref_at]
    si = np.asarray([a for a, _ in common], dtype=np.int64)
    ri = np.asarray([b for _, b in common], dtype=np.int64)

    def verdicts(v: Verdicts) -> np.ndarray | None:
        return v.correct if metric == "acc" else v.correct_norm

    a, b = verdicts(subject), verdicts(reference)
    out: dict[str, Any] = {"n": len(common), "columns": {}}
    if a is None or b is None:
        return out
    for column in DIFFERENCE_COLUMNS:
        keep = _in_column(subject, column)[si]
        out["columns"][column.key] = paired_difference(a[si][keep], b[ri][keep])
    return out


def method_of(report: Mapping[str, Any]) -> tuple[str, str, tuple[Any, ...]]:
    """``(group, model label, sort key)`` of a run, from its meta."""
    meta = report.get("meta", {})
    baseline = meta.get("baseline")
    if baseline in (None, "", "embedding") and meta.get("method") in (
        *TEXT_BASELINES, *CONTROL_BASELINES
    ):
        baseline = meta["method"]
    if baseline not in (None, "", "embedding"):
        b = str(baseline)
        if b in TEXT_BASELINES:
            return "Text-based", DISPLAY_NAMES[b], (0, TEXT_BASELINES.index(b))
        order = CONTROL_BASELINES.index(b) if b in CONTROL_BASELINES else len(CONTROL_BASELINES)
        return "Control", DISPLAY_NAMES.get(b, b), (1, order, b)
    encoder = str(meta.get("encoder") or meta.get("method") or run_name(report))
    adapter = str(meta.get("adapter") or "")
    strategy = str(meta.get("strategy") or "")

    def rank(order: tuple[str, ...], name: str) -> tuple[int, str]:
        return (order.index(name), "") if name in order else (len(order), name)

    key = (2, *rank(ENCODER_ORDER, encoder), *rank(ADAPTER_ORDER, adapter),
           *rank(STRATEGY_ORDER, strategy))
    return "Emb-based", DISPLAY_NAMES.get(encoder, encoder), key


def compare_runs(run_dirs: Sequence[str | os.PathLike[str]]) -> dict[str, Any]:
    """Several runs side by side, ordered like the paper's Table 2.

    :param run_dirs: run directories (each with ``report/report.json`` or
        predictions + questions to build it from).
    :returns: ``{"schema", "columns", "reference_tokens", "runs": [{"run_dir",
        "name", "group", "label", "token_ratio", "report"}]}``; token ratios are
        against the text20/text50 runs among them (or the reports' own).
    """
    if not run_dirs:
        raise UqaInputError("no runs to compare; give at least one run directory")
    rows = []
    for d in run_dirs:
        report = load_run(d)
        group, label, key = method_of(report)
        rows.append({"run_dir": str(d), "name": run_name(report), "group": group,
                     "label": label, "_key": key, "report": report})
    rows.sort(key=lambda r: (r["_key"], r["name"]))
    _disambiguate(rows)
    reference = {}
    for r in rows:
        base = r["report"].get("meta", {}).get("baseline") or r["report"].get("meta", {}).get(
            "method")
        tokens = r["report"].get("avg_input_tokens")
        if base in TEXT_BASELINES and tokens and base not in reference:
            reference[base] = float(tokens)
    for r in rows:
        r.pop("_key")
        own = dict(r["report"].get("token_ratio") or {})
        own.update(token_ratios(r["report"].get("avg_input_tokens"), reference))
        r["token_ratio"] = own
    tasks: dict[str, Any] = {}
    dims: dict[str, Any] = {}
    for r in rows:
        tasks.update(r["report"].get("tasks", {}))
        dims.update(r["report"].get("dimensions", {}))
    cols = columns_for(tasks, dims)
    return {
        "schema": COMPARISON_SCHEMA,
        "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in cols],
        "reference_tokens": reference,
        "runs": rows,
        "differences": _differences(rows),
    }


def _baseline_of(row: Mapping[str, Any]) -> str | None:
    meta = row["report"].get("meta", {})
    return meta.get("baseline") or (meta.get("method") if meta.get("method") in (
        *TEXT_BASELINES, *CONTROL_BASELINES) else None)


def _differences(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every run against each reference control (``none``, ``shuffled``, ``random``) among
    the rows, paired over the questions both answered, for each metric both have."""
    verdicts = {r["run_dir"]: run_verdicts(r["run_dir"]) for r in rows}
    refs = [r for r in rows if _baseline_of(r) in REFERENCE_BASELINES
            and verdicts[r["run_dir"]] is not None]
    out = []
    for subject in rows:
        sv = verdicts[subject["run_dir"]]
        if sv is None or _baseline_of(subject) in REFERENCE_BASELINES:
            continue
        for ref in refs:
            for metric in METRICS:
                d = paired_differences(sv, verdicts[ref["run_dir"]], metric)
                if not d["columns"] or not d["n"]:
                    continue
                out.append({"subject": subject["label"], "subject_run": subject["name"],
                            "reference": ref["label"], "reference_run": ref["name"],
                            "metric": metric, **d})
    return out


def _disambiguate(rows: list[dict[str, Any]]) -> None:
    """Make model labels unique: add adapter/strategy, then the run name."""
    def clashes() -> set[str]:
        labels = [r["label"] for r in rows]
        return {x for x in labels if labels.count(x) > 1}

    dup = clashes()
    for r in rows:
        if r["label"] in dup and r["group"] == "Emb-based":
            meta = r["report"].get("meta", {})
            extra = "/".join(str(meta[k]) for k in ("adapter", "strategy") if meta.get(k))
            if extra:
                r["label"] = f"{r['label']} ({extra})"
    dup = clashes()
    for r in rows:
        if r["label"] in dup:
            r["label"] = f"{r['label']} [{r['name']}]"


def _comparison_columns(comparison: Mapping[str, Any]) -> list[Column]:
    return [Column(c["key"], c["label"], c["kind"]) for c in comparison["columns"]]


def _best(values: Sequence[float | None], lowest: bool = False) -> set[int]:
    """Indices of the best value (ties included); empty when fewer than two values."""
    present = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(present) < 2:
        return set()
    target = (min if lowest else max)(v for _, v in present)
    return {i for i, v in present if math.isclose(v, target, rel_tol=0, abs_tol=1e-12)}


def comparison_metrics(comparison: Mapping[str, Any]) -> list[str]:
    """The metrics at least one run of ``comparison`` reports."""
    return [m for m in METRICS if any(has_metric(r["report"], m) for r in comparison["runs"])]


def _token_cells(comparison: Mapping[str, Any]) -> tuple[list[str], list[list[str]], list[set]]:
    """Headers, cells per run and bold sets for the token columns."""
    runs = comparison["runs"]
    tokens = [r["report"].get("avg_input_tokens") for r in runs]
    if all(t is None for t in tokens):
        return [], [[] for _ in runs], []
    headers = ["Tokens"]
    cols: list[list[float | None]] = [tokens]
    for ref in comparison.get("reference_tokens") or {}:
        headers.append(f"x {DISPLAY_NAMES.get(ref, ref)}")
        cols.append([r["token_ratio"].get(ref) for r in runs])
    cells = [
        [("-" if col[i] is None else (f"{col[i]:.1f}" if j == 0 else f"{col[i]:.3f}"))
         for j, col in enumerate(cols)]
        for i in range(len(runs))
    ]
    return headers, cells, [_best(col, lowest=True) for col in cols]


def comparison_markdown(comparison: Mapping[str, Any]) -> str:
    """Markdown tables (one per metric), best value per column in bold, pasteable into a paper."""
    cols = _comparison_columns(comparison)
    runs = comparison["runs"]
    tok_headers = _token_cells(comparison)[0]
    lines = ["# uqa comparison", ""]
    for m in comparison_metrics(comparison):
        desc = next((r["report"].get("metrics", {}).get(m) for r in runs
                     if r["report"].get("metrics", {}).get(m)), m)
        lines += [f"## {m}: {md_escape(desc)}", ""]
        header = ["Method", "Model", *(c.label for c in cols), *tok_headers]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|---|---|" + "|".join("---:" for _ in header[2:]) + "|")
        for group, label, cells in _comparison_rows(comparison, m, lambda t: f"**{t}**"):
            lines.append(f"| {group} | {md_escape(label)} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append("Accuracy in %, micro-averaged over questions for the averages and Overall "
                 "(as the paper's Table 2); best value per column in bold; `-`: no questions. "
                 "Tokens: average LLM input tokens per question.")
    lines.append("")
    lines += differences_markdown(comparison)
    lines.append("| Model | Run | Questions | LLM | Wall time (s) | Questions/s | Directory |")
    lines.append("|---|---|---:|---|---:|---:|---|")
    for r in runs:
        meta = r["report"].get("meta", {})
        wall = meta.get("wall_time_s")
        qps = meta.get("questions_per_s")
        lines.append(
            f"| {md_escape(r['label'])} | {md_escape(r['name'])} | "
            f"{r['report'].get('n_questions', 0)} | {md_escape(meta.get('llm', '-'))} | "
            f"{'-' if wall is None else f'{float(wall):.1f}'} | "
            f"{'-' if qps is None else f'{float(qps):.2f}'} | {md_escape(r['run_dir'])} |"
        )
    return "\n".join(lines) + "\n"


def _difference_cells(d: Mapping[str, Any], mark: Callable[[str], str]) -> list[str]:
    cells = []
    for c in DIFFERENCE_COLUMNS:
        x = d["columns"].get(c.key, {})
        text = fmt_difference(x)
        cells.append(mark(text + " *") if x.get("signal") else text)
    return cells


def differences_markdown(comparison: Mapping[str, Any], metric: str = "acc") -> list[str]:
    """Markdown lines: each run minus each no-user control, paired over the same questions."""
    diffs = [d for d in comparison.get("differences") or [] if d["metric"] == metric]
    if not diffs:
        return []
    lines = [f"## Is it signal? {metric} differences from the controls", "",
             "| Run | Control | Questions | " + " | ".join(c.label for c in DIFFERENCE_COLUMNS)
             + " |", "|---|---|---:|" + "|".join("---:" for _ in DIFFERENCE_COLUMNS) + "|"]
    for d in diffs:
        lines.append(f"| {md_escape(d['subject'])} | {md_escape(d['reference'])} | {d['n']} | "
                     + " | ".join(_difference_cells(d, lambda t: f"**{t}**")) + " |")
    lines += ["", "Points of accuracy, the run minus the control on the same questions, with "
              "the 95% paired-bootstrap interval; `*` (bold): the interval excludes zero, the "
              "difference is signal. Exact McNemar p-values are in report.json. "
              "Oracle-informed: " + SUBSETS["oracle_informs"] + ".", ""]
    return lines


def differences_table(comparison: Mapping[str, Any], metric: str = "acc") -> Table | None:
    """A rich table of :func:`differences_markdown`'s rows (None when there are none)."""
    from rich.table import Table

    diffs = [d for d in comparison.get("differences") or [] if d["metric"] == metric]
    if not diffs:
        return None
    table = Table(title=f"is it signal? {metric} minus each control, points "
                        "[95% paired bootstrap], * = interval excludes zero")
    table.add_column("Run", style="bold")
    table.add_column("Control")
    table.add_column("n", justify="right")
    for c in DIFFERENCE_COLUMNS:
        table.add_column(c.label, justify="right")
    for d in diffs:
        table.add_row(d["subject"], d["reference"], str(d["n"]),
                      *_difference_cells(d, lambda t: f"[bold green]{t}[/]"))
    return table


def comparison_tables(comparison: Mapping[str, Any], metric: str | None = None) -> list[Table]:
    """The accuracy table, then (when there are controls) the differences table."""
    tables = [comparison_table(comparison, metric)]
    diffs = differences_table(comparison, metric or "acc")
    return tables + ([diffs] if diffs is not None else [])


def comparison_table(comparison: Mapping[str, Any], metric: str | None = None) -> Table:
    """A rich table, one row per run; best value per column in bold green."""
    from rich.table import Table

    cols = _comparison_columns(comparison)
    metrics = comparison_metrics(comparison)
    m = metric or (metrics[0] if metrics else "acc")
    tok_headers = _token_cells(comparison)[0]
    table = Table(title=f"uqa comparison ({m}, %)")
    table.add_column("Method")
    table.add_column("Model", style="bold")
    for c in cols:
        table.add_column(c.label, justify="right")
    for h in tok_headers:
        table.add_column(h, justify="right")
    for group, label, cells in _comparison_rows(comparison, m, lambda t: f"[bold green]{t}[/]"):
        table.add_row(group, label, *cells, end_section=False)
    return table


def _comparison_rows(
    comparison: Mapping[str, Any], metric: str, mark: Callable[[str], str]
) -> list[tuple[str, str, list[str]]]:
    """``(method group, model label, cells)`` per run; ``mark`` wraps each column's best."""
    cols = _comparison_columns(comparison)
    runs = comparison["runs"]
    _, tok_cells, tok_best = _token_cells(comparison)
    best = [_best([value(r["report"], c, metric) for r in runs]) for c in cols]
    rows = []
    previous_group = None
    for i, r in enumerate(runs):
        texts = [pct(value(r["report"], c, metric)) for c in cols]
        cells = [mark(t) if i in best[j] else t for j, t in enumerate(texts)]
        cells += [mark(t) if i in tok_best[j] else t for j, t in enumerate(tok_cells[i])]
        group = r["group"] if r["group"] != previous_group else ""
        previous_group = r["group"]
        rows.append((group, r["label"], cells))
    return rows


def write_comparison(
    comparison: Mapping[str, Any], out_dir: str | os.PathLike[str]
) -> dict[str, str]:
    """Write ``report.json``, ``report.md`` and ``accuracy.png`` of a comparison, atomically."""
    out = Path(out_dir)
    cols = [c for c in _comparison_columns(comparison) if c.kind in ("task", "overall")]
    runs = comparison["runs"]
    panels = [
        (m, [(r["label"], [value(r["report"], c, m) for c in cols]) for r in runs])
        for m in comparison_metrics(comparison)
    ]
    png = accuracy_png(panels, [c.label for c in cols], "uqa: accuracy per sub-task")
    paths = {
        "json": write_json(dict(comparison), out / "report.json"),
        "md": write_text(comparison_markdown(comparison), out / "report.md"),
        "png": write_bytes(png, out / "accuracy.png"),
    }
    return {k: str(v) for k, v in paths.items()}


def load_comparison(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a comparison ``report.json`` written by :func:`write_comparison`."""
    from uqa_data.io import read_json

    data = read_json(path, what="comparison file")
    if not isinstance(data, dict) or data.get("schema") != COMPARISON_SCHEMA:
        raise UqaInputError(f"{path}: not a uqa comparison (schema '{COMPARISON_SCHEMA}')")
    return data


def print_table(table: Table, console: Any = None) -> None:
    """Print ``table`` to stdout (or ``console``), widening a non-terminal console to fit it.

    Rich assumes 80 columns when output is piped, which would cut a 13-column table.
    """
    from rich.console import Console

    out = console or Console()
    if out.is_terminal:
        out.print(table)
        return
    saved = out.width
    wide = out.options.update_width(1000)
    out.width = max(saved, out.measure(table, options=wide).maximum)
    try:
        out.print(table)
    finally:
        out.width = saved
