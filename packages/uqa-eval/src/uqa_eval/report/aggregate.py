"""Accuracy of one run: per sub-task, per dimension and overall, with 95% intervals.

A report is a JSON-able dict built from ``predictions/eval.arrow`` joined with
``questions/eval.arrow`` on ``question_id`` (the only files read here). Dimension
and overall accuracies are micro-averaged over questions, as in the paper's tables;
the macro average over the sub-tasks that have questions is reported beside them.
Every accuracy has its 95% Wilson interval. Also here: the report's columns in the
paper's order, and the paired difference of two runs on the questions both answered.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from uqa_data.errors import UqaInputError
from uqa_data.io import INT, STRING, read_table
from uqa_data.layout import REPORT_SCHEMA, RunLayout
from uqa_data.schemas import DIMENSIONS, OPTION_LETTERS, TASK_DIMENSION, TASKS

from uqa_eval.significance import paired_difference, wilson

__all__ = ["DIMENSIONS", "REPORT_SCHEMA", "TASKS", "TASK_DIMENSION"]

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

METRICS: tuple[str, ...] = ("acc", "acc_norm", "acc_pmi")

CI_KEYS: dict[str, str] = {"acc": "ci", "acc_norm": "ci_norm", "acc_pmi": "ci_pmi"}
"""Where each metric's 95% interval is kept in a report entry."""

SUBSETS: dict[str, str] = {
    "oracle_informs": "questions the planted-truth oracle vector carries the answer of "
                      "(category, brand and shop questions of df, ap, li, si, it)",
}

METRIC_DESCRIPTIONS: dict[str, str] = {
    "acc": "option with the highest summed log-probability of its text",
    "acc_norm": "option with the highest log-probability per character of its text",
    "acc_pmi": "option whose summed log-probability rises most over the same question "
               "asked without the user (the run's `none` baseline): the pointwise mutual "
               "information of option and user; `none` itself keeps its acc",
}

MODE_METRIC_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "loglik": METRIC_DESCRIPTIONS,
    "letters": {
        "acc": "option letter with the highest next-token log-probability",
        "acc_norm": "option letter with the highest next-token log-probability",
        "acc_pmi": "option letter whose next-token log-probability rises most over the "
                   "same question asked without the user (the run's `none` baseline)",
    },
    "generate": {"acc": "generated answer (stripped) starts with the gold option letter"},
}
"""What ``acc``/``acc_norm`` mean under each answering mode (``meta["mode"]``)."""


@dataclass(frozen=True)
class Column:
    """One accuracy column of a report table.

    :param key: a sub-task name, a dimension name or ``"overall"``.
    :param label: the header shown (``DF``, ``Seq. Avg.``, ``Overall``).
    :param kind: ``"task"``, ``"dimension"``, ``"overall"``, ``"subset"`` (a named
        subset of the questions, :data:`SUBSETS`) or ``"attribute"`` (the questions
        about one attribute, :data:`ATTRIBUTE_COLUMNS`).
    """

    key: str
    label: str
    kind: str


ATTRIBUTE_COLUMNS: tuple[Column, ...] = (
    Column("category", "Category", "attribute"), Column("brand", "Brand", "attribute"),
    Column("shop", "Shop", "attribute"), Column("title", "Title", "attribute"),
)
"""The questions about each attribute, over every sub-task (a question file's
``attribute`` column): where a gain comes from. One mean-pooled soft token carries a
user's categories long before their brands or shops."""


def summarize(
    tasks: Sequence[str],
    correct: Sequence[bool] | np.ndarray,
    *,
    correct_norm: Sequence[bool] | np.ndarray | None = None,
    correct_pmi: Sequence[bool] | np.ndarray | None = None,
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
    :param correct_pmi: the same under the ``acc_pmi`` rule (:func:`pmi_verdicts`), or
        None when there are no no-user scores to compare with.
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
        vector carries the answer of (:func:`uqa_eval.baselines.oracle_informs`), and
        ``attributes``, the questions about each of :data:`ATTRIBUTE_COLUMNS`.
    :returns: the report dict (see the module docstring).
    """
    task_arr = np.asarray([str(t) for t in tasks], dtype=object)
    n = len(task_arr)
    acc = np.asarray(correct, dtype=bool).reshape(-1)
    if len(acc) != n:
        raise ValueError(f"{len(acc)} correctness values for {n} questions")
    verdicts = {"acc": acc}
    for m, given in (("acc_norm", correct_norm), ("acc_pmi", correct_pmi)):
        if given is not None:
            verdicts[m] = np.asarray(given, dtype=bool).reshape(-1)
            if len(verdicts[m]) != n:
                raise ValueError(f"{len(verdicts[m])} {m} values for {n} questions")
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
    metrics = tuple(m for m in METRICS if m in verdicts)

    def stats(mask: np.ndarray) -> dict[str, Any]:
        count = int(mask.sum())
        out: dict[str, Any] = {"n": count}
        for m in METRICS:
            if m == "acc_pmi" and m not in verdicts:
                continue  # absent rather than null: older reports never had it
            v = verdicts.get(m)
            out[m] = float(v[mask].mean()) if (count and v is not None) else None
            out[CI_KEYS[m]] = wilson(int(v[mask].sum()), count) if v is not None else None
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
        attr_arr = np.asarray([str(a) for a in attrs], dtype=object)
        report["attributes"] = {c.key: stats(attr_arr == c.key) for c in ATTRIBUTE_COLUMNS}
    return report


def _macro(task_report: Mapping[str, Any], members: Sequence[str], metrics: Sequence[str]) -> dict:
    out: dict[str, Any] = {}
    for m in METRICS:
        if m == "acc_pmi" and m not in metrics:
            continue
        values = [task_report[t][m] for t in members if task_report[t].get(m) is not None]
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
    correct_pmi: np.ndarray | None = None


def read_verdicts(
    predictions_path: str | os.PathLike[str], questions_path: str | os.PathLike[str],
    no_user: str | os.PathLike[str] | None = None,
) -> Verdicts:
    """Join predictions with their questions (see :func:`build_report` for the columns
    and errors); with ``no_user`` (the same questions answered without the user), also
    the ``acc_pmi`` verdicts (:func:`pmi_verdicts`)."""
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

    pmi = None
    if no_user is not None and answers is not None:
        pmi = pmi_verdicts(preds, Path(no_user), rows, answers, correct,
                           same=Path(no_user).resolve() == pred_path.resolve())
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
        correct_pmi=pmi,
    )


def pmi_verdicts(preds: pa.Table, no_user: Path, rows: np.ndarray, answers: list[Any],
                 correct: np.ndarray, *, same: bool = False) -> np.ndarray | None:
    """Per question: is the gold option the one whose score (``option_scores``) rises most
    over the same question's scores in ``no_user``'s predictions (the ``none`` baseline)?

    The no-user prompt's preference for some option texts (length, common names) is the
    same with or without a user; subtracting it leaves what the user's context adds
    (Holtzman et al. 2021, "Surface Form Competition"). For ``none`` itself (``same``)
    every rise is zero, so its verdicts stay its own ``correct``. None when either file
    has no option scores (generation) or ``no_user`` lacks one of the questions.
    """
    if same:
        return correct.copy()
    if "option_scores" not in preds.column_names or "generated" in preds.column_names:
        return None
    base = read_table(no_user, {"question_id": (STRING, "string")},
                      what="no-user predictions", allow_empty=False)
    if "option_scores" not in base.column_names or "generated" in base.column_names:
        return None
    at = {q: i for i, q in enumerate(base.column("question_id").to_pylist())}
    ids = preds.column("question_id").to_pylist()
    if any(q not in at for q in ids):
        return None
    ours, theirs = preds.column("option_scores").to_pylist(), base.column(
        "option_scores").to_pylist()
    out = np.zeros(len(ids), dtype=bool)
    for i, (q, s) in enumerate(zip(ids, ours, strict=True)):
        ref = theirs[at[q]]
        if s is None or ref is None or len(s) != len(ref):
            raise UqaInputError(f"{no_user}: question_id '{q}' has {len(ref or [])} option "
                                f"scores against {len(s or [])} in the predictions; both must "
                                "score the same options")
        gain = np.asarray(s, dtype=np.float64) - np.asarray(ref, dtype=np.float64)
        out[i] = OPTION_LETTERS[int(np.argmax(gain))] == answers[rows[i]]
    return out


def no_user_predictions(layout: RunLayout) -> Path | None:
    """The predictions of the ``none`` baseline of ``layout``'s run (its own, for
    ``none`` itself), which ``acc_pmi`` compares with; else, in a study (whose ``none``
    runs beside its first variant only), those of a sibling variant that answered the same
    question file with the same LLM and answering mode; None when there is none, or when
    the two files say they were answered with another LLM or mode."""
    path = layout.run.baseline("none").predictions
    found = path if path.is_file() else _study_sibling_none(layout.run)
    if found is None or not layout.predictions.is_file():
        return found
    ours, theirs = predictions_facts(layout.predictions), predictions_facts(found)
    # the precision moves scores by rounding only; another LLM or mode answers otherwise
    if any(k in ours and k in theirs and ours[k] != theirs[k] for k in ("mode", "llm")):
        return None  # answered another way (uqa eval --mode letters): no score to subtract
    return found


def _study_sibling_none(run: RunLayout) -> Path | None:
    study = run.root.parent
    questions = run.questions("eval")
    if not (study / "study.json").is_file() or not questions.is_file():
        return None
    facts = run.facts()
    for sibling in sorted(p for p in study.iterdir() if p.is_dir() and p != run.root):
        other = RunLayout(sibling)
        none = other.baseline("none").predictions
        if not (none.is_file() and other.questions("eval").is_file()):
            continue
        theirs = other.facts()
        if (all(facts.get(k) == theirs.get(k) for k in ("llm", "mode"))
                and _same_file(questions, other.questions("eval"))):
            return none
    return None


def _same_file(a: Path, b: Path) -> bool:
    """The same file, or two files of the same bytes."""
    from uqa_data.io import file_digest

    return os.path.samefile(a, b) or file_digest(a) == file_digest(b)


def build_report(
    predictions_path: str | os.PathLike[str],
    questions_path: str | os.PathLike[str],
    meta: Mapping[str, Any] | None = None,
    no_user: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Join predictions with their questions and aggregate accuracy.

    :param predictions_path: ``predictions/eval.arrow``: ``question_id`` plus
        ``correct`` (bool) or ``prediction`` (option letter); optionally
        ``correct_norm`` or ``prediction_norm``, and ``input_tokens``.
    :param questions_path: ``questions/eval.arrow``: ``question_id``, ``task``;
        ``dimension``, ``attribute``, ``answer`` and ``options`` when present.
    :param meta: run facts copied into the report (see :func:`summarize`); the
        predictions file's own (:func:`predictions_facts`) win.
    :param no_user: the ``none`` baseline's predictions of the same questions: adds
        ``acc_pmi`` (:func:`pmi_verdicts`).
    :raises UqaInputError: a missing column, an unknown or repeated
        ``question_id``, a null verdict or a letter outside the options, naming
        the file and the first bad row.
    """
    pred_path, q_path = Path(predictions_path), Path(questions_path)
    v = read_verdicts(pred_path, q_path, no_user)
    out_meta = {**(meta or {}), **predictions_facts(pred_path)}
    out_meta.setdefault("predictions", str(pred_path))
    out_meta.setdefault("questions", str(q_path))
    report = summarize(
        v.tasks,
        v.correct,
        correct_norm=v.correct_norm,
        correct_pmi=v.correct_pmi,
        dimensions=v.dimensions,
        input_tokens=v.input_tokens,
        meta=out_meta,
        attributes=v.attributes,
    )
    report["n_unanswered"] = v.n_unanswered
    return report


PREDICTION_FACTS: tuple[str, ...] = ("mode", "llm", "precision")
"""What the eval stage writes into a predictions file's schema metadata (``uqa.<key>``)."""


def predictions_facts(path: str | os.PathLike[str]) -> dict[str, str]:
    """How a predictions file was answered, as the file itself says (``mode``, ``llm``,
    ``precision``; none for files other tools wrote): it wins over ``run.json``, which a
    stage command run alone (``uqa eval --mode letters``) does not update."""
    import pyarrow.ipc as ipc

    try:
        with pa.OSFile(str(path), "rb") as f:
            metadata = ipc.open_file(f).schema.metadata or {}
    except (OSError, pa.ArrowInvalid):
        return {}
    return {key: metadata[f"uqa.{key}".encode()].decode() for key in PREDICTION_FACTS
            if f"uqa.{key}".encode() in metadata}


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
        given = options[row] if options is not None else None
        n_opt = len(given) if given is not None else len(OPTION_LETTERS)
        valid = OPTION_LETTERS[:n_opt]
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



def has_metric(report: Mapping[str, Any], metric: str) -> bool:
    return report.get("overall", {}).get(metric) is not None


def run_name(report: Mapping[str, Any]) -> str:
    meta = report.get("meta", {})
    return str(meta.get("run") or meta.get("name") or "run")



def entry_of(report: Mapping[str, Any], column: Column) -> Mapping[str, Any]:
    """The report's entry (n, acc, ci...) behind ``column``."""
    if column.kind == "overall":
        return report.get("overall", {})
    if column.kind == "subset":
        return report.get("subsets", {}).get(column.key, {})
    if column.kind == "attribute":
        return report.get("attributes", {}).get(column.key, {})
    table = "dimensions" if column.kind == "dimension" else "tasks"
    return report.get(table, {}).get(column.key, {})



DIFFERENCE_COLUMNS: tuple[Column, ...] = (
    *(Column(d, DIMENSION_AVG_LABELS[d], "dimension") for d in DIMENSIONS),
    Column("overall", "Overall", "overall"),
    Column("oracle_informs", "Oracle-informed", "subset"),
)
"""Where paired differences are reported: each dimension, overall, and the questions
the oracle vector can inform."""


def in_column(v: Verdicts, column: Column) -> np.ndarray:
    """Which of ``v``'s questions count in ``column``."""
    if column.kind == "overall":
        return np.ones(len(v.tasks), dtype=bool)
    if column.kind == "subset":
        from uqa_eval.baselines import oracle_informs

        return np.asarray([oracle_informs(t, a) for t, a in zip(v.tasks, v.attributes,
                                                              strict=True)], dtype=bool)
    if column.kind == "attribute":
        return np.asarray([a == column.key for a in v.attributes], dtype=bool)
    dims = v.dimensions or [TASK_DIMENSION.get(t, "") for t in v.tasks]
    return np.asarray([d == column.key for d in dims], dtype=bool)


def correct_by(v: Verdicts, metric: str) -> np.ndarray | None:
    """``v``'s per-question correctness under ``metric`` (``acc``, ``acc_norm`` or
    ``acc_pmi``), or None where the run has no such verdicts."""
    return {"acc": v.correct, "acc_norm": v.correct_norm, "acc_pmi": v.correct_pmi}[metric]


def paired_differences(subject: Verdicts, reference: Verdicts, metric: str = "acc"
                       ) -> dict[str, Any]:
    """``subject`` minus ``reference`` on the questions both answered, per column of
    :data:`DIFFERENCE_COLUMNS` and :data:`ATTRIBUTE_COLUMNS` (see
    :func:`uqa_eval.significance.paired_difference`)."""
    ref_at = {q: i for i, q in enumerate(reference.question_ids)}
    common = [(i, ref_at[q]) for i, q in enumerate(subject.question_ids) if q in ref_at]
    si = np.asarray([a for a, _ in common], dtype=np.int64)
    ri = np.asarray([b for _, b in common], dtype=np.int64)
    a, b = correct_by(subject, metric), correct_by(reference, metric)
    out: dict[str, Any] = {"n": len(common), "columns": {}}
    if a is None or b is None:
        return out
    for column in (*DIFFERENCE_COLUMNS, *ATTRIBUTE_COLUMNS):
        keep = in_column(subject, column)[si]
        out["columns"][column.key] = paired_difference(a[si][keep], b[ri][keep])
    return out


