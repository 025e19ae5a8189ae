"""Where a later epoch's cached alignment step goes: ``torch.profiler`` over one epoch.

Aligns the first ``--questions`` alignment questions of a run for two epochs (the
prefixes encoded, then read back from the cache), then profiles a third and prints the
operators by self time, with and without their input shapes:

    python bench/profile_step.py --run runs/default-sasrec-mean_linear-s0 --precision bf16
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("UQA_PROGRESS", "0")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="run with questions/, data/, "
                    "embeddings/")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--questions", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--rows", type=int, default=30)
    ap.add_argument("--work", type=Path, default=Path("runs/profile-step"))
    args = ap.parse_args()

    import torch
    from uqa_align.llm import load_llm
    from uqa_align.train import AlignConfig, AlignRecipe

    per_epoch = args.questions // args.batch_size
    config = AlignConfig.from_preset(
        "default", max_questions=args.questions, batch_size=args.batch_size,
        checkpoint_every=0, warmup_steps=2, steps=3 * per_epoch, epochs=None,
        precision=args.precision)
    recipe = AlignRecipe(config, args.work / "adapter")
    # set up for three epochs, so the prefix cache stores what the later ones read back
    recipe.setup(args.run / "questions" / "align.arrow", args.run / "embeddings" / "train.arrow",
                 args.run / "data", llm=load_llm("smollm2"))
    for epoch in (1, 2, 3):
        recipe.config = replace(config, steps=epoch * per_epoch)
        profiler = (torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],
                                           record_shapes=True)
                    if epoch == 3 else contextlib.nullcontext())
        with profiler as prof:
            t = time.perf_counter()
            recipe.train()
            ms = 1000 * (time.perf_counter() - t) / args.questions
        print(f"epoch {epoch}{' (profiled)' if epoch == 3 else ''}: {ms:.1f} ms a question "
              f"({recipe.precision}, load {os.getloadavg()[0]:.2f})", flush=True)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))
    print(prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total",
                                                             row_limit=args.rows))
    recipe.cleanup()


if __name__ == "__main__":
    main()
