"""Alignment cost per question at two batch sizes, in one process with the LLM loaded once.

Runs the default preset's alignment (two epochs, prefix cache) on the first ``--questions``
alignment questions of a finished run, alternating the batch sizes ``--repeats`` times, and
prints the wall time per question-visit of each:

    python bench/align_batch.py --run runs/d0 --questions 128 --sizes 8,16 --repeats 2
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("UQA_PROGRESS", "0")


def main() -> None:
    from uqa_align.train import AlignConfig, AlignRecipe

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a run with questions/ and embeddings/")
    ap.add_argument("--questions", type=int, default=128)
    ap.add_argument("--sizes", default="8,16")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    llm = None
    with tempfile.TemporaryDirectory() as work:
        for _ in range(args.repeats):
            for size in (int(x) for x in args.sizes.split(",")):
                config = AlignConfig.from_preset("default", max_questions=args.questions,
                                                 batch_size=size)
                recipe = AlignRecipe(config, Path(work) / f"b{size}")
                recipe.setup(args.run / "questions" / "align.arrow",
                             args.run / "embeddings" / "train.arrow", args.run / "data", llm=llm)
                llm = recipe.llm
                t0 = time.perf_counter()
                recipe.train()
                seconds = time.perf_counter() - t0
                visits = recipe.step * size
                print(f"batch {size}: {recipe.step} steps, {seconds:.1f} s, "
                      f"{1000 * seconds / visits:.0f} ms a question-visit", flush=True)


if __name__ == "__main__":
    main()
