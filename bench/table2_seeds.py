"""Does the encoder ranking of ``uqa study table2`` hold across seeds?

Reads two or more table2 study directories (the same study with different ``--seed``)
and prints, per seed, every encoder's accuracy with its 95% Wilson interval, overall
and on interest perception (li, si, it), its paired differences from the ``none``
control and from its own ``shuffled`` control when the study has them, and its rank;
which encoders differ from each other beyond noise (paired over the same questions);
then Kendall's tau between the seeds' rankings (tau-b, ties counted) with its 95% bootstrap
interval over each seed's questions, for both measures:

    uqa study table2 --preset default --baselines none,shuffled --seed 0 --out runs/t2-s0 --yes
    uqa study table2 --preset default --baselines none,shuffled --seed 1 --out runs/t2-s1 --yes
    python bench/table2_seeds.py runs/t2-s0 runs/t2-s1 --out bench/results/table2_seeds.md

``uqa study table2 --seeds 0,1`` now reports the same ranking agreement itself
(``OUT/report/seeds.md``); this script stays for the studies run before it.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import pyarrow.ipc as ipc
from uqa_eval.report.seeds import kendall_tau_b as kendall_tau
from uqa_eval.report.seeds import tau_b_interval, tau_sentence

INTEREST = ("li", "si", "it")
ENCODERS = ("gru4rec", "sasrec", "mamba4rec", "hstu", "trm_plus")


def _column(path: Path, name: str) -> list:
    return ipc.open_file(str(path)).read_all().column(name).to_pylist()


def correctness(run: Path, questions: Path) -> tuple[np.ndarray, np.ndarray]:
    """(correct per question, interest-perception mask), in ``questions``' order, of one
    run's (or baseline's) predictions."""
    table = ipc.open_file(str(run / "predictions" / "eval.arrow")).read_all()
    correct = dict(zip(table.column("question_id").to_pylist(),
                       table.column("correct").to_pylist(), strict=True))
    ids = _column(questions, "question_id")
    tasks = np.array(_column(questions, "task"))
    return np.array([bool(correct[q]) for q in ids]), np.isin(tasks, INTEREST)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("studies", type=Path, nargs="+", help="table2 study directories")
    ap.add_argument("--out", type=Path, default=None, help="also write the Markdown here")
    args = ap.parse_args()
    from uqa_eval.significance import paired_difference, wilson

    def cell(c: np.ndarray) -> str:
        lo, hi = wilson(int(c.sum()), len(c))
        return f"{100 * c.mean():.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"

    def diff(a: np.ndarray, b: np.ndarray) -> str:
        d = paired_difference(a, b)
        return (f"{100 * d['diff']:+.1f} [{100 * d['lo']:+.1f}, {100 * d['hi']:+.1f}]"
                f"{'*' if d['signal'] else ''}")

    lines, answers = [], {}
    for study in args.studies:
        seed = json.loads((study / "study.json").read_text()).get("seed")
        questions = study / ENCODERS[0] / "questions" / "eval.arrow"
        none = study / ENCODERS[0] / "baselines" / "none"
        ref = (correctness(none, questions)[0]
               if (none / "predictions" / "eval.arrow").is_file() else None)
        rows = []
        for enc in ENCODERS:
            run = study / enc
            if not (run / "predictions" / "eval.arrow").is_file():
                continue
            c, ip = correctness(run, questions)
            row = {"encoder": enc, "overall": c.mean(), "ip": c[ip].mean(),
                   "cells": [cell(c), cell(c[ip])]}
            shuffled = run / "baselines" / "shuffled"
            controls = [ref] if ref is not None else []
            if (shuffled / "predictions" / "eval.arrow").is_file():
                controls.append(correctness(shuffled, questions)[0])
            else:
                controls.append(None)
            for control in controls:
                row["cells"] += ([diff(c, control), diff(c[ip], control[ip])]
                                 if control is not None else ["-", "-"])
            row["correct"], row["mask"] = c, ip
            rows.append(row)
        for key in ("overall", "ip"):
            order = sorted(rows, key=lambda r: -r[key])
            for rank, r in enumerate(order, 1):
                r[f"rank_{key}"] = rank
        answers[seed] = {r["encoder"]: (r["correct"], r["mask"]) for r in rows}
        cols = ["encoder", "overall", "interest perception",
                *(["overall - none", "interest - none"] if ref is not None else []),
                "overall - own shuffled", "interest - own shuffled",
                "rank overall", "rank interest"]
        lines += [f"Seed {seed} ({study}):", "", "| " + " | ".join(cols) + " |",
                  "|---|" + "---:|" * (len(cols) - 1)]
        for r in rows:
            lines.append(f"| {r['encoder']} | " + " | ".join(r["cells"])
                         + f" | {r['rank_overall']} | {r['rank_ip']} |")
        lines.append("")
        for key, what in (("overall", "overall"), ("ip", "interest perception")):
            apart = []
            for a, b in itertools.combinations(rows, 2):
                mask = slice(None) if key == "overall" else a["mask"]
                d = paired_difference(a["correct"][mask], b["correct"][mask])
                if d["signal"]:
                    hi, lo = (a, b) if d["diff"] > 0 else (b, a)
                    apart.append(f"{hi['encoder']} > {lo['encoder']} "
                                 f"({100 * abs(d['diff']):.1f})")
            pairs = len(rows) * (len(rows) - 1) // 2
            lines.append(f"Encoder pairs apart beyond noise, {what}: {len(apart)} of {pairs}"
                         + (f": {', '.join(apart)}" if apart else ""))
        lines.append("")
    for a, b in itertools.combinations(list(answers), 2):
        common = [e for e in ENCODERS if e in answers[a] and e in answers[b]]
        for interest, what in ((False, "overall"), (True, "interest perception")):
            # [encoders, questions] correctness of each seed, on the measure's questions
            first, second = (np.array([c[ip] if interest else c
                                       for c, ip in (answers[s][e] for e in common)])
                             for s in (a, b))
            tau = kendall_tau(first.mean(1), second.mean(1))
            lo_hi = tau_b_interval(first, second)
            lines.append(tau_sentence({"seeds": (a, b), "tau_b": tau, "n": len(common),
                                       "lo": lo_hi[0] if lo_hi else None,
                                       "hi": lo_hi[1] if lo_hi else None}, what))
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
