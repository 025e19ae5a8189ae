"""Reports as Markdown, rich tables and PNG bar charts: one run, or several side by side.

Columns always follow the paper's Table 2: DF, MF, Avg. | IP, AP, Avg. | LI, SI, IT,
Avg. | Overall (a sub-task without questions shows as ``-``; plugin sub-tasks join
their dimension's group). Accuracies are percentages with two decimals here,
fractions in JSON. Every write is atomic (:mod:`uqa_data.io`).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from uqa_data.errors import UqaInputError
from uqa_data.io import write_bytes, write_json, write_text

from uqa_eval.report.aggregate import (
    ATTRIBUTE_COLUMNS,
    CI_KEYS,
    DIFFERENCE_COLUMNS,
    METRICS,
    REPORT_SCHEMA,
    SUBSETS,
    Column,
    columns,
    count,
    entry_of,
    has_metric,
    run_name,
    value,
)
from uqa_eval.significance import fmt_difference, fmt_interval

if TYPE_CHECKING:
    from rich.table import Table

# ---------------------------------------------------------------------------
# One run


def pct(v: float | None) -> str:
    """``0.3825 -> "38.25"``; None -> ``"-"``."""
    return "-" if v is None else f"{100.0 * v:.2f}"



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
    for key in ("encoder", "adapter", "strategy", "baseline", "llm", "precision", "mode",
                "source"):
        if meta.get(key) not in (None, ""):
            facts.append((key, str(meta[key])))
    return facts



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



def interval(report: Mapping[str, Any], column: Column, metric: str = "acc"
             ) -> tuple[float, float] | None:
    """The 95% Wilson interval of ``metric`` in ``column`` as fractions, or None."""
    ci = entry_of(report, column).get(CI_KEYS[metric])
    return (float(ci[0]), float(ci[1])) if ci else None


def ci_cell(report: Mapping[str, Any], column: Column, metric: str = "acc") -> str:
    """The 95% interval of ``metric`` in ``column`` as ``[lo, hi]`` (percent)."""
    ci = interval(report, column, metric)
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
    attrs = [c for c in ATTRIBUTE_COLUMNS if count(report, c)]  # the attributes asked about
    if attrs:
        lines += ["| By attribute | " + " | ".join(c.label for c in attrs) + " |",
                  "|---|" + "|".join("---:" for _ in attrs) + "|"]
        for m in METRICS:
            if has_metric(report, m):
                lines.append(f"| {m} | " + " | ".join(
                    f"{pct(value(report, c, m))} {ci_cell(report, c, m)}" for c in attrs)
                    + " |")
        lines += ["| questions | " + " | ".join(str(count(report, c)) for c in attrs) + " |",
                  "", "The questions about each attribute, over every sub-task; accuracy in "
                  "% with its 95% Wilson interval.", ""]
    for k, v in _facts(report):
        lines.append(f"- {k}: {md_escape(v)}")
    for m, desc in (report.get("metrics") or {}).items():
        lines.append(f"- {m}: {md_escape(desc)}")
    return "\n".join(lines) + "\n"


Series = tuple[str, Sequence[float | None]] | tuple[
    str, Sequence[float | None], Sequence[tuple[float, float] | None]]
"""``(legend name, one value per label[, one 95% interval per label])``, as fractions."""


def error_bars(values: Sequence[float | None],
               intervals: Sequence[tuple[float, float] | None]) -> np.ndarray:
    """``[2, n]`` distances (percent) from each value down and up to its interval's ends,
    the form ``yerr`` takes; NaN where a value or its interval is missing."""
    out = np.full((2, len(values)), np.nan)
    for j, (v, ci) in enumerate(zip(values, intervals, strict=True)):
        if v is not None and ci is not None:
            out[:, j] = (100.0 * max(v - ci[0], 0.0), 100.0 * max(ci[1] - v, 0.0))
    return out


def accuracy_png(
    panels: Sequence[tuple[str, Sequence[Series]]],
    labels: Sequence[str],
    title: str,
) -> bytes:
    """:func:`accuracy_figure` as PNG bytes."""
    buf = io.BytesIO()
    accuracy_figure(panels, labels, title).savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def accuracy_figure(
    panels: Sequence[tuple[str, Sequence[Series]]],
    labels: Sequence[str],
    title: str,
) -> Any:
    """Grouped bar charts (a matplotlib ``Figure``), each bar with its 95% interval as a
    whisker when the series gives intervals.

    :param panels: one ``(panel title, series)`` per subplot; each series is
        ``(legend name, one value per label)`` or that plus one interval per label;
        None draws a ``-`` (no questions).
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
        whiskers = False
        for i, (name, values, *rest) in enumerate(series):
            heights = [np.nan if v is None else 100.0 * v for v in values]
            yerr = error_bars(values, rest[0]) if rest else None
            whiskers = whiskers or (yerr is not None and bool(np.isfinite(yerr).any()))
            ax.bar(x - 0.4 + width * (i + 0.5), heights, width, label=name, yerr=yerr,
                   error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "0.25"})
        for j in range(len(labels)):
            if series and all(s[1][j] is None for s in series):
                ax.text(x[j], 2, "-", ha="center", va="bottom", color="gray")
        ax.set_xticks(x)
        ax.set_xticklabels(labels)
        ax.set_ylabel("accuracy (%)" + (", 95% CI" if whiskers else ""))
        ax.set_ylim(0, 100)
        ax.set_title(panel_title, fontsize="medium")
        ax.grid(axis="y", alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def write_report(report: Mapping[str, Any], report_dir: str | os.PathLike[str]) -> dict[str, str]:
    """Write ``report.json``, ``report.md`` and ``accuracy.png`` atomically into ``report_dir``,
    and ``curves.png`` when the report has training curves (:mod:`uqa_eval.curves`).

    :returns: file kind -> path written.
    """
    out = Path(report_dir)
    cols = [c for c in columns(report) if c.kind in ("task", "overall")]
    series = [(m, [value(report, c, m) for c in cols], [interval(report, c, m) for c in cols])
              for m in METRICS if has_metric(report, m)]
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
# Several runs (a comparison built by uqa_eval.report.compare)


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
    labels = comparison.get("reference_labels") or {}
    for ref in comparison.get("reference_tokens") or {}:
        headers.append(f"x {labels.get(ref, ref)}")
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
    for m in DIFFERENCE_METRICS:
        lines += differences_markdown(comparison, m)
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


def _difference_cells(d: Mapping[str, Any], mark: Callable[[str], str],
                      cols: Sequence[Column] = DIFFERENCE_COLUMNS) -> list[str]:
    cells = []
    for c in cols:
        x = d["columns"].get(c.key, {})
        text = fmt_difference(x)
        cells.append(mark(text + " *") if x.get("signal") else text)
    return cells


def differences_markdown(comparison: Mapping[str, Any], metric: str = "acc") -> list[str]:
    """Markdown lines: each run minus each control (and untrained encoder), paired over
    the same questions."""
    diffs = [d for d in comparison.get("differences") or [] if d["metric"] == metric]
    if not diffs:
        return []
    lines = [f"## Is it signal? {metric} differences from the controls", "",
             *_differences_rows(diffs, DIFFERENCE_COLUMNS, questions=True)]
    lines += ["", "Points of accuracy, the run minus the control on the same questions, with "
              "the 95% paired-bootstrap interval; `*` (bold): the interval excludes zero, the "
              "difference is signal. An untrained encoder is not a control (its embedding "
              "still comes from the user's clicks): the difference from it is what "
              "pre-training adds. The interval covers the choice of questions only: a "
              "reference aligned on its own (the untrained encoder, the oracle) also "
              "differs from the run by the two alignments' own spread: align again with "
              "other seeds (`--set align.seed=1`, or `uqa study --align-seeds`) and read "
              "them together with `uqa report --replicates`, whose intervals cover both. "
              "Exact McNemar p-values are in report.json. "
              "Oracle-informed: " + SUBSETS["oracle_informs"] + ".", ""]
    attrs = _compared_attributes(diffs)
    if attrs:
        lines += [f"## What it carries: {metric} differences by attribute", "",
                  *_differences_rows(diffs, attrs, questions=False)]
        lines += ["", "The same differences on the questions about each attribute, over "
                  "every sub-task (" + ", ".join(f"{c.label.lower()} {_attribute_n(diffs, c)}"
                                                 for c in attrs) + " questions).", ""]
    return lines


def _differences_rows(diffs: Sequence[Mapping[str, Any]], cols: Sequence[Column], *,
                      questions: bool) -> list[str]:
    """A Markdown table of ``diffs`` over ``cols`` (signal in bold), with each pair's
    question count when ``questions``."""
    n_head, n_rule = ("Questions | ", "---:|") if questions else ("", "")
    lines = ["| Run | Compared with | " + n_head + " | ".join(c.label for c in cols) + " |",
             "|---|---|" + n_rule + "|".join("---:" for _ in cols) + "|"]
    for d in diffs:
        n = f"{d['n']} | " if questions else ""
        lines.append(f"| {md_escape(d['subject'])} | {md_escape(d['reference'])} | {n}"
                     + " | ".join(_difference_cells(d, lambda t: f"**{t}**", cols)) + " |")
    return lines


def _compared_attributes(diffs: Sequence[Mapping[str, Any]]) -> list[Column]:
    """The :data:`ATTRIBUTE_COLUMNS` some paired difference of ``diffs`` has questions of."""
    return [c for c in ATTRIBUTE_COLUMNS if _attribute_n(diffs, c)]


def _attribute_n(diffs: Sequence[Mapping[str, Any]], column: Column) -> int:
    """The most questions about ``column``'s attribute any of ``diffs`` compared."""
    return max((int(d["columns"].get(column.key, {}).get("n") or 0) for d in diffs),
               default=0)


def differences_table(comparison: Mapping[str, Any], metric: str = "acc", *,
                      by_attribute: bool = False) -> Table | None:
    """A rich table of :func:`differences_markdown`'s rows: per dimension, overall and
    oracle-informed, or ``by_attribute`` on the questions about each attribute (None
    when there are no such rows)."""
    from rich.markup import escape
    from rich.table import Table

    diffs = [d for d in comparison.get("differences") or [] if d["metric"] == metric]
    cols = _compared_attributes(diffs) if by_attribute else list(DIFFERENCE_COLUMNS)
    if not diffs or not cols:
        return None
    what = ("what it carries:", " by attribute") if by_attribute else ("is it signal?", "")
    table = Table(title=f"{what[0]} {metric} minus each control{what[1]}, points "
                        "[95% paired bootstrap], * = interval excludes zero")
    table.add_column("Run", style="bold")
    table.add_column("Compared with")
    if not by_attribute:
        table.add_column("n", justify="right")
    for c in cols:
        label = f"{c.label} ({_attribute_n(diffs, c)})" if by_attribute else c.label
        table.add_column(label, justify="right")
    for d in diffs:
        n = [] if by_attribute else [str(d["n"])]
        table.add_row(escape(d["subject"]), escape(d["reference"]), *n,
                      *_difference_cells(d, lambda t: f"[bold green]{t}[/]", cols))
    return table


DIFFERENCE_METRICS: tuple[str, ...] = ("acc", "acc_pmi")
"""The metrics whose differences from the controls a comparison shows by default."""


def comparison_tables(comparison: Mapping[str, Any], metric: str | None = None) -> list[Table]:
    """The accuracy tables, then (when there are controls) the differences tables: of
    ``metric``, else of each of :data:`DIFFERENCE_METRICS` the runs have (``acc``, and
    ``acc_pmi`` beside a ``none`` baseline)."""
    have = comparison_metrics(comparison)
    shown = [metric] if metric else [m for m in DIFFERENCE_METRICS if m in have]
    tables = [comparison_table(comparison, m) for m in shown] or [comparison_table(comparison)]
    for m in (metric,) if metric else DIFFERENCE_METRICS:
        for by_attribute in (False, True):
            diffs = differences_table(comparison, m, by_attribute=by_attribute)
            tables += [diffs] if diffs is not None else []
    return tables


def comparison_table(comparison: Mapping[str, Any], metric: str | None = None) -> Table:
    """A rich table, one row per run; best value per column in bold green."""
    from rich.markup import escape
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
        table.add_row(group, escape(label), *cells, end_section=False)
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
        (m, [(r["label"], [value(r["report"], c, m) for c in cols],
              [interval(r["report"], c, m) for c in cols]) for r in runs])
        for m in comparison_metrics(comparison)
    ]
    png = accuracy_png(panels, [c.label for c in cols], "uqa: accuracy per sub-task")
    paths = {
        "json": write_json(dict(comparison), out / "report.json"),
        "md": write_text(comparison_markdown(comparison), out / "report.md"),
        "png": write_bytes(png, out / "accuracy.png"),
    }
    return {k: str(v) for k, v in paths.items()}



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
