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
         "tau": [{"seeds": [a, b], "tau_b", "n"}],
         "pairs": [{"a", "b", "per_seed": {seed: paired difference a - b}, "held"}]}}}}

A pair is *held* when its paired interval excludes zero with the same sign in every
seed: the one ordering a reader can rely on.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from uqa_data.errors import UqaInputError

from uqa_eval.report.aggregate import Column, entry_of, has_metric, paired_differences
from uqa_eval.report.compare import load_run, run_verdicts
from uqa_eval.significance import fmt_difference, wilson

SEEDS_SCHEMA = "uqa-seeds/1"

SEED_COLUMNS: tuple[Column, ...] = (
    Column("interest_perception", "Int. Avg.", "dimension"),
    Column("overall", "Overall", "overall"),
)
"""Where rankings are compared: interest perception (the user's interests) and overall."""

SEED_METRICS: tuple[str, ...] = ("acc", "acc_pmi")


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
    return (x > 0) - (x < 0)


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


def seed_agreement(runs: Mapping[int, Mapping[str, str | os.PathLike[str]]]) -> dict[str, Any]:
    """Compare the same runs over several seeds.

    :param runs: seed -> label -> run directory; every seed must have the same labels
        (at least two seeds, at least two labels).
    :returns: the seed agreement described in the module docstring, for each metric
        every run has (``acc``; ``acc_pmi`` where each run has a ``none`` to compare with).
    :raises UqaInputError: fewer than two seeds or labels, or a label missing in a seed.
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
    if len(labels) < 2:
        raise UqaInputError("seed agreement needs at least two runs to rank")
    reports = {(s, lab): load_run(runs[s][lab]) for s in seeds for lab in labels}
    verdicts = {(s, lab): run_verdicts(runs[s][lab]) for s in seeds for lab in labels}
    metrics = [m for m in SEED_METRICS if all(has_metric(r, m) for r in reports.values())]
    results: dict[str, Any] = {}
    for metric in metrics:
        results[metric] = {c.key: _column_agreement(seeds, labels, reports, verdicts,
                                                    metric, c)
                           for c in SEED_COLUMNS}
    return {
        "schema": SEEDS_SCHEMA,
        "seeds": seeds,
        "labels": labels,
        "metrics": metrics,
        "columns": [{"key": c.key, "label": c.label} for c in SEED_COLUMNS],
        "runs": {lab: {str(s): str(runs[s][lab]) for s in seeds} for lab in labels},
        "results": results,
    }


def _column_agreement(seeds: list[int], labels: list[str], reports: Mapping, verdicts: Mapping,
                      metric: str, column: Column) -> dict[str, Any]:
    accuracy: dict[str, dict[str, Any]] = {lab: {} for lab in labels}
    for s in seeds:
        for lab in labels:
            entry = entry_of(reports[s, lab], column)
            n, acc = int(entry.get("n", 0)), entry.get(metric)
            lo_hi = wilson(round(acc * n), n) if acc is not None and n else None
            accuracy[lab][str(s)] = {"acc": acc, "n": n, "lo": lo_hi and lo_hi[0],
                                     "hi": lo_hi and lo_hi[1]}
    ranked = [lab for lab in labels if all(accuracy[lab][str(s)]["acc"] is not None
                                           for s in seeds)]
    per_seed_rank = {s: ranks({lab: accuracy[lab][str(s)]["acc"] for lab in ranked})
                     for s in seeds}
    tau = [{"seeds": [a, b], "n": len(ranked),
            "tau_b": _finite(kendall_tau_b([accuracy[lab][str(a)]["acc"] for lab in ranked],
                                   [accuracy[lab][str(b)]["acc"] for lab in ranked]))}
           for a, b in itertools.combinations(seeds, 2)]
    pairs = []
    for a, b in itertools.combinations(ranked, 2):
        per_seed: dict[str, Any] = {}
        for s in seeds:
            va, vb = verdicts[s, a], verdicts[s, b]
            d = (paired_differences(va, vb, metric)["columns"].get(column.key)
                 if va is not None and vb is not None else None)
            per_seed[str(s)] = d
        signs = {_sign(d["diff"]) if d and d.get("signal") else 0 for d in per_seed.values()}
        pairs.append({"a": a, "b": b, "per_seed": per_seed,
                      "held": len(signs) == 1 and 0 not in signs})
    mean = {lab: sum(accuracy[lab][str(s)]["acc"] for s in seeds) / len(seeds) for lab in ranked}
    return {"accuracy": accuracy, "mean": mean,
            "rank": {lab: {str(s): per_seed_rank[s][lab] for s in seeds} for lab in ranked},
            "tau": tau, "pairs": pairs}


def _finite(x: float) -> float | None:
    return None if math.isnan(x) else x


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def _rank_text(r: float) -> str:
    return f"{r:g}"


def seeds_markdown(agreement: Mapping[str, Any]) -> str:
    """The seed agreement as Markdown: per metric and column, each run's accuracy and
    rank per seed, then tau-b and the pairs apart beyond noise."""
    seeds = [str(s) for s in agreement["seeds"]]
    lines = [f"# Seed agreement: seeds {', '.join(seeds)}", ""]
    if not agreement["metrics"]:
        lines.append("No metric is shared by every run.")
    for metric in agreement["metrics"]:
        for col in agreement["columns"]:
            res = agreement["results"][metric][col["key"]]
            lines += [f"## `{metric}`, {col['label']}", "",
                      "| Run | " + " | ".join(f"seed {s}" for s in seeds)
                      + " | mean | " + " | ".join(f"rank {s}" for s in seeds) + " |",
                      "|---|" + "---:|" * (2 * len(seeds) + 1)]
            for lab in agreement["labels"]:
                cells = [_acc_cell(res["accuracy"][lab][s]) for s in seeds]
                cells.append(_pct(res["mean"].get(lab)))
                rk = res["rank"].get(lab, {})
                cells += [_rank_text(rk[s]) if s in rk else "-" for s in seeds]
                lines.append(f"| {lab} | " + " | ".join(cells) + " |")
            lines.append("")
            lines += [tau_sentence(t, col["label"]) for t in res["tau"]]
            lines += ["", pairs_sentence(res["pairs"], len(seeds)), ""]
    lines.append("Accuracy in % with its 95% Wilson interval; rank 1 is the best (ties share "
                 "the mean rank). A pair is held when its paired 95% bootstrap interval "
                 "excludes zero with the same sign in every seed.")
    return "\n".join(lines) + "\n"


def _acc_cell(cell: Mapping[str, Any]) -> str:
    if cell.get("acc") is None:
        return "-"
    return f"{_pct(cell['acc'])} [{_pct(cell['lo'])}, {_pct(cell['hi'])}]"


def tau_sentence(tau: Mapping[str, Any], where: str) -> str:
    a, b = tau["seeds"]
    t = tau["tau_b"]
    value = "undefined (a ranking with every score tied)" if t is None or math.isnan(t) \
        else f"{t:+.2f}"
    return f"Kendall tau-b, seeds {a} and {b}, {where} ({tau['n']} runs): {value}"


def oriented(pair: Mapping[str, Any]) -> tuple[str, str, list[Mapping[str, Any]]]:
    """``(higher, lower, per-seed differences higher - lower)`` of a held pair."""
    diffs = list(pair["per_seed"].values())
    if diffs[0]["diff"] > 0:
        return pair["a"], pair["b"], diffs
    return pair["b"], pair["a"], [{**d, "diff": -d["diff"], "lo": -d["hi"], "hi": -d["lo"]}
                                  for d in diffs]


def pairs_sentence(pairs: Sequence[Mapping[str, Any]], n_seeds: int) -> str:
    """How many pairs are apart beyond noise, the same way, in every seed, and which."""
    held = [oriented(p) for p in pairs if p["held"]]
    head = f"Pairs apart beyond noise in all {n_seeds} seeds: {len(held)} of {len(pairs)}"
    if not held:
        return head
    return head + ": " + "; ".join(
        f"{hi} > {lo} (" + ", ".join(fmt_difference(d) for d in diffs) + ")"
        for hi, lo, diffs in held)


def seeds_tables(agreement: Mapping[str, Any]) -> list[Any]:
    """Rich tables of :func:`seeds_markdown`: one per metric and column, the tau-b and
    the held pairs in its caption."""
    from rich.markup import escape
    from rich.table import Table

    seeds = [str(s) for s in agreement["seeds"]]
    tables = []
    for metric in agreement["metrics"]:
        for col in agreement["columns"]:
            res = agreement["results"][metric][col["key"]]
            caption = "\n".join([*(tau_sentence(t, col["label"]) for t in res["tau"]),
                                 pairs_sentence(res["pairs"], len(seeds))])
            table = Table(title=f"across seeds: {metric}, {col['label']} (%, 95% Wilson)",
                          caption=escape(caption))
            table.add_column("Run", style="bold")
            for s in seeds:
                table.add_column(f"seed {s}", justify="right")
            table.add_column("mean", justify="right")
            for s in seeds:
                table.add_column(f"rank {s}", justify="right")
            for lab in agreement["labels"]:
                rk = res["rank"].get(lab, {})
                table.add_row(escape(lab), *(_acc_cell(res["accuracy"][lab][s]) for s in seeds),
                              _pct(res["mean"].get(lab)),
                              *(_rank_text(rk[s]) if s in rk else "-" for s in seeds))
            tables.append(table)
    return tables


def write_seed_agreement(agreement: Mapping[str, Any], report_dir: str | os.PathLike[str]
                         ) -> dict[str, str]:
    """Write ``seeds.json`` and ``seeds.md`` into ``report_dir``, each atomically."""
    from uqa_data.io import write_json, write_text

    out = Path(report_dir)
    return {"json": str(write_json(dict(agreement), out / "seeds.json")),
            "md": str(write_text(seeds_markdown(agreement), out / "seeds.md"))}
