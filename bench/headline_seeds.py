"""The headline run (`uqa run --baselines none,shuffled,random,oracle`) made with several
seeds, read as one: each run against each control per seed and over the seeds (the
random-effects mean of `uqa_eval.significance.pooled_difference`), as `uqa study --seeds`
writes it (`uqa_eval.report.seeds`).

    uqa run --preset default --seed 0 --baselines none,shuffled,random,oracle --out runs/h0
    uqa run --preset default --seed 2 --baselines none,shuffled,random,oracle --out runs/h2
    python bench/headline_seeds.py 0=runs/h0 2=runs/h2 --out bench/results/headline_seeds.md

A seed whose run lacks a baseline (`random`, `oracle`) leaves that row out for every seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from uqa_eval.report.seeds import Control, seed_agreement, seeds_markdown

RUNS = {"Oracle": "oracle"}
"""Ranked beside the run's own encoder: planted truth."""
CONTROLS = {"None (no user)": ("none", None), "Shuffled emb.": ("shuffled", None),
            "Untrained encoder": ("random", "Encoder")}
"""label -> (baseline directory, the run it stands for; None: every run)."""


def agreement(seed_runs: dict[int, Path]) -> dict:
    def has(name: str) -> bool:
        return all((r / "baselines" / name / "predictions" / "eval.arrow").is_file()
                   for r in seed_runs.values())

    runs = {s: {"Encoder": r, **{lab: r / "baselines" / b for lab, b in RUNS.items() if has(b)}}
            for s, r in seed_runs.items()}
    controls = {s: {lab: Control(r / "baselines" / b, owner)
                    for lab, (b, owner) in CONTROLS.items() if has(b)}
                for s, r in seed_runs.items()}
    return seed_agreement(runs, controls)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", metavar="SEED=RUN", help="a seed and its run directory")
    ap.add_argument("--out", type=Path, help="also write the Markdown here")
    args = ap.parse_args()
    seed_runs = {}
    for item in args.runs:
        seed, _, run = item.partition("=")
        seed_runs[int(seed)] = Path(run)
    md = seeds_markdown(agreement(seed_runs))
    print(md)
    if args.out:
        args.out.write_text(md)


if __name__ == "__main__":
    main()
