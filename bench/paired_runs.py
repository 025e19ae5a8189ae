"""Paired differences between runs (or baselines) that answered the same questions.

`uqa report RUN` compares a run with its own baselines; this compares any run with any
other over the same evaluation questions (for example an encoder against another run's
untrained encoder or oracle), per dimension and overall, under ``acc`` and ``acc_pmi``
(each option's score minus its score in the ``none`` run), with the report's 95%
paired-bootstrap intervals:

    python bench/paired_runs.py runs/tp0 runs/tp0/baselines/random runs/d0 \\
        runs/d0/baselines/random runs/d0/baselines/oracle --none runs/tp0/baselines/none

Each path is a run or baseline directory holding ``predictions/eval.arrow``; the first
is the subject. The question file is read from the subject run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow.ipc as ipc

LETTERS = "ABCDEFGH"


def scores(folder: Path) -> dict[str, list[float]]:
    """``question_id -> option scores`` of ``folder/predictions/eval.arrow``."""
    path = folder / "predictions" / "eval.arrow"
    if not path.is_file():
        raise SystemExit(f"{path}: not found (expected a run or baseline directory)")
    t = ipc.open_file(str(path)).read_all().to_pydict()
    return dict(zip(t["question_id"], t["option_scores"], strict=True))


def main() -> None:
    from uqa_eval.significance import paired_difference

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", type=Path, nargs="+", help="subject first, then the others")
    ap.add_argument("--none", type=Path, default=None,
                    help="the none run for acc_pmi (default: SUBJECT/baselines/none)")
    args = ap.parse_args()
    subject = args.runs[0]
    run_dir = subject if (subject / "questions").is_dir() else subject.parents[1]
    q = ipc.open_file(str(run_dir / "questions" / "eval.arrow")).read_all().to_pydict()
    ids, answers = q["question_id"], [LETTERS.index(a) for a in q["answer"]]
    dims = np.asarray(q["dimension"])
    subsets = {d: dims == d for d in dict.fromkeys(q["dimension"])}
    subsets["overall"] = np.ones(len(ids), dtype=bool)
    none_dir = args.none or subject / "baselines" / "none"
    none = scores(none_dir)
    table = {str(p): scores(p) for p in args.runs}
    for name, s in {**table, str(none_dir): none}.items():
        missing = [i for i in ids if i not in s]
        if missing:
            raise SystemExit(f"{name}: {len(missing)} of the subject's questions unanswered "
                             f"(first {missing[0]}); the runs must share their questions")
    for metric in ("acc", "acc_pmi"):
        right = {}
        for path, (name, s) in zip(args.runs, table.items(), strict=True):
            # acc_pmi subtracts the none run's scores; the none run itself keeps its acc
            pmi = metric == "acc_pmi" and path.resolve() != none_dir.resolve()
            picks = [int(np.argmax(np.asarray(s[i]) - (np.asarray(none[i]) if pmi else 0)))
                     for i in ids]
            right[name] = np.asarray(picks) == np.asarray(answers)
        print(f"\n## {metric} (%)\n")
        print("| run | " + " | ".join(subsets) + " |")
        print("|---|" + "---:|" * len(subsets))
        for name, r in right.items():
            print(f"| {name} | " + " | ".join(f"{100 * r[m].mean():.1f}" for m in subsets.values())
                  + " |")
        print(f"\n{args.runs[0]} minus each, points [95% paired bootstrap], * = signal\n")
        print("| minus | " + " | ".join(subsets) + " |")
        print("|---|" + "---|" * len(subsets))
        first = right[str(subject)]
        for name, r in list(right.items())[1:]:
            cells = []
            for m in subsets.values():
                d = paired_difference(first[m], r[m])
                cells.append(f"{100 * d['diff']:+.1f} [{100 * d['lo']:+.1f}, {100 * d['hi']:+.1f}]"
                             + (" *" if d["signal"] else ""))
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
