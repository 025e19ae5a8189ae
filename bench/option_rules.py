"""Can the questions be answered without the user? Option-only rules and the bare LLM.

For each distractor policy, generates the default preset's questions from a run's
``data/`` and scores, per sub-task, every option-only rule of
:mod:`uqa_data.questions.option_rules` (on the evaluation questions, popularity
counted over the alignment answers) and the frozen LLM with no user context
(the ``none`` baseline, loglik), each with its 95% Wilson interval. The issue's
bar: every one at most 30%.

    python bench/option_rules.py --run runs/bench-default --out bench/results/option_rules.md
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("UQA_PROGRESS", "0")

TASKS = ("df", "mf", "ip", "ap", "li", "si", "it")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a run with data/ (default preset)")
    ap.add_argument("--out", type=Path, default=Path("bench/results/option_rules.md"))
    ap.add_argument("--no-llm", action="store_true", help="rules only")
    args = ap.parse_args()

    import numpy as np
    import pyarrow.ipc as ipc
    from uqa_data.questions import QuestionConfig, generate
    from uqa_data.questions.option_rules import rule_credits
    from uqa_eval.significance import wilson

    llm = None
    if not args.no_llm:
        from uqa_align.llm import load_llm

        llm = load_llm("smollm2")
    lines = ["# Option-only rules and the bare LLM (default preset, seed 0)", "",
             f"Command: `python bench/option_rules.py --run {args.run}`; load average at "
             f"start {os.getloadavg()[0]:.2f}.", ""]
    results = {}
    for policy in ("population", "own-history"):
        qdir = args.run / f"questions-{policy}"
        generate(args.run / "data", qdir, QuestionConfig.from_preset("default",
                                                                     distractors=policy))
        align = ipc.open_file(str(qdir / "align.arrow")).read_all().to_pylist()
        rows = ipc.open_file(str(qdir / "eval.arrow")).read_all().to_pylist()
        credits = rule_credits(rows, align)
        tasks = np.array([r["task"] for r in rows])
        table = {rule: c for rule, c in credits.items()}
        t0 = time.perf_counter()
        if llm is not None:
            from uqa_eval.evaluate import EvalConfig, evaluate

            pred = qdir / "none.arrow"
            evaluate(qdir / "eval.arrow", None, None, args.run / "data", pred,
                     EvalConfig.from_preset("default", baseline="none"), llm=llm)
            table["LLM, no user (none)"] = np.array(
                ipc.open_file(str(pred)).read_all().column("correct").to_pylist(), dtype=float)
        seconds = time.perf_counter() - t0
        lines += [f"## {policy} distractors", "",
                  "| rule | " + " | ".join(t.upper() for t in TASKS) + " | max |",
                  "|---|" + "---:|" * (len(TASKS) + 1)]
        results[policy] = {}
        for rule, c in table.items():
            cells, worst = [], 0.0
            results[policy][rule] = {}
            for t in TASKS:
                m = tasks == t
                acc = float(c[m].mean())
                lo, hi = wilson(round(float(c[m].sum())), int(m.sum()))
                cells.append(f"{100 * acc:.1f} [{100 * lo:.0f}, {100 * hi:.0f}]")
                worst = max(worst, acc)
                results[policy][rule][t] = acc
            lines.append(f"| {rule} | " + " | ".join(cells) + f" | {100 * worst:.1f} |")
        lines += ["", f"{len(rows)} evaluation questions ({int((tasks == 'df').sum())} per "
                  f"sub-task); the LLM answered them in {seconds:.0f} s.", ""]
    lines += [f"Load average at the end {os.getloadavg()[0]:.2f}. Popularity: how often a "
              "text is the sub-task's answer in the alignment questions. Intervals: 95% "
              "Wilson (ties split, so rule credits are fractions).", ""]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
