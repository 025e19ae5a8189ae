"""How much of the bare LLM's option scores does a soft token keep? Per sub-task, from a
finished run's stored ``option_scores`` (no answering):

- the median over questions of the slope of a run's centred option scores on ``none``'s
  (1: the user shifts the prior, which ``acc_pmi`` removes exactly; below 1: the soft token
  also shrinks it, so subtracting all of it turns the prior's sign);
- the accuracy of ``argmax(score - w * none_score)`` for w from 0 (``acc``) to 1
  (``acc_pmi``);
- how often the pick at w = 0 and at w = 1 is the longest option (in characters), beside
  how often the gold answer is (a length bias would show as picks longer than the gold).

A diagnostic only: choosing w on these evaluation questions would fit the metric to the
test set.

    python bench/pmi_weight.py --run runs/d0
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import numpy as np
import pyarrow.ipc as ipc

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
LETTERS = "ABCDEFGHIJ"


def _table(path: Path) -> dict[str, list]:
    return ipc.open_file(str(path)).read_all().to_pydict()


def scores(path: Path) -> dict[str, np.ndarray]:
    t = _table(path)
    return {q: np.asarray(s, dtype=np.float64)
            for q, s in zip(t["question_id"], t["option_scores"], strict=True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True,
                    help="a run with predictions/ and baselines/none/predictions/")
    args = ap.parse_args()
    questions = _table(args.run / "questions" / "eval.arrow")
    runs = {"embedding": args.run / "predictions" / "eval.arrow"}
    for name in ("shuffled", "random", "oracle"):
        path = args.run / "baselines" / name / "predictions" / "eval.arrow"
        if path.is_file():
            runs[name] = path
    none = scores(args.run / "baselines" / "none" / "predictions" / "eval.arrow")
    tasks = sorted(set(questions["task"]))
    print("| run | w | " + " | ".join(tasks) + " |")
    print("|---|---|" + "---:|" * len(tasks))
    for name, path in runs.items():
        run = scores(path)
        slope, acc = collections.defaultdict(list), collections.defaultdict(list)
        longest = collections.defaultdict(list)
        for qid, task, answer, options in zip(questions["question_id"], questions["task"],
                                              questions["answer"], questions["options"],
                                              strict=True):
            s, n = run[qid], none[qid]
            sc, nc = s - s.mean(), n - n.mean()
            slope[task].append(float(sc @ nc / max(nc @ nc, 1e-12)))
            gold = LETTERS.index(answer)
            for w in WEIGHTS:
                acc[task, w].append(int(np.argmax(s - w * n)) == gold)
            chars = np.array([len(o) for o in options])
            for key, pick in (("gold", gold), (0, int(np.argmax(s))), (1, int(np.argmax(s - n)))):
                longest[task, key].append(chars[pick] == chars.max())
        print(f"| {name} | slope | " + " | ".join(
            f"{np.median(slope[t]):.2f}" for t in tasks) + " |")
        for w in WEIGHTS:
            print(f"| {name} | {w:g} | " + " | ".join(
                f"{100 * np.mean(acc[t, w]):.0f}" for t in tasks) + " |")
        for key in ("gold", 0, 1):
            what = "gold" if key == "gold" else f"pick at w={key}"
            print(f"| {name} | longest: {what} | " + " | ".join(
                f"{100 * np.mean(longest[t, key]):.0f}" for t in tasks) + " |")


if __name__ == "__main__":
    main()
