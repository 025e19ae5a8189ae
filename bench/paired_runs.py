"""Paired differences between runs (or baselines) that answered the same questions.

`uqa report RUN` compares a run with its own baselines; this compares any run with any
other over the same evaluation questions (for example an encoder against another run's
untrained encoder or oracle), per dimension and overall, under ``acc`` and ``acc_pmi``
(each option's score minus its score in the ``none`` run), with the report's own verdicts
(``read_verdicts``) and 95% paired-bootstrap intervals:

    python bench/paired_runs.py runs/tp0 runs/tp0/baselines/random runs/d0 \\
        runs/d0/baselines/random runs/d0/baselines/oracle --none runs/tp0/baselines/none

Each path is a run or baseline directory holding ``predictions/eval.arrow``; the first
is the subject. The question file is read from the subject run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main() -> None:
    from uqa_eval.report.aggregate import read_verdicts
    from uqa_eval.significance import paired_difference

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", type=Path, nargs="+", help="subject first, then the others")
    ap.add_argument("--none", type=Path, default=None,
                    help="the none run for acc_pmi (default: SUBJECT/baselines/none)")
    args = ap.parse_args()
    subject = args.runs[0]
    run_dir = subject if (subject / "questions").is_dir() else subject.parents[1]
    questions = run_dir / "questions" / "eval.arrow"
    none_preds = (args.none or subject / "baselines" / "none") / "predictions" / "eval.arrow"
    right: dict[str, dict[str, np.ndarray]] = {"acc": {}, "acc_pmi": {}}
    ids = dims = None
    for path in args.runs:
        preds = path / "predictions" / "eval.arrow"
        if not preds.is_file():
            raise SystemExit(f"{preds}: not found (expected a run or baseline directory)")
        # the report's own verdicts; acc_pmi leaves the none run its acc
        v = read_verdicts(preds, questions, none_preds)
        if v.correct_pmi is None:
            raise SystemExit(f"{none_preds}: does not answer every question {preds} does, "
                             "with option scores; acc_pmi needs both")
        at = {q: i for i, q in enumerate(v.question_ids)}
        if ids is None:
            ids, dims = v.question_ids, np.asarray(v.dimensions)
        missing = [q for q in ids if q not in at]
        if missing:
            raise SystemExit(f"{path}: {len(missing)} of the subject's questions unanswered "
                             f"(first {missing[0]}); the runs must share their questions")
        order = [at[q] for q in ids]
        right["acc"][str(path)] = v.correct[order]
        right["acc_pmi"][str(path)] = v.correct_pmi[order]
    subsets = {d: dims == d for d in dict.fromkeys(dims.tolist())}
    subsets["overall"] = np.ones(len(ids), dtype=bool)
    for metric, runs in right.items():
        print(f"\n## {metric} (%)\n")
        print("| run | " + " | ".join(subsets) + " |")
        print("|---|" + "---:|" * len(subsets))
        for name, r in runs.items():
            print(f"| {name} | " + " | ".join(f"{100 * r[m].mean():.1f}" for m in subsets.values())
                  + " |")
        print(f"\n{subject} minus each, points [95% paired bootstrap], * = signal\n")
        print("| minus | " + " | ".join(subsets) + " |")
        print("|---|" + "---|" * len(subsets))
        first = runs[str(subject)]
        for name, r in list(runs.items())[1:]:
            cells = []
            for m in subsets.values():
                d = paired_difference(first[m], r[m])
                cells.append(f"{100 * d['diff']:+.1f} [{100 * d['lo']:+.1f}, {100 * d['hi']:+.1f}]"
                             + (" *" if d["signal"] else ""))
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
