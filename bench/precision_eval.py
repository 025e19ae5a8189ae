"""A run's evaluation answered again in another precision: speed, accuracy, agreement.

Answers ``RUN``'s evaluation questions with its own adapter and embeddings in
``--precision`` (fresh process: every prompt prefix is encoded once, as in the
run's first evaluation) and compares with the run's ``predictions/eval.arrow``:

    python bench/precision_eval.py --run runs/headline --precision fp32

``--max-questions N`` answers only the first N (a slow precision on a CPU without it).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("UQA_PROGRESS", "0")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--out", type=Path, default=Path("runs/precision-eval.arrow"))
    ap.add_argument("--max-questions", type=int, default=None)
    args = ap.parse_args()

    import numpy as np
    import pyarrow.ipc as ipc
    from uqa_eval.evaluate import EvalConfig, evaluate

    r = args.run
    load0 = os.getloadavg()[0]
    t = time.perf_counter()
    s = evaluate(r / "questions" / "eval.arrow", r / "embeddings" / "test.arrow", r / "adapter",
                 r / "data", args.out, EvalConfig.from_preset("default", precision=args.precision,
                                        max_questions=args.max_questions))
    wall = time.perf_counter() - t
    a = ipc.open_file(str(args.out)).read_all()
    b = ipc.open_file(str(r / "predictions" / "eval.arrow")).read_all().slice(0, len(a))
    sa = np.array(a.column("option_scores").to_pylist())
    sb = np.array(b.column("option_scores").to_pylist())
    same = np.array(a.column("prediction").to_pylist()) == np.array(b.column("prediction")
                                                                    .to_pylist())
    print(json.dumps({
        "precision": args.precision, "answer_s": s["answer_s"], "wall_s": round(wall, 1),
        "questions_per_s": len(a) / s["answer_s"], "acc": s["acc"],
        "run_acc": float(np.mean(b.column("correct").to_pylist())),
        "same_prediction": float(same.mean()),
        "mean_abs_score_diff": float(np.abs(sa - sb).mean()),
        "max_abs_score_diff": float(np.abs(sa - sb).max()),
        "load": [round(load0, 2), round(os.getloadavg()[0], 2)]}))


if __name__ == "__main__":
    main()
