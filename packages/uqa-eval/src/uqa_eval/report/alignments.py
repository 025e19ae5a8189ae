"""Alignment replicates: the same runs aligned again with other ``align.seed`` values.

A paired interval in a single report covers the choice of questions only: it holds each
adapter fixed. Two alignments of the same embeddings on the same questions can differ by
more than the gaps between encoders (BENCHMARKS.md, "The same encoders aligned again with
another seed"), so a comparison between runs aligned separately needs the alignments'
spread too. Given the same runs aligned K times (same data, questions and embeddings;
``uqa study --align-seeds``, or runs made with ``--set align.seed=N`` and read with
``uqa report --replicates``), this averages every run's verdicts over its alignments and
widens each interval by how much the alignments disagree.

For a run ``l`` with alignments ``k = 1..K`` on the shared questions: its accuracy is the
mean over alignments and questions; for a difference ``a - b`` (or a run alone), the
variance is the question-sampling variance of the per-question scores averaged over the
alignments (``Var(d_q) / Q``) plus, for each side, the sample variance of its K
alignments' accuracies over K (the alignments share the questions, so their spread is the
alignment's alone). The 95% interval is Student's t with Welch-Satterthwaite degrees of
freedom: a spread read off two or three alignments is a rough estimate, and where it
dominates the interval says so by being wide.

Schema ``uqa-alignments/1``::

    {"schema", "replicates": [{"name", "align_seed"}], "labels": [...], "controls": [...],
     "metrics", "columns": [{"key", "label"}], "runs": {label: [run_dir per replicate]},
     "results": {metric: {column: {
         "accuracy": {label: {"per_replicate": [acc...], "acc", "lo", "hi", "n",
                              "spread", "disagree"}},
         "rank": {label: rank},                      # runs only; 1 = best
         "pairs": [{"a", "b", "control", "per_replicate": [diff...],
                    "diff", "lo", "hi", "df", "signal", "alignment_share"}]}}}}

``spread``: the standard deviation of the run's accuracy over its alignments;
``disagree``: the share of questions on which two of its alignments differ in verdict
(mean over every two); ``alignment_share``: the part of a difference's variance that
comes from the alignments rather than from the choice of questions.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from uqa_data.errors import UqaInputError

from uqa_eval.report.aggregate import Column, Verdicts, correct_by, has_metric, in_column
from uqa_eval.report.compare import load_run, run_verdicts
from uqa_eval.report.seeds import (
    SEED_COLUMNS,
    SEED_METRICS,
    Control,
    compared_pairs,
    grid_table,
    kendall_tau_b,
    ranks,
)
from uqa_eval.significance import fmt_difference, student_t_quantile

ALIGNMENTS_SCHEMA = "uqa-alignments/1"


def replicate_difference(sides: Sequence[tuple[float, np.ndarray]]) -> dict[str, Any]:
    """``sum(sign * accuracy)`` over ``sides`` (each ``(sign, correctness [K, Q])`` on the
    same ``Q`` questions, K alignments each), with its 95% interval: question sampling of
    the alignment-averaged scores plus each side's spread between alignments, as a Student
    t interval whose degrees of freedom are Welch-Satterthwaite's (``Q - 1`` for the
    questions, ``K - 1`` for each side's alignments): a spread read off two alignments is
    known roughly, and the interval is as wide as that.

    :returns: ``{"n", "diff", "lo", "hi", "df", "signal", "alignment_share"}``.
    """
    q = sides[0][1].shape[1]
    if q == 0:
        return {"n": 0, "diff": None, "lo": None, "hi": None, "df": None, "signal": False,
                "alignment_share": None}
    per_question = sum(sign * m.mean(0) for sign, m in sides)
    parts = [(float(np.var(per_question, ddof=1)) / q, q - 1)] if q > 1 else []
    parts += [(float(np.var(m.mean(1), ddof=1)) / m.shape[0], m.shape[0] - 1)
              for _, m in sides if m.shape[0] > 1]
    total = sum(v for v, _ in parts)
    alignment_var = sum(v for v, _ in parts[1 if q > 1 else 0:])
    diff = float(per_question.mean())
    if total > 0:
        df = total ** 2 / sum(v ** 2 / k for v, k in parts if v > 0)
        half = student_t_quantile(0.975, df) * math.sqrt(total)
    else:  # every alignment of every side alike on every question: no spread to read
        df, half = math.inf, 0.0
    return {"n": q, "diff": diff, "lo": diff - half, "hi": diff + half,
            "df": None if math.isinf(df) else df, "signal": bool(half < abs(diff)),
            "alignment_share": alignment_var / total if total > 0 else 0.0}


def disagreement(matrix: np.ndarray) -> float | None:
    """The share of questions on which two alignments' verdicts differ, averaged over every
    two of the ``[K, Q]`` rows (None with one alignment or no question)."""
    k, q = matrix.shape
    if k < 2 or q == 0:
        return None
    return float(np.mean([np.mean(matrix[i] != matrix[j])
                          for i, j in itertools.combinations(range(k), 2)]))


def alignment_agreement(replicates: Sequence[Mapping[str, str | os.PathLike[str]]],
                        controls: Sequence[Mapping[str, Control]] | None = None,
                        names: Sequence[str] | None = None,
                        align_seeds: Sequence[int | None] | None = None) -> dict[str, Any]:
    """Average the same runs over several alignments and say what is apart beyond both
    noises (the module docstring).

    :param replicates: per alignment, label -> run directory: the runs to rank; every
        replicate must have the same labels and have answered the same questions.
    :param controls: per alignment, label -> :class:`Control` (a baseline beside the runs);
        those every replicate has are kept, compared with the runs they stand for.
    :param names: each replicate's name (default: ``1``, ``2``...).
    :param align_seeds: each replicate's ``align.seed`` where known.
    :raises UqaInputError: fewer than two replicates, labels or questions that differ.
    """
    k = len(replicates)
    if k < 2:
        raise UqaInputError(f"alignment replicates: {k} given; averaging over alignments "
                            "needs at least two")
    names = [str(n) for n in (names or range(1, k + 1))]
    labels = list(replicates[0])
    for name, rep in zip(names[1:], replicates[1:], strict=True):
        if set(rep) != set(labels):
            differ = sorted(set(labels) ^ set(rep))
            raise UqaInputError(f"replicate {name}: runs {', '.join(differ)} differ from "
                                f"replicate {names[0]}'s; every replicate needs the same runs")
    controls = list(controls or [{}] * k)
    kept = [lab for lab in controls[0]
            if lab not in labels and all(lab in c for c in controls)]
    if len(labels) + len(kept) < 2:
        raise UqaInputError("alignment replicates need at least two runs, or a run and a "
                            "control, to compare")
    dirs = {lab: [Path(rep[lab]) for rep in replicates] for lab in labels}
    dirs.update({lab: [Path(c[lab].run_dir) for c in controls] for lab in kept})
    reports = {lab: [load_run(d) for d in ds] for lab, ds in dirs.items()}
    verdicts = {lab: [run_verdicts(d) for d in ds] for lab, ds in dirs.items()}
    missing = [str(ds[i]) for lab, ds in dirs.items() for i, v in enumerate(verdicts[lab])
               if v is None]
    if missing:
        raise UqaInputError(f"{missing[0]}: no predictions to average over alignments; "
                            "expected predictions/eval.arrow and its questions")
    _check_same_questions(verdicts, dirs)
    metrics = [m for m in SEED_METRICS  # each in every report and every run's verdicts
               if all(has_metric(r, m) for rs in reports.values() for r in rs)
               and all(correct_by(v, m) is not None for vs in verdicts.values() for v in vs
                       if v is not None)]
    compared = compared_pairs(labels, {lab: controls[0][lab] for lab in kept})
    results = {metric: {c.key: _column(labels, kept, compared, verdicts, metric, c)
                        for c in SEED_COLUMNS}
               for metric in metrics}
    first = controls[0]
    return {
        "schema": ALIGNMENTS_SCHEMA,
        "replicates": [{"name": n, "align_seed": s} for n, s in
                       zip(names, align_seeds or [None] * k, strict=True)],
        "labels": labels,
        "controls": [{"label": lab, "owner": first[lab].owner,
                      **({"reference": True} if first[lab].reference else {})}
                     for lab in kept],
        "metrics": metrics,
        "columns": [{"key": c.key, "label": c.label} for c in SEED_COLUMNS],
        "runs": {lab: [str(d) for d in ds] for lab, ds in dirs.items()},
        "results": results,
    }


def seed_alignment_agreement(per_seed: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """Several seeds, each read over its alignments: the alignment agreement of each seed
    (:func:`alignment_agreement`, the same runs and controls in every seed) as a seed
    agreement (:mod:`uqa_eval.report.seeds`' schema and Markdown): each seed's
    alignment-averaged accuracy and rank, Kendall's tau-b between the seeds' rankings, the
    pairs apart in every seed by intervals that cover questions and alignments, and each
    pair's random-effects mean over the seeds.

    :raises UqaInputError: fewer than two seeds, or runs or metrics that differ between them.
    """
    from uqa_eval.report.seeds import SEEDS_SCHEMA
    from uqa_eval.significance import pooled_difference

    seeds = sorted(per_seed)
    if len(seeds) < 2:
        raise UqaInputError(f"seed agreement needs at least two seeds; got {seeds}")
    first = per_seed[seeds[0]]
    controls = [c["label"] for c in first["controls"]]
    for seed in seeds[1:]:
        other = per_seed[seed]
        if other["labels"] != first["labels"] or [c["label"] for c in other["controls"]] \
                != controls:
            raise UqaInputError(f"seed {seed}: its runs and controls differ from seed "
                                f"{seeds[0]}'s; every seed needs the same")
    metrics = [m for m in first["metrics"] if all(m in per_seed[s]["metrics"] for s in seeds)]
    labels = first["labels"]
    results: dict[str, Any] = {}
    for metric in metrics:
        results[metric] = {}
        for col in first["columns"]:
            res = {s: per_seed[s]["results"][metric][col["key"]] for s in seeds}
            accuracy = {lab: {str(s): {k: res[s]["accuracy"][lab][k]
                                       for k in ("acc", "lo", "hi", "n")} for s in seeds}
                        for lab in labels + controls}
            scored = [lab for lab in labels
                      if all(accuracy[lab][str(s)]["acc"] is not None for s in seeds)]
            tau = []
            for a, b in itertools.combinations(seeds, 2) if len(scored) >= 2 else ():
                t = kendall_tau_b([accuracy[lab][str(a)]["acc"] for lab in scored],
                                  [accuracy[lab][str(b)]["acc"] for lab in scored])
                tau.append({"seeds": [a, b], "n": len(scored),
                            "tau_b": None if math.isnan(t) else t, "lo": None, "hi": None})
            pairs = []
            for i, p in enumerate(res[seeds[0]]["pairs"]):
                per = {str(s): res[s]["pairs"][i] for s in seeds}
                signs = {(1 if d["diff"] > 0 else -1) if d.get("signal") else 0
                         for d in per.values()}
                pairs.append({"a": p["a"], "b": p["b"], "control": p["control"],
                              "per_seed": per, "held": len(signs) == 1 and 0 not in signs,
                              "pooled": pooled_difference(list(per.values()))})
            results[metric][col["key"]] = {
                "accuracy": accuracy,
                "mean": {lab: sum(accuracy[lab][str(s)]["acc"] for s in seeds) / len(seeds)
                         for lab in labels + controls
                         if all(accuracy[lab][str(s)]["acc"] is not None for s in seeds)},
                "rank": {lab: {str(s): res[s]["rank"][lab] for s in seeds} for lab in scored},
                "tau": tau, "pairs": pairs}
    return {
        "schema": SEEDS_SCHEMA, "seeds": seeds, "labels": labels,
        "controls": first["controls"], "metrics": metrics, "columns": first["columns"],
        "runs": {lab: {str(s): per_seed[s]["runs"][lab] for s in seeds}
                 for lab in labels + controls},
        "alignments": {str(s): per_seed[s]["replicates"] for s in seeds},
        "results": results, "attributes": {},
        "interval_short": "95% over questions and alignments",
        "intervals": ("Accuracy in %, each seed's averaged over its alignments "
                      f"({', '.join(str(len(per_seed[s]['replicates'])) for s in seeds)} per "
                      "seed), with a 95% interval covering both the choice of questions and "
                      "the spread between its alignments (Student t, Welch-Satterthwaite); "
                      "each seed's differences likewise."),
    }


def replicates_report(paths: Sequence[Path], out: Path | None = None,
                      what: str = "--replicates") -> dict[str, Any]:
    """``uqa report --replicates`` and ``uqa-eval replicates`` (``what``, for messages):
    ``paths`` checked (two or more directories), then :func:`alignment_report` into
    ``out`` (default: the first run's ``report/compare/``, or a study's ``report/``)."""
    from uqa_data.layout import RunLayout

    if len(paths) < 2:
        raise UqaInputError(f"{what}: {len(paths)} path given; expected two or more "
                            "alignments of the same runs")
    for p in paths:
        if not Path(p).is_dir():
            raise UqaInputError(f"{p}: no such directory ({what} expects run or study "
                                "directories)")
    if out is not None:
        from uqa_data.rundir import check_dir_path

        check_dir_path(out, "--out", "a directory for alignments.md and alignments.json")
    home = RunLayout.at(Path(paths[0]))
    return alignment_report(paths, out or (home.compare if home.is_run() else home.report))


def alignment_report(replicates: Sequence[str | os.PathLike[str]],
                     report_dir: str | os.PathLike[str], *, show: bool = True
                     ) -> dict[str, Any]:
    """The same runs aligned several times (each of ``replicates`` a run directory or a
    study directory, one per alignment), averaged over the alignments
    (:func:`alignment_agreement`), written into ``report_dir/alignments.{json,md}`` and
    printed (the tables on stdout) when ``show``.

    :raises UqaInputError: a replicate that is neither, runs that differ between them,
        or two replicates holding the same alignment of a run.
    """
    from uqa_data.progress import console

    from uqa_eval.report import print_table
    from uqa_eval.report.seeds import controls_of

    runs = [replicate_runs(Path(r)) for r in replicates]
    controls = [controls_of(one) for one in runs]
    seeds = [_align_record(next(iter(one.values()))).get("seed") for one in runs]
    seeds = [s if isinstance(s, int) else None for s in seeds]
    for label in [*runs[0], *controls[0]]:
        seen: dict[str, Path] = {}
        for one, kept in zip(runs, controls, strict=True):
            where = one.get(label) or (Path(kept[label].run_dir) if label in kept else None)
            record = _align_record(where) if where is not None else {}
            if record.get("status") not in (None, "done"):  # e.g. copied, then aligned again
                raise UqaInputError(
                    f"{where}: its alignment ({record['stage']} in run.json) is "
                    f"{record['status']}, not done; its answers may be another alignment's")
            fp = record.get("fingerprint")
            if fp and fp in seen:
                raise UqaInputError(
                    f"{where}: the same alignment as {seen[fp]} ({record['stage']} "
                    f"fingerprint {fp}); replicates need other alignments, e.g. --set "
                    "align.seed=1")
            if fp and where is not None:
                seen[fp] = where
    named = len(set(seeds)) == len(seeds) and None not in seeds
    agreement = alignment_agreement(runs, controls,
                                    names=[f"seed {s}" if named else str(r)
                                           for s, r in zip(seeds, replicates, strict=True)],
                                    align_seeds=seeds)
    paths = write_alignment_agreement(agreement, report_dir)
    if show:
        for table in alignments_tables(agreement):
            print_table(table)
    console.print(f"over the alignments: {paths['md']}", highlight=False, soft_wrap=True)
    return agreement


def replicate_runs(path: Path) -> dict[str, Path]:
    """The runs of one alignment replicate, by label: a study directory's variants
    (``study.json``), or one run directory labelled as a comparison labels it (its
    encoder, or the embeddings file ``uqa-eval score-embeddings`` read)."""
    from uqa_data.io import read_json
    from uqa_data.layout import RunLayout

    from uqa_eval.report.compare import kind_of

    marker = path / "study.json"
    if marker.is_file():
        info = read_json(marker, what="study.json")
        variants = info.get("variants") if isinstance(info, dict) else None
        if isinstance(variants, list) and variants:
            return {v["label"]: path / v["label"] for v in variants}
    if not RunLayout.at(path).is_run():
        raise UqaInputError(f"{path}: neither a run nor a study directory; expected run.json "
                            "or study.json")
    return {kind_of(load_run(path)).label: path}


def _align_record(run_dir: Path) -> dict[str, Any]:
    """``{"stage", "status", "fingerprint", "seed"}`` of the alignment behind a run
    directory, from the run.json that records it: a run's ``align``; a baseline's
    (``<run>/baselines/<name>``) own ``align-<name>``, else its run's adapter (``shuffled``
    answers with it); ``{}`` where none is recorded."""
    from uqa_data.layout import RunLayout

    run_dir = Path(run_dir)
    home, names = ((run_dir.parent.parent, (f"align-{run_dir.name}", "align"))
                   if run_dir.parent.name == "baselines" else (run_dir, ("align",)))
    record = RunLayout(home).record()
    for name in names:
        stage = record.stages.get(name) if record else None
        if isinstance(stage, dict):
            return {"stage": name, "status": stage.get("status"),
                    "fingerprint": stage.get("fingerprint"),
                    "seed": (stage.get("config") or {}).get("seed")}
    return {}


def _check_same_questions(verdicts: Mapping[str, list[Verdicts | None]],
                          dirs: Mapping[str, list[Path]]) -> None:
    """Every alignment of every run answered the same questions (one data seed)."""
    expected: set[str] | None = None
    where = None
    for lab, vs in verdicts.items():
        for v, d in zip(vs, dirs[lab], strict=True):
            ids = set(v.question_ids) if v is not None else set()
            if expected is None:
                expected, where = ids, d
            elif ids != expected:
                raise UqaInputError(
                    f"{d}: answered other questions than {where}; alignment replicates "
                    "need the same data and questions (other data seeds: uqa study --seeds)")


def _matrix(vs: Sequence[Verdicts | None], ids: Sequence[str], metric: str) -> np.ndarray:
    """``[K, Q]`` correctness of the alignments ``vs`` on the questions ``ids``."""
    rows = []
    for v in vs:
        assert v is not None
        right = correct_by(v, metric)
        assert right is not None
        at = {q: i for i, q in enumerate(v.question_ids)}
        rows.append(np.asarray(right, dtype=bool)[[at[q] for q in ids]])
    return np.stack(rows).astype(np.float64)


def _column(labels: list[str], kept: list[str], compared: list[tuple[str, str]],
            verdicts: Mapping[str, list[Verdicts | None]], metric: str, column: Column
            ) -> dict[str, Any]:
    first = verdicts[labels[0]][0]
    assert first is not None
    keep = in_column(first, column)
    ids = [q for q, k in zip(first.question_ids, keep, strict=True) if k]
    mats = {lab: _matrix(verdicts[lab], ids, metric) for lab in labels + kept}
    accuracy = {}
    for lab, m in mats.items():
        alone = replicate_difference([(1.0, m)])
        per = [float(x) for x in m.mean(1)] if ids else []
        accuracy[lab] = {"per_replicate": per, "acc": alone["diff"], "lo": alone["lo"],
                         "hi": alone["hi"], "n": len(ids),
                         "spread": float(np.std(per, ddof=1)) if len(per) > 1 else None,
                         "disagree": disagreement(m)}
    scored = [lab for lab in labels if accuracy[lab]["acc"] is not None]
    rank = ranks({lab: accuracy[lab]["acc"] for lab in scored})
    tau = []
    reps = next(iter(mats.values())).shape[0]
    if len(scored) >= 2:  # how far each two single alignments agree on the ranking
        for i, j in itertools.combinations(range(reps), 2):
            t = kendall_tau_b([accuracy[lab]["per_replicate"][i] for lab in scored],
                              [accuracy[lab]["per_replicate"][j] for lab in scored])
            tau.append({"replicates": [i, j], "n": len(scored),
                        "tau_b": None if math.isnan(t) else t})
    pairs = []
    for a, b in compared:
        d = replicate_difference([(1.0, mats[a]), (-1.0, mats[b])])
        per = [x - y for x, y in zip(accuracy[a]["per_replicate"],
                                     accuracy[b]["per_replicate"], strict=True)]
        pairs.append({"a": a, "b": b, "control": b in kept, "per_replicate": per, **d})
    return {"accuracy": accuracy, "rank": rank, "tau": tau, "pairs": pairs}


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def _acc_cell(cell: Mapping[str, Any]) -> str:
    if cell.get("acc") is None:
        return "-"
    return f"{_pct(cell['acc'])} [{_pct(cell['lo'])}, {_pct(cell['hi'])}]"


def _header(agreement: Mapping[str, Any]) -> list[str]:
    reps = [r["name"] for r in agreement["replicates"]]
    return ["Run", *(f"align {r}" for r in reps), "mean [95%]", "spread", "disagree", "rank"]


def _rows(agreement: Mapping[str, Any], res: Mapping[str, Any]) -> list[list[str]]:
    out = []
    for lab in agreement["labels"] + [c["label"] for c in agreement.get("controls", [])]:
        cell = res["accuracy"][lab]
        spread = cell.get("spread")
        rank = res["rank"].get(lab)
        out.append([lab, *(_pct(x) for x in cell["per_replicate"]), _acc_cell(cell),
                    "-" if spread is None else f"{100 * spread:.1f}",
                    "-" if cell.get("disagree") is None else f"{100 * cell['disagree']:.0f}%",
                    "-" if rank is None else f"{rank:g}"])
    return out


def _pair_header(agreement: Mapping[str, Any]) -> list[str]:
    reps = [r["name"] for r in agreement["replicates"]]
    return ["Run", "Compared with", *(f"align {r}" for r in reps), "mean [95%]",
            "from alignment"]


def _pair_rows(res: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for p in sorted(res["pairs"], key=lambda p: bool(p.get("control"))):
        share = p.get("alignment_share")
        rows.append([p["a"], p["b"], *(f"{100 * x:+.1f}" for x in p["per_replicate"]),
                     fmt_difference(p) + (" *" if p.get("signal") else ""),
                     "-" if share is None else f"{100 * share:.0f}%"])
    return rows


def _sentences(res: Mapping[str, Any], where: str) -> list[str]:
    out = []
    for t in res["tau"]:
        i, j = t["replicates"]
        value = "undefined" if t["tau_b"] is None else f"{t['tau_b']:+.2f}"
        out.append(f"Kendall tau-b between alignments {i + 1} and {j + 1}, {where} "
                   f"({t['n']} runs): {value}")
    for control, what in ((False, "Pairs of runs"), (True, "Runs against their controls")):
        chosen = [p for p in res["pairs"] if bool(p.get("control")) == control]
        if not chosen:
            continue
        apart = [p for p in chosen if p["signal"]]
        line = (f"{what} apart beyond question sampling and the alignments' spread: "
                f"{len(apart)} of {len(chosen)}")
        if apart:
            line += ": " + "; ".join(
                f"{p['a']} > {p['b']}" if p["diff"] > 0 else f"{p['b']} > {p['a']}"
                for p in apart)
        out.append(line)
    return out


NOTE = ("Accuracy in %, averaged over the alignments, with a 95% interval covering both the "
        "choice of questions and the spread between alignments (sample variance of the "
        "alignments' accuracies over their number; Student's t with Welch-Satterthwaite "
        "degrees of freedom, so a spread read off two or three alignments widens it "
        "much). spread: standard deviation of a run's accuracy over its alignments, in "
        "points; disagree: the share of questions on which two of its alignments differ "
        "in verdict. Differences in points, `*` where the interval excludes zero; "
        "\"from alignment\": the share of the difference's variance that the alignments "
        "contribute.")


def alignments_markdown(agreement: Mapping[str, Any]) -> str:
    """The alignment agreement as Markdown: per metric and column, each run's accuracy per
    alignment and averaged, then each compared pair."""
    reps = ", ".join(f"{r['name']}" + (f" (align.seed {r['align_seed']})"
                                       if r.get("align_seed") is not None else "")
                     for r in agreement["replicates"])
    lines = [f"# The same runs over {len(agreement['replicates'])} alignments", "",
             f"Alignments: {reps}.", ""]
    if not agreement["metrics"]:
        lines.append("No metric is shared by every run.")
    for metric in agreement["metrics"]:
        for col in agreement["columns"]:
            res = agreement["results"][metric][col["key"]]
            head = _header(agreement)
            lines += [f"## `{metric}`, {col['label']}", "", "| " + " | ".join(head) + " |",
                      "|---|" + "---:|" * (len(head) - 1)]
            lines += ["| " + " | ".join(cells) + " |" for cells in _rows(agreement, res)]
            lines += ["", *(f"{line}\n" for line in _sentences(res, col["label"]))]
            if res["pairs"]:
                head = _pair_header(agreement)
                lines += ["| " + " | ".join(head) + " |",
                          "|---|---|" + "---:|" * (len(head) - 2)]
                lines += ["| " + " | ".join(cells) + " |" for cells in _pair_rows(res)]
                lines.append("")
    lines.append(NOTE)
    return "\n".join(lines) + "\n"


def alignments_tables(agreement: Mapping[str, Any]) -> list[Any]:
    """Rich tables of :func:`alignments_markdown`."""
    tables = []
    for metric in agreement["metrics"]:
        for col in agreement["columns"]:
            res = agreement["results"][metric][col["key"]]
            tables.append(grid_table(
                f"over {len(agreement['replicates'])} alignments: {metric}, {col['label']} "
                "(%, 95% over questions and alignments)", _header(agreement),
                _rows(agreement, res), caption="\n".join(_sentences(res, col["label"]))))
            if res["pairs"]:
                tables.append(grid_table(
                    f"differences over the alignments: {metric}, {col['label']} (points, "
                    "95%; * excludes zero)", _pair_header(agreement), _pair_rows(res),
                    labels=2))
    return tables


def write_alignment_agreement(agreement: Mapping[str, Any],
                              report_dir: str | os.PathLike[str]) -> dict[str, str]:
    """Write ``alignments.json`` and ``alignments.md`` into ``report_dir``, atomically."""
    from uqa_data.io import write_json, write_text

    out = Path(report_dir)
    return {"json": str(write_json(dict(agreement), out / "alignments.json")),
            "md": str(write_text(alignments_markdown(agreement), out / "alignments.md"))}
