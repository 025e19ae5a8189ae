"""Several runs side by side, grouped and ordered like the paper's Table 2.

A run is whatever its ``run.json`` and report say it is: a baseline (named in its
meta) is looked up in the registry, so a plugin baseline is grouped by its kind
like a built-in one: ``context="text"`` baselines form the Text-based group (and
are the token references every other run's input tokens are divided by), those
that know nothing of the user the Controls (:attr:`~uqa_eval.baselines.Baseline.no_user`),
the others (an untrained encoder, the oracle) the References; every other run is
Emb-based, labelled and ordered by its encoder's registry entry, then adapter, then
strategy. Each run but a control is compared, question by question, with each
control and with an untrained encoder
(:attr:`~uqa_eval.baselines.Baseline.compared_with`); a ``shuffled`` or ``random``
kept inside a run that is among the rows stands for that run only.

A comparison (schema ``uqa-comparison/1``) holds the ordered ``runs`` (each with
its group, label, token ratios and full report), the shared ``columns``, the
``reference_tokens`` and their ``reference_labels``, and the paired ``differences``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uqa_data.errors import UqaInputError
from uqa_data.layout import RunLayout

from uqa_eval.report.aggregate import (
    METRICS,
    Verdicts,
    build_report,
    columns_for,
    no_user_predictions,
    paired_differences,
    read_verdicts,
    run_name,
    token_ratios,
)
from uqa_eval.report.render import load_report

if TYPE_CHECKING:
    from uqa_eval.baselines import Baseline

COMPARISON_SCHEMA = "uqa-comparison/1"

GROUPS: tuple[str, ...] = ("Text-based", "Control", "Reference", "Emb-based")
"""Row groups in table order: the paper's Table 2 puts text baselines first, then
embedding methods; controls (no context, shuffled) and references (an untrained encoder,
the oracle) sit between."""


def load_run(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The report of one run: ``report/report.json``, else (or when its predictions are
    newer: answered again since) built from its predictions.

    Questions are the run's own, else found up to three folders up (a study sharing
    one question set; a baseline reads its run's). The facts of ``run.json``
    (:meth:`~uqa_data.layout.RunLayout.facts`: wall time, throughput...) fill in what
    the report lacks.
    """
    layout = RunLayout.at(run_dir)
    facts = layout.facts()
    if layout.report_json.is_file() and not report_is_stale(layout):
        report = load_report(layout.report_json)
    else:
        if not layout.predictions.is_file():
            raise UqaInputError(f"{layout.root}: not a run directory; expected "
                                "report/report.json or predictions/eval.arrow")
        report = report_from_predictions(layout)
    meta = report.setdefault("meta", {})
    meta.setdefault("run", layout.name)
    for key, v in facts.items():  # wall time etc. recorded after the report was built
        meta.setdefault(key, v)
    return report


def report_is_stale(layout: RunLayout) -> bool:
    """The run's predictions were written after its ``report.json`` (``uqa eval`` again)."""
    return (layout.report_json.is_file() and layout.predictions.is_file()
            and layout.predictions.stat().st_mtime > layout.report_json.stat().st_mtime)


def report_from_predictions(layout: RunLayout) -> dict[str, Any]:
    """The run's report built from ``predictions/eval.arrow``. What the old report knew
    (llm, mode, encoder...) stays; ``run.json``'s facts win.

    :raises UqaInputError: no questions file to score the predictions against.
    """
    questions = layout.find_questions()
    if questions is None:
        raise UqaInputError(
            f"{layout.root}: has predictions but no questions file to score them "
            f"against; expected {layout.questions('eval')}"
        )
    kept = load_report(layout.report_json).get("meta", {}) \
        if layout.report_json.is_file() else {}
    kept = {k: v for k, v in kept.items() if k not in ("predictions", "questions")}
    return build_report(layout.predictions, questions, {**kept, **layout.facts()},
                        no_user_predictions(layout))


def run_verdicts(run_dir: str | os.PathLike[str]) -> Verdicts | None:
    """The run's per-question correctness, or None when it has no predictions file."""
    layout = RunLayout.at(run_dir)
    questions = layout.find_questions()
    if not layout.predictions.is_file() or questions is None:
        return None
    return read_verdicts(layout.predictions, questions, no_user_predictions(layout))


@dataclass(frozen=True)
class RowKind:
    """What a run is in a comparison: its group, its label and where it sorts."""

    group: str
    label: str
    key: tuple[Any, ...]
    baseline: str | None = None
    text: bool = False
    """A text baseline: a token reference."""
    no_user: bool = False
    """A control that knows nothing of the user."""
    reference: bool = False
    """Every other run is compared with it (the controls, an untrained encoder)."""
    own_encoder: bool = False
    """It reads its run's own encoder (``shuffled``, ``random``): a control or reference
    for that run only, when that run is among the rows."""


def _registered(kind: str) -> dict[str, Any]:
    from uqa_data.registry import list_components

    return list_components(kind)


def _rank(names: Sequence[str], name: str) -> tuple[int, str]:
    return (list(names).index(name), "") if name in names else (len(names), name)


def _baseline(name: str) -> Baseline | None:
    """The registered baseline ``name`` (None: not registered here)."""
    if name not in _registered("baseline"):
        return None
    from uqa_eval.baselines import get_baseline

    return get_baseline(name)


def kind_of(report: Mapping[str, Any]) -> RowKind:
    """A run's group, label and sort key, from its meta and the registry."""
    meta = report.get("meta", {})
    name = meta.get("baseline")
    if name in (None, "", "embedding") and meta.get("method") in _registered("baseline"):
        name = meta["method"]
    if name not in (None, "", "embedding"):
        name = str(name)
        base = _baseline(name)
        context = base.context if base is not None else meta.get("context")
        label = (base.label or name) if base is not None else name
        order = (*_rank(list(_registered("baseline")), name), name)
        if context == "text":
            return RowKind("Text-based", label, (0, *order), name, text=True)
        no_user = base is not None and base.no_user
        return RowKind("Control" if no_user or base is None else "Reference", label,
                       (1 if no_user else 2, *order), name, no_user=no_user,
                       reference=base is not None and base.compared_with,
                       own_encoder=base is not None and base.reads_run_encoder)
    encoder = str(meta.get("encoder") or meta.get("method") or run_name(report))
    encoders = _registered("encoder")
    from uqa_align.strategies import STRATEGIES

    key = (3, *_rank(list(encoders), encoder),
           *_rank(list(_registered("adapter")), str(meta.get("adapter") or "")),
           *_rank(STRATEGIES, str(meta.get("strategy") or "")))
    label = encoders[encoder].options.get("label", encoder) if encoder in encoders else encoder
    return RowKind("Emb-based", str(label), key)


def compare_runs(run_dirs: Sequence[str | os.PathLike[str]]) -> dict[str, Any]:
    """Several runs side by side, ordered like the paper's Table 2.

    :param run_dirs: run directories (each with ``report/report.json`` or
        predictions + questions to build it from).
    :returns: ``{"schema", "columns", "reference_tokens", "reference_labels", "runs":
        [{"run_dir", "name", "group", "label", "token_ratio", "report"}], "differences"}``;
        token ratios are against the text baselines among them (or the reports' own).
    """
    if not run_dirs:
        raise UqaInputError("no runs to compare; give at least one run directory")
    rows, kinds = [], {}
    for d in run_dirs:
        report = load_run(d)
        kind = kind_of(report)
        kinds[str(d)] = kind
        rows.append({"run_dir": str(d), "name": run_name(report), "group": kind.group,
                     "label": kind.label, "_key": kind.key, "report": report})
    rows.sort(key=lambda r: (r["_key"], r["name"]))
    _disambiguate(rows)
    reference, labels = {}, {}
    for r in rows:
        kind, tokens = kinds[r["run_dir"]], r["report"].get("avg_input_tokens")
        if kind.text and tokens and kind.baseline not in reference:
            reference[kind.baseline] = float(tokens)
            labels[kind.baseline] = kind.label
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
    return {
        "schema": COMPARISON_SCHEMA,
        "columns": [{"key": c.key, "label": c.label, "kind": c.kind}
                    for c in columns_for(tasks, dims)],
        "reference_tokens": reference,
        "reference_labels": labels,
        "runs": rows,
        "differences": _differences(rows, kinds),
    }


def _differences(rows: list[dict[str, Any]], kinds: Mapping[str, RowKind]
                 ) -> list[dict[str, Any]]:
    """Every run but a control against each control and untrained encoder among the rows
    that answered the same question file with the same LLM and mode, paired over the
    questions both answered, for each metric both have.

    A baseline that reads its run's own encoder (``shuffled``, ``random``) is compared
    only with that run and the run's other baselines when the run is among the rows (a
    study with ``shuffled`` beside every variant compares each variant with its own
    control); otherwise with every run."""
    verdicts = {r["run_dir"]: run_verdicts(r["run_dir"]) for r in rows}
    asked = {r["run_dir"]: _questions_digest(r["run_dir"]) for r in rows}
    refs = [r for r in rows
            if kinds[r["run_dir"]].reference and verdicts[r["run_dir"]] is not None]
    layouts = {r["run_dir"]: RunLayout.at(r["run_dir"]) for r in rows}
    home = {d: layout.run.root.resolve() for d, layout in layouts.items()}
    run_homes = {home[d] for d, layout in layouts.items() if not layout.is_baseline}
    out = []
    for subject in rows:
        sv = verdicts[subject["run_dir"]]
        if sv is None or kinds[subject["run_dir"]].no_user:
            continue
        for ref in refs:
            if ref is subject or not _same_answering(subject["report"], ref["report"]):
                continue
            if asked[ref["run_dir"]] != asked[subject["run_dir"]]:
                continue  # other questions behind the same ids (another seed, another set)
            own = home[ref["run_dir"]]
            if (kinds[ref["run_dir"]].own_encoder and layouts[ref["run_dir"]].is_baseline
                    and own in run_homes
                    and home[subject["run_dir"]] != own):
                continue
            for metric in METRICS:
                d = paired_differences(sv, verdicts[ref["run_dir"]], metric)
                if not d["columns"] or not d["n"]:
                    continue
                out.append({"subject": subject["label"], "subject_run": subject["name"],
                            "subject_dir": subject["run_dir"], "reference": ref["label"],
                            "reference_run": ref["name"], "reference_dir": ref["run_dir"],
                            "metric": metric, **d})
    return out


def _questions_digest(run_dir: str) -> str | None:
    """A digest of the question file a run answered (None: none found)."""
    from uqa_data.io import file_digest

    path = RunLayout.at(run_dir).find_questions()
    return None if path is None else file_digest(path)


def _same_answering(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Two reports answered with the same LLM and mode, as far as both say: a control
    answered another way measures the answering, not the user."""
    ma, mb = a.get("meta", {}), b.get("meta", {})
    return all(ma.get(k) is None or mb.get(k) is None or str(ma[k]) == str(mb[k])
               for k in ("llm", "mode"))


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
            name, layout = r["name"], RunLayout.at(r["run_dir"])
            if layout.is_baseline and "/" not in name:  # a baseline names its run
                name = f"{layout.run.root.name}/{name}"
            r["label"] = f"{r['label']} [{name}]"
    dup = clashes()  # runs of one name (the same default name in two folders): their paths
    if dup:
        paths = {r["run_dir"]: Path(r["run_dir"]).resolve() for r in rows}
        common = Path(os.path.commonpath(list(paths.values())))
        for r in rows:
            if r["label"] in dup:
                where = paths[r["run_dir"]].relative_to(common).as_posix() or "."
                r["label"] = f"{r['label'].rsplit(' [', 1)[0]} [{where}]"


def load_comparison(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a comparison ``report.json`` written by :func:`~uqa_eval.report.write_comparison`."""
    from uqa_data.io import read_json

    data = read_json(path, what="comparison file")
    if not isinstance(data, dict) or data.get("schema") != COMPARISON_SCHEMA:
        raise UqaInputError(f"{path}: not a uqa comparison (schema '{COMPARISON_SCHEMA}')")
    return data

