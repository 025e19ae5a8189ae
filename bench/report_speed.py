"""Speed of reports and official scoring: build_report, write_report, score_predictions, compare.

Usage: python bench/report_speed.py [--questions 7192 100000] [--runs 7]

7,192 is the size of the paper's evaluation set. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from uqa_data.io import write_table
from uqa_eval.official import score_predictions
from uqa_eval.report import (
    TASK_DIMENSION,
    TASKS,
    build_report,
    compare_runs,
    write_comparison,
    write_report,
)

PHRASES = {
    "df": "用户倒数第2次浏览的商品的类目是什么？", "mf": "用户浏览序列的长度是多少？",
    "ip": "用户下一个可能点击的商品的标题是什么？", "ap": "用户下一个可能点击的商品的品牌是什么？",
    "li": "用户最感兴趣的3个类目是什么？", "si": "用户近期最感兴趣的类目是什么？",
    "it": "用户对类目偏好的转移路径是什么？",
}


def make_run(root: Path, n: int, seed: int, meta: dict) -> Path:
    rng = np.random.default_rng(seed)
    tasks = [TASKS[i] for i in rng.integers(0, 7, n)]
    ids = [f"q{i}" for i in range(n)]
    write_table(pa.table({
        "question_id": ids, "task": tasks, "dimension": [TASK_DIMENSION[t] for t in tasks],
        "options": [["a", "b", "c", "d"]] * n, "answer": list(rng.choice(list("ABCD"), n)),
    }), root / "questions" / "eval.arrow")
    write_table(pa.table({
        "question_id": ids, "prediction": list(rng.choice(list("ABCD"), n)),
        "correct": rng.random(n) < 0.5, "correct_norm": rng.random(n) < 0.5,
        "input_tokens": pa.array(rng.integers(60, 90, n), pa.int64()),
    }), root / "predictions" / "eval.arrow")
    (root / "run.json").write_text(json.dumps({"name": root.name, **meta}))
    return root


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, nargs="+", default=[7192, 100_000])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    print("| step | questions | best of 3 (s) |")
    print("|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n in args.questions:
            run = make_run(root / f"run{n}", n, 0, {"encoder": "sasrec"})
            t, report = timed(lambda run=run: build_report(run / "predictions" / "eval.arrow",
                                                           run / "questions" / "eval.arrow", {}))
            print(f"| build_report | {n} | {t:.3f} |")
            t, _ = timed(lambda run=run, report=report: write_report(report, run / "report"))
            print(f"| write_report (json+md+png) | {n} | {t:.3f} |")
            rng = np.random.default_rng(1)
            jsonl = root / f"gen{n}.jsonl"
            with jsonl.open("w", encoding="utf-8") as fh:
                for t_ in rng.integers(0, 7, n):
                    fh.write(json.dumps({"question": PHRASES[TASKS[t_]],
                                         "prediction": str(rng.choice(list("ABCD"))),
                                         "answer": [str(rng.choice(list("ABCD")))]},
                                        ensure_ascii=False) + "\n")
            t, _ = timed(lambda jsonl=jsonl: score_predictions(jsonl))
            print(f"| score_predictions (official JSONL) | {n} | {t:.3f} |")
        encoders = ["gru4rec", "sasrec", "mamba4rec", "hstu", "trm_plus"]
        runs = [make_run(root / "study" / f"r{i}", 7192, i,
                         {"encoder": encoders[i % 5]} if i >= 2 else
                         {"baseline": ["text20", "text50"][i]})
                for i in range(args.runs)]
        t, comparison = timed(lambda: compare_runs(runs))
        print(f"| compare_runs ({args.runs} runs, from predictions) | 7192 each | {t:.3f} |")
        t, _ = timed(lambda: write_comparison(comparison, root / "study"))
        print(f"| write_comparison (json+md+png) | {args.runs} runs | {t:.3f} |")


if __name__ == "__main__":
    main()
