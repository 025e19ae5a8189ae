"""Answering with grouped keys and values read as they are (``enable_gqa``) against
copied once per query head (transformers' own sdpa), in one process, A/B in turns.

``uqa_align.attention.SDPA_GQA`` switches the path; each first evaluation encodes every
prompt's prefix (the shared prefix store is emptied before it), each `shuffled` one reads
them back, as a run's later evaluations do. Prints questions/s per turn, the median
ratio and whether option scores and predictions are identical.

    python bench/answer_gqa.py --run runs/o1 --adapter runs/pa-o1/oracle-ref/adapter \\
        --embeddings runs/pa-o1/oracle.arrow --questions 700
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("UQA_PROGRESS", "0")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=Path, required=True, help="run with questions/ and data/")
    ap.add_argument("--adapter", type=Path, required=True)
    ap.add_argument("--embeddings", type=Path, required=True)
    ap.add_argument("--questions", type=int, default=700, help="first N evaluation questions")
    ap.add_argument("--turns", type=int, default=2)
    args = ap.parse_args()

    import numpy as np
    import pyarrow.ipc as ipc
    import uqa_align.attention as attention
    import uqa_align.prefix_cache as prefix_cache
    from uqa_align.llm import load_llm
    from uqa_eval.evaluate import EvalConfig, evaluate

    llm = load_llm("smollm2")
    questions = args.run / "questions" / "eval.arrow"
    out = Path(tempfile.mkdtemp())
    print(f"load {os.getloadavg()[0]:.2f}", flush=True)
    for first in (True, False):
        times: dict[bool, list[float]] = {True: [], False: []}
        for turn in range(args.turns):
            for gqa in (False, True):
                attention.SDPA_GQA = gqa
                if first:
                    prefix_cache._SHARED.clear()
                path = out / f"{first}-{gqa}-{turn}.arrow"
                summary = evaluate(questions, args.embeddings, args.adapter, args.run / "data",
                                   path, EvalConfig.from_preset(
                                       "default", max_questions=args.questions,
                                       baseline=None if first else "shuffled"), llm=llm)
                times[gqa].append(summary["answer_s"])
                print(f"{'first' if first else 'shuffled'} {'grouped' if gqa else 'copied '}"
                      f" {args.questions / summary['answer_s']:.2f} questions/s", flush=True)
        a, b = (ipc.open_file(str(out / f"{first}-{g}-0.arrow")).read_all() for g in (False, True))
        same = all(a.column(c) == b.column(c) for c in ("option_scores", "prediction"))
        print(f"{'first' if first else 'shuffled'}: copied / grouped time "
              f"{np.median(times[False]) / np.median(times[True]):.3f}x, identical scores and "
              f"predictions: {same}", flush=True)
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
