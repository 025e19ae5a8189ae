"""Does a ranking hold across seeds? The same runs (a study's variants) made with
several seeds, each accuracy with its interval, each seed's ranking, Kendall's tau-b
between the seeds' rankings, and which pairs of runs are apart beyond noise in every seed.

Seed agreement (schema ``uqa-seeds/1``)::

    {"schema", "seeds": [0, 1], "labels": [...], "metrics": ["acc", "acc_pmi"],
     "columns": [{"key", "label"}],              # interest perception, overall
     "runs": {label: {seed: run_dir}},
     "results": {metric: {column: {
         "accuracy": {label: {seed: {"acc", "lo", "hi", "n"}}},
         "mean": {label: mean accuracy over the seeds},
         "rank": {label: {seed: rank}},          # 1 = best; ties share the mean rank
         "tau": [{"seeds": [a, b], "tau_b", "n", "lo", "hi"}],  # lo, hi: 95% bootstrap
         "pairs": [{"a", "b", "control", "per_seed": {seed: paired difference a - b},
                    "held", "pooled": {"diff", "lo", "hi", "tau2", "i2", "signal"}}]}}},
     "attributes": {metric: [{"a", "b", "columns": {attribute: {"per_seed", "pooled"}}}]},
     "controls": [{"label", "owner", "reference"?}]}  # shown and compared, not ranked

Pairs are every two runs, each run against each control that stands for it (``none``
for all; a run's own ``shuffled`` or ``random``), and each reference baseline (the
oracle, an untrained encoder) against the controls that know nothing of the user. A
pair is *held* when its paired interval excludes zero with the same sign in every seed:
the one ordering a reader can rely on. ``pooled`` is the pair's mean difference over
the seeds with a random-effects interval (:func:`uqa_eval.significance.pooled_difference`):
what one number over all seeds says, widened by how much the seeds disagree.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from uqa_data.errors import UqaInputError

from uqa_eval.report.aggregate import (
    ATTRIBUTE_COLUMNS,
    Column,
    Verdicts,
    correct_by,
    entry_of,
    has_metric,
    in_column,
    paired_differences,
)
from uqa_eval.report.compare import load_run, run_verdicts
from uqa_eval.significance import fmt_difference, pooled_difference, wilson

SEEDS_SCHEMA = "uqa-seeds/1"

SEED_COLUMNS: tuple[Column, ...] = (
    Column("interest_perception", "Int. Avg.", "dimension"),
    Column("overall", "Overall", "overall"),
)
"""Where rankings are compared: interest perception (the user's interests) and overall."""

SEED_METRICS: tuple[str, ...] = ("acc", "acc_pmi")

INTERVALS = ("Accuracy in % with its 95% Wilson interval; each seed's differences with their "
             "paired 95% bootstrap interval.")
"""What a seed agreement's intervals are (an agreement's ``intervals`` says otherwise:
:func:`uqa_eval.report.alignments.seed_alignment_agreement`)."""


def kendall_tau_b(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-b of two score lists over the same items (ties in either counted);
    NaN when either list is constant."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} and {len(b)} scores: tau needs the same items")
    concordant = discordant = ties_a = ties_b = 0
    for i, j in itertools.combinations(range(len(a)), 2):
        da, db = _sign(a[i] - a[j]), _sign(b[i] - b[j])
        if da == 0 and db == 0:
            continue
        if da == 0:
            ties_a += 1
        elif db == 0:
            ties_b += 1
        elif da == db:
            concordant += 1
        else:
            discordant += 1
    n = concordant + discordant
    denom = math.sqrt((n + ties_a) * (n + ties_b))
    return (concordant - discordant) / denom if denom else math.nan


def _sign(x: float) -> int:
    return int(x > 0) - int(x < 0)


TAU_RESAMPLES = 2000


def tau_b_interval(first: np.ndarray, second: np.ndarray, *, resamples: int = TAU_RESAMPLES,
                   seed: int = 0) -> tuple[float, float] | None:
    """95% bootstrap interval of the tau-b between two seeds' rankings of the same runs.

    ``first`` and ``second`` are ``[runs, questions]`` correctness, one row per run in the
    same order, each seed over its own questions. Each resample draws each seed's questions
    again with replacement (every run of a seed keeps the same draw: they answered the
    same questions), ranks the runs by how many they got right and takes tau-b: how far
    question sampling alone moves the agreement (not training, which a seed also draws).
    None with fewer than two runs or when tau-b is undefined (every run tied) on more
    than half of the resamples."""
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    k = first.shape[0]
    if k < 2 or second.shape[0] != k or not first.shape[1] or not second.shape[1]:
        return None
    rng = np.random.default_rng(seed)
    counts = []
    for c in (first, second):  # [resamples, runs]: right answers on each draw
        n = c.shape[1]
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples)
        counts.append(weights @ c.T)
    i, j = np.triu_indices(k, 1)
    da, db = (np.sign(c[:, i] - c[:, j]) for c in counts)
    concordant = ((da * db) > 0).sum(1)
    discordant = ((da * db) < 0).sum(1)
    ties_a = ((da == 0) & (db != 0)).sum(1)
    ties_b = ((db == 0) & (da != 0)).sum(1)
    untied = concordant + discordant
    denom = np.sqrt((untied + ties_a) * (untied + ties_b))
    ok = denom > 0
    if ok.sum() * 2 <= resamples:
        return None
    taus = (concordant - discordant)[ok] / denom[ok]
    lo, hi = np.quantile(taus, [0.025, 0.975])
    return float(lo), float(hi)


def _correctness(verdicts: Mapping[Any, Verdicts | None], keys: Sequence[Any], metric: str,
                 column: Column) -> np.ndarray | None:
    """``[runs, questions]`` correctness of the runs ``keys`` (one seed's) on the questions
    of ``column`` that all of them answered, or None where one has no such verdicts."""
    got = [verdicts.get(key) for key in keys]
    if any(v is None for v in got):
        return None
    arrays = [correct_by(v, metric) for v in got]
    if any(a is None for a in arrays):
        return None
    common = set(got[0].question_ids).intersection(*(v.question_ids for v in got[1:]))
    first = got[0]
    keep = in_column(first, column)
    ids = [q for q, k in zip(first.question_ids, keep, strict=True) if k and q in common]
    rows = []
    for v, a in zip(got, arrays, strict=True):
        at = {q: i for i, q in enumerate(v.question_ids)}
        rows.append(np.asarray(a, dtype=bool)[[at[q] for q in ids]])
    return np.stack(rows)


def ranks(scores: Mapping[str, float]) -> dict[str, float]:
    """1 for the highest score; tied scores share the mean of their places."""
    order = sorted(scores, key=lambda k: -scores[k])
    out: dict[str, float] = {}
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in order[i:j + 1]:
            out[k] = (i + j) / 2 + 1
        i = j + 1
    return out


def seed_agreement(runs: Mapping[int, Mapping[str, str | os.PathLike[str]]],
                   controls: Mapping[int, Mapping[str, Control]] | None = None
                   ) -> dict[str, Any]:
    """Compare the same runs over several seeds.

    :param runs: seed -> label -> run directory: the runs to rank; every seed must have
        the same labels (at least two seeds).
    :param controls: seed -> label -> :class:`Control` (a baseline kept beside the runs:
        ``none``, a run's ``shuffled``...): shown, compared with the runs it stands for,
        never ranked; those every seed has are kept.
    :returns: the seed agreement described in the module docstring, for each metric
        every row has (``acc``; ``acc_pmi`` where each has a ``none`` to compare with).
    :raises UqaInputError: fewer than two seeds, nothing to compare, or a run missing in
        a seed.
    """
    seeds = sorted(runs)
    if len(seeds) < 2:
        raise UqaInputError(f"seed agreement needs at least two seeds; got {seeds}")
    labels = list(runs[seeds[0]])
    for s in seeds[1:]:
        if set(runs[s]) != set(labels):
            missing = sorted(set(labels) ^ set(runs[s]))
            raise UqaInputError(f"seed {s}: runs {', '.join(missing)} differ from seed "
                                f"{seeds[0]}'s; every seed needs the same runs")
    controls = controls or {}
    kept = [lab for lab in (controls.get(seeds[0]) or {})
            if lab not in labels and all(lab in (controls.get(s) or {}) for s in seeds)]
    if len(labels) + len(kept) < 2:
        raise UqaInputError("seed agreement needs at least two runs, or a run and a "
                            "control, to compare")
    dirs = {(s, lab): Path(runs[s][lab]) for s in seeds for lab in labels}
    dirs.update({(s, lab): Path(controls[s][lab].run_dir) for s in seeds for lab in kept})
    reports = {key: load_run(d) for key, d in dirs.items()}
    verdicts = {key: run_verdicts(d) for key, d in dirs.items()}
    metrics = [m for m in SEED_METRICS if all(has_metric(r, m) for r in reports.values())]
    first = controls[seeds[0]] if kept else {}
    owners = {lab: first[lab].owner for lab in kept}
    compared = compared_pairs(labels, {lab: first[lab] for lab in kept})
    paired = _PairedCache(verdicts)
    results = {metric: {c.key: _column_agreement(seeds, labels, kept, compared, reports,
                                                 paired, metric, c)
                        for c in SEED_COLUMNS}
               for metric in metrics}
    against = [(a, b) for a, b in compared if b in kept]
    by_attribute = {metric: _attribute_agreement(seeds, against, paired, metric)
                    for metric in metrics}
    return {
        "schema": SEEDS_SCHEMA,
        "seeds": seeds,
        "labels": labels,
        "controls": [{"label": lab, "owner": owners[lab],
                      **({"reference": True} if first[lab].reference else {})}
                     for lab in kept],
        "metrics": metrics,
        "columns": [{"key": c.key, "label": c.label} for c in SEED_COLUMNS],
        "runs": {lab: {str(s): str(dirs[s, lab]) for s in seeds} for lab in labels + kept},
        "results": results,
        "attributes": by_attribute,
    }


def compared_pairs(labels: Sequence[str], controls: Mapping[str, Control]
                   ) -> list[tuple[str, str]]:
    """What a study's runs are compared on: every two runs, each run against each control
    that stands for it (``none`` for all; a run's own ``shuffled`` or ``random``), and each
    reference (the oracle, an untrained encoder) against the controls that know nothing
    of the user and stand for its run."""
    return list(itertools.combinations(labels, 2)) + [
        (lab, c) for lab in labels for c, k in controls.items() if k.owner in (None, lab)] + [
        (r, c) for r, kr in controls.items() if kr.reference for c, k in controls.items()
        if not k.reference and k.owner in (None, kr.owner or kr.home)]


@dataclass(frozen=True)
class Control:
    """A baseline beside the ranked runs: its directory, and the run it stands for (None:
    every run, like ``none``; a label: that run's own ``shuffled`` or ``random``).

    ``reference``: a baseline that knows the user (the oracle, an untrained encoder), not a
    control; it is also compared with the controls that know nothing of the user and stand
    for its run (``home``: the run whose directory holds it), as a single run's report
    compares it."""

    run_dir: str | os.PathLike[str]
    owner: str | None = None
    reference: bool = False
    home: str | None = None


def controls_of(variants: Mapping[str, str | os.PathLike[str]]) -> dict[str, Control]:
    """The finished baselines kept in a study's variants (label -> run directory), by row
    label: a baseline that reads its variant's encoder (``shuffled``, ``random``) as
    ``<variant>/<name>`` standing for that variant, any other (``none``, ``oracle``...) by
    its name, for every variant; those that know the user (``random``, ``oracle``) marked
    as references. A baseline whose plugin is not installed here is left out."""
    from uqa_data.errors import UnknownNameError, UqaError
    from uqa_data.layout import RunLayout

    from uqa_eval.baselines import get_baseline

    out: dict[str, Control] = {}
    for label, run_dir in variants.items():
        for b in RunLayout(Path(run_dir)).baselines():
            if not b.predictions.is_file():
                continue
            try:
                base = get_baseline(b.name)
            except (UnknownNameError, UqaError):
                continue
            reference = not base.no_user and base.context != "text"
            if base.reads_run_encoder:
                out[f"{label}/{b.name}"] = Control(b.root, label, reference=reference)
            else:
                out.setdefault(b.name, Control(b.root, reference=reference, home=label))
    return out


class _PairedCache:
    """:func:`paired_differences` of two runs of a seed, computed once for every column."""

    def __init__(self, verdicts: Mapping) -> None:
        self.verdicts = verdicts
        self.done: dict[tuple[Any, ...], dict[str, Any] | None] = {}

    def columns(self, seed: int, a: str, b: str, metric: str) -> dict[str, Any] | None:
        key = (seed, a, b, metric)
        if key not in self.done:
            va, vb = self.verdicts[seed, a], self.verdicts[seed, b]
            self.done[key] = (paired_differences(va, vb, metric)["columns"]
                              if va is not None and vb is not None else None)
        return self.done[key]


def _attribute_agreement(seeds: list[int], pairs: list[tuple[str, str]],
                         paired: _PairedCache, metric: str) -> list[dict[str, Any]]:
    """Each run (or reference) against each control that stands for it, on the questions
    about each attribute (:data:`ATTRIBUTE_COLUMNS` every seed has): per seed and pooled."""
    out = []
    for a, b in pairs:
        per = {s: paired.columns(s, a, b, metric) for s in seeds}
        if any(v is None for v in per.values()):
            continue
        cols = {}
        for c in ATTRIBUTE_COLUMNS:
            per_seed = {str(s): per[s].get(c.key) for s in seeds}
            if all(d and d.get("n") for d in per_seed.values()):
                cols[c.key] = {"per_seed": per_seed,
                               "pooled": pooled_difference(list(per_seed.values()))}
        if cols:
            out.append({"a": a, "b": b, "columns": cols})
    return out


def _column_agreement(seeds: list[int], labels: list[str], kept: list[str],
                      compared: list[tuple[str, str]], reports: Mapping, paired: _PairedCache,
                      metric: str, column: Column) -> dict[str, Any]:
    accuracy: dict[str, dict[str, Any]] = {lab: {} for lab in labels + kept}
    for s in seeds:
        for lab in labels + kept:
            entry = entry_of(reports[s, lab], column)
            n, acc = int(entry.get("n", 0)), entry.get(metric)
            lo_hi = wilson(round(acc * n), n) if acc is not None and n else None
            accuracy[lab][str(s)] = {"acc": acc, "n": n, "lo": lo_hi and lo_hi[0],
                                     "hi": lo_hi and lo_hi[1]}
    answered = [lab for lab in labels + kept
                if all(accuracy[lab][str(s)]["acc"] is not None for s in seeds)]
    ranked = [lab for lab in labels if lab in answered]
    per_seed_rank = {s: ranks({lab: accuracy[lab][str(s)]["acc"] for lab in ranked})
                     for s in seeds}
    tau = []
    if len(ranked) >= 2:
        right = {s: _correctness(paired.verdicts, [(s, lab) for lab in ranked], metric, column)
                 for s in seeds}
        for a, b in itertools.combinations(seeds, 2):
            t = _finite(kendall_tau_b([accuracy[lab][str(a)]["acc"] for lab in ranked],
                                      [accuracy[lab][str(b)]["acc"] for lab in ranked]))
            ci = (tau_b_interval(right[a], right[b])
                  if t is not None and right[a] is not None and right[b] is not None else None)
            tau.append({"seeds": [a, b], "n": len(ranked), "tau_b": t,
                        "lo": ci and ci[0], "hi": ci and ci[1]})
    pairs = []
    for a, b in compared:
        if a not in answered or b not in answered:
            continue
        per_seed: dict[str, Any] = {}
        for s in seeds:
            cols = paired.columns(s, a, b, metric)
            per_seed[str(s)] = cols.get(column.key) if cols is not None else None
        signs = {_sign(d["diff"]) if d and d.get("signal") else 0 for d in per_seed.values()}
        pairs.append({"a": a, "b": b, "control": b in kept, "per_seed": per_seed,
                      "held": len(signs) == 1 and 0 not in signs,
                      "pooled": pooled_difference(list(per_seed.values()))})
    mean = {lab: sum(accuracy[lab][str(s)]["acc"] for s in seeds) / len(seeds)
            for lab in answered}
    return {"accuracy": accuracy, "mean": mean,
            "rank": {lab: {str(s): per_seed_rank[s][lab] for s in seeds} for lab in ranked},
            "tau": tau, "pairs": pairs}


def _finite(x: float) -> float | None:
    return None if math.isnan(x) else x


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def _rank_text(r: float) -> str:
    return f"{r:g}"


def _rows(agreement: Mapping[str, Any], res: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """``(label, cells)`` per run, then per control: each seed's accuracy, the mean and
    each seed's rank (``-`` for a control, never ranked)."""
    seeds = [str(s) for s in agreement["seeds"]]
    out = []
    for lab in agreement["labels"] + [c["label"] for c in agreement.get("controls", [])]:
        rk = res["rank"].get(lab, {})
        out.append((lab, [*(_acc_cell(res["accuracy"][lab][s]) for s in seeds),
                          _pct(res["mean"].get(lab)),
                          *(_rank_text(rk[s]) if s in rk else "-" for s in seeds)]))
    return out


def _header(agreement: Mapping[str, Any]) -> list[str]:
    seeds = [str(s) for s in agreement["seeds"]]
    return ["Run", *(f"seed {s}" for s in seeds), "mean", *(f"rank {s}" for s in seeds)]


def _sentences(agreement: Mapping[str, Any], res: Mapping[str, Any], where: str) -> list[str]:
    """Tau-b between each two seeds, the runs' pairs and the runs against their controls
    apart beyond noise in every seed."""
    n = len(agreement["seeds"])
    runs = [p for p in res["pairs"] if not p.get("control")]
    against = [p for p in res["pairs"] if p.get("control")]
    out = [tau_sentence(t, where) for t in res["tau"]]
    if runs:
        out.append(pairs_sentence(runs, n, "Pairs of runs"))
    if against:
        out.append(pairs_sentence(against, n, "Runs against their controls"))
    return out


def seeds_markdown(agreement: Mapping[str, Any]) -> str:
    """The seed agreement as Markdown: per metric and column, each run's (then each
    control's) accuracy and rank per seed, then tau-b and what is apart beyond noise."""
    lines = [f"# Seed agreement: seeds {', '.join(str(s) for s in agreement['seeds'])}", ""]
    if not agreement["metrics"]:
        lines.append("No metric is shared by every run.")
    header = _header(agreement)
    for metric in agreement["metrics"]:
        for col in agreement["columns"]:
            res = agreement["results"][metric][col["key"]]
            lines += [f"## `{metric}`, {col['label']}", "", "| " + " | ".join(header) + " |",
                      "|---|" + "---:|" * (len(header) - 1)]
            lines += [f"| {lab} | " + " | ".join(cells) + " |"
                      for lab, cells in _rows(agreement, res)]
            lines += ["", *(f"{line}\n" for line in _sentences(agreement, res, col["label"]))]
            head = _pair_header(agreement)
            lines += ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
            lines += ["| " + " | ".join(cells) + " |" for cells in _pair_rows(res)]
            lines.append("")
    for metric in agreement["metrics"]:
        head, rows = _attribute_rows(agreement, metric)
        if rows:
            lines += [f"## `{metric}`, what it carries over the seeds, by attribute", "",
                      "| " + " | ".join(head) + " |",
                      "|---|---|" + "---:|" * (len(head) - 2)]
            lines += ["| " + " | ".join(cells) + " |" for cells in rows]
            lines += ["", "Each run against each control on the questions about one "
                      "attribute over every sub-task: the random-effects mean over the "
                      "seeds, in points, `*` where its interval excludes zero.", ""]
    lines.append(agreement.get("intervals", INTERVALS) + " Rank 1 is the best (ties share "
                 "the mean rank; controls are not ranked). A pair is apart in every seed when "
                 "its interval excludes zero with the same sign in each. "
                 "Differences in points, `*` where the interval excludes zero; \"over the "
                 "seeds\": their random-effects mean (DerSimonian-Laird), whose interval widens "
                 "when the seeds disagree beyond question sampling (I2: the share of the spread "
                 "between seeds that question sampling does not explain).")
    return "\n".join(lines) + "\n"


def _attribute_rows(agreement: Mapping[str, Any], metric: str
                    ) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the by-attribute table: each pair's pooled difference per
    attribute (``-`` where a seed has no such question)."""
    pairs = (agreement.get("attributes") or {}).get(metric) or []
    cols = [c for c in ATTRIBUTE_COLUMNS if any(c.key in p["columns"] for p in pairs)]
    head = ["Run", "Compared with", *(c.label for c in cols)]
    rows = [[p["a"], p["b"], *(_diff_cell(p["columns"][c.key]["pooled"])
                               if c.key in p["columns"] else "-" for c in cols)]
            for p in pairs]
    return head, rows


def _pair_header(agreement: Mapping[str, Any]) -> list[str]:
    seeds = [str(s) for s in agreement["seeds"]]
    return ["Run", "Compared with", *(f"seed {s}" for s in seeds), "over the seeds", "I2"]


def _diff_cell(d: Mapping[str, Any] | None) -> str:
    return fmt_difference(dict(d or {})) + (" *" if d and d.get("signal") else "")


def _pair_rows(res: Mapping[str, Any]) -> list[list[str]]:
    """Each pair (runs first, then runs against their controls): its paired difference
    per seed and over the seeds, with I2."""
    rows = []
    for p in sorted(res["pairs"], key=lambda p: bool(p.get("control"))):
        pooled = p.get("pooled") or {}
        i2 = pooled.get("i2")
        rows.append([p["a"], p["b"], *(_diff_cell(d) for d in p["per_seed"].values()),
                     _diff_cell(pooled), "-" if i2 is None else f"{100 * i2:.0f}%"])
    return rows


def _acc_cell(cell: Mapping[str, Any]) -> str:
    if cell.get("acc") is None:
        return "-"
    return f"{_pct(cell['acc'])} [{_pct(cell['lo'])}, {_pct(cell['hi'])}]"


def tau_sentence(tau: Mapping[str, Any], where: str) -> str:
    a, b = tau["seeds"]
    t = tau["tau_b"]
    value = "undefined (a ranking with every score tied)" if t is None or math.isnan(t) \
        else f"{t:+.2f}"
    if tau.get("lo") is not None:
        value += (f" [{tau['lo']:+.2f}, {tau['hi']:+.2f}] (95% bootstrap over each seed's "
                  "questions: how far question sampling alone moves it)")
    return f"Kendall tau-b, seeds {a} and {b}, {where} ({tau['n']} runs): {value}"


def oriented(pair: Mapping[str, Any]) -> tuple[str, str, list[Mapping[str, Any]]]:
    """``(higher, lower, per-seed differences higher - lower)`` of a held pair."""
    diffs = list(pair["per_seed"].values())
    if diffs[0]["diff"] > 0:
        return pair["a"], pair["b"], diffs
    return pair["b"], pair["a"], [{**d, "diff": -d["diff"], "lo": -d["hi"], "hi": -d["lo"]}
                                  for d in diffs]


def pairs_sentence(pairs: Sequence[Mapping[str, Any]], n_seeds: int,
                   what: str = "Pairs of runs") -> str:
    """How many pairs are apart beyond noise, the same way, in every seed, and which."""
    held = [oriented(p) for p in pairs if p["held"]]
    head = f"{what} apart beyond noise in all {n_seeds} seeds: {len(held)} of {len(pairs)}"
    if not held:
        return head
    return head + ": " + "; ".join(
        f"{hi} > {lo} (" + ", ".join(fmt_difference(d) for d in diffs) + ")"
        for hi, lo, diffs in held)


def grid_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]], *,
               labels: int = 1, caption: str | None = None) -> Any:
    """A rich table of plain-text cells: the first ``labels`` columns left-aligned (the
    first in bold when it alone labels a row), the rest right-aligned; every cell and the
    caption escaped, so a run's label is never read as markup."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, caption=escape(caption) if caption is not None else None)
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i < labels else "right",
                         style="bold" if labels == 1 and i == 0 else None)
    for cells in rows:
        table.add_row(*(escape(c) for c in cells))
    return table


def seeds_tables(agreement: Mapping[str, Any]) -> list[Any]:
    """Rich tables of :func:`seeds_markdown`: one per metric and column, the tau-b and
    what is apart in every seed in its caption."""
    tables = []
    for metric in agreement["metrics"]:
        for col in agreement["columns"]:
            res = agreement["results"][metric][col["key"]]
            tables.append(grid_table(
                f"across seeds: {metric}, {col['label']} "
                f"(%, {agreement.get('interval_short', '95% Wilson')})", _header(agreement),
                [[lab, *cells] for lab, cells in _rows(agreement, res)],
                caption="\n".join(_sentences(agreement, res, col["label"]))))
            if res["pairs"]:
                tables.append(grid_table(
                    f"differences: {metric}, {col['label']} (points, 95%; * excludes zero)",
                    _pair_header(agreement), _pair_rows(res), labels=2))
    for metric in agreement["metrics"]:
        head, rows = _attribute_rows(agreement, metric)
        if rows:
            tables.append(grid_table(
                f"what it carries over the seeds: {metric} by attribute (points, "
                "random-effects mean, 95%; * excludes zero)", head, rows, labels=2))
    return tables


def write_seed_agreement(agreement: Mapping[str, Any], report_dir: str | os.PathLike[str]
                         ) -> dict[str, str]:
    """Write ``seeds.json`` and ``seeds.md`` into ``report_dir``, each atomically."""
    from uqa_data.io import write_json, write_text

    out = Path(report_dir)
    return {"json": str(write_json(dict(agreement), out / "seeds.json")),
            "md": str(write_text(seeds_markdown(agreement), out / "seeds.md"))}
