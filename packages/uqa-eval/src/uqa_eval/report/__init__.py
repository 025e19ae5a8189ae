"""Accuracy reports: one run's (aggregate), written and shown (render), several runs
side by side (compare).

- :mod:`uqa_eval.report.aggregate`: per sub-task, dimension and overall accuracy with
  95% Wilson intervals, from ``predictions/eval.arrow`` + ``questions/eval.arrow``;
  the paired difference of two runs over the questions both answered.
- :mod:`uqa_eval.report.render`: Markdown, rich tables and PNG charts of a report or
  a comparison, and their atomic writes.
- :mod:`uqa_eval.report.compare`: runs grouped by what their ``run.json`` and the
  registry say they are, ordered like the paper's Table 2, each against the controls.

Where a run's files are, and what its ``run.json`` says, is :mod:`uqa_data.layout`'s.

``report.json`` (schema ``uqa-report/1``)::

    {"schema", "meta": {run, encoder, adapter, baseline, llm, mode, wall_time_s, ...},
     "n_questions", "n_unanswered", "avg_input_tokens", "token_ratio": {"text20": r, ...},
     "metrics": {"acc": "how it was computed", "acc_norm": ..., "acc_pmi": ...},
     "tasks": {"df": {"dimension", "n", "acc", "ci", "acc_norm", "ci_norm",
                      "acc_pmi", "ci_pmi"}, ...},  # all seven; *_pmi beside a `none` run
     "dimensions": {"sequence_understanding": {"tasks", "n", "acc", "acc_norm",
                                               "macro_acc", "macro_acc_norm"}, ...},
     "overall": {"n", "acc", "acc_norm", "macro_acc", "macro_acc_norm"},
     "subsets": {"oracle_informs": {...}},  # with an `attribute` column, as are:
     "attributes": {"category": {"n", "acc", "ci", ...}, "brand", "shop", "title"}}
"""

from __future__ import annotations

from uqa_data.layout import find_runs

from uqa_eval.report.aggregate import (
    DIFFERENCE_COLUMNS,
    DIMENSION_AVG_LABELS,
    DIMENSION_LABELS,
    DIMENSIONS,
    METRIC_DESCRIPTIONS,
    METRICS,
    MODE_METRIC_DESCRIPTIONS,
    REPORT_SCHEMA,
    SUBSETS,
    TASK_DIMENSION,
    TASKS,
    Column,
    Verdicts,
    build_report,
    columns,
    columns_for,
    count,
    entry_of,
    has_metric,
    paired_differences,
    read_verdicts,
    run_name,
    summarize,
    token_ratios,
    value,
)
from uqa_eval.report.compare import (
    COMPARISON_SCHEMA,
    GROUPS,
    RowKind,
    compare_runs,
    kind_of,
    load_comparison,
    load_run,
    report_from_predictions,
    report_is_stale,
    run_verdicts,
)
from uqa_eval.report.render import (
    accuracy_png,
    ci_cell,
    comparison_markdown,
    comparison_metrics,
    comparison_table,
    comparison_tables,
    differences_markdown,
    differences_table,
    load_report,
    md_escape,
    pct,
    print_table,
    report_markdown,
    report_table,
    write_comparison,
    write_report,
)

__all__ = [
    "COMPARISON_SCHEMA", "DIFFERENCE_COLUMNS", "DIMENSIONS", "DIMENSION_AVG_LABELS",
    "DIMENSION_LABELS", "GROUPS", "METRICS", "METRIC_DESCRIPTIONS", "MODE_METRIC_DESCRIPTIONS",
    "REPORT_SCHEMA", "SUBSETS", "TASKS", "TASK_DIMENSION", "Column", "RowKind", "Verdicts",
    "accuracy_png", "build_report", "ci_cell", "columns", "columns_for", "compare_runs",
    "comparison_markdown", "comparison_metrics", "comparison_table", "comparison_tables",
    "count", "differences_markdown", "differences_table", "entry_of", "find_runs",
    "has_metric", "kind_of", "load_comparison", "load_report", "load_run", "md_escape",
    "paired_differences", "pct", "print_table", "read_verdicts", "report_from_predictions",
    "report_is_stale", "report_markdown", "report_table", "run_name", "run_verdicts",
    "summarize", "token_ratios", "value", "write_comparison", "write_report",
]
