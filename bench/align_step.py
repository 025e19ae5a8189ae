"""Per-question cost of a frozen-LLM alignment step: the uncached step against the
prefix-cached one, in one process, on a run's alignment questions.

Three alignments of the same questions, embeddings and seed, one after the other
with the LLM loaded once:

- ``before, uncached``: the user context before the question (the default until
  the prefix cache), every step recomputing the whole prompt with gradients;
- ``after, uncached``: the context after the options, the same full recomputation
  (the reference whose first-step loss the cached path must match);
- ``after, cached``: the prefix before the soft tokens encoded once without
  gradients (epoch 1) and read back in bf16 (later epochs);

all in float32, then ``after, cached`` again in the ``auto`` precision (bf16 where the
CPU computes it natively). Each step's wall time comes from the trainer's own scalar
hook; a row gives the mean per question (epoch 1 includes encoding the
prefixes ahead) for epoch 1 and for later epochs, and the
cache's bytes per question (times the question counts given, for the memory a preset
needs):

    python bench/align_step.py --run runs/d0 --questions 96 --epochs 3

``--precisions fp32,bf16-mixed,bf16`` times only the cached step, once per precision
and ``--turns`` rounds in turn (the LLM loaded once), each ratio against the first:

    python bench/align_step.py --run runs/d0 --precisions bf16,bf16-mixed,fp32 --turns 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from statistics import mean, median
from typing import Any

os.environ.setdefault("UQA_PROGRESS", "0")


class StepClock:
    """Stands in for the trainer's scalar log: records when each step ended."""

    def __init__(self) -> None:
        self.times = [time.perf_counter()]

    def step(self, step: int, **scalars: Any) -> None:
        self.times.append(time.perf_counter())

    def close(self) -> None:
        pass


def run_one(label: str, config: Any, run: Path, llm: Any, work: Path, *,
            cached: bool) -> dict[str, Any]:
    from uqa_align.train import AlignRecipe

    recipe = AlignRecipe(config, work / label.replace(" ", "").replace(",", "-"))
    recipe.setup(run / "questions" / "align.arrow", run / "embeddings" / "train.arrow",
                 run / "data", llm=llm)
    if not cached:
        recipe.prefix_cache = None
    clock = StepClock()
    recipe.scalars = clock
    recipe.train()
    dts = [b - a for a, b in zip(clock.times, clock.times[1:], strict=False)]
    per_epoch = -(-len(recipe.qs) // config.batch_size)
    first, later = dts[:per_epoch], dts[per_epoch:]
    cache = recipe.prefix_cache
    row = {"label": label, "precision": recipe.precision, "steps": len(dts),
           "first_loss": recipe.losses[0],
           "epoch1_ms_per_q": 1000 * mean(first) / config.batch_size,
           "later_ms_per_q": (1000 * mean(later) / config.batch_size) if later else None,
           "cache_bytes_per_q": (cache.bytes / max(1, len(cache.stored))) if cache else None}
    recipe.cleanup()
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--questions", type=int, default=96)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--preset-questions", default="default=2100,full=7192",
                    help="NAME=COUNT alignment questions per preset, for the cache memory")
    ap.add_argument("--work", type=Path, default=Path("runs/align-step"))
    ap.add_argument("--out", type=Path, default=Path("bench/results/align_step.json"))
    ap.add_argument("--precisions", default=None,
                    help="comma-separated: time the cached step in each, in turns")
    ap.add_argument("--turns", type=int, default=2)
    args = ap.parse_args()
    if args.precisions:
        compare_precisions(args)
        return

    import torch
    from uqa_align.llm import load_llm
    from uqa_align.train import AlignConfig

    llm = load_llm("smollm2")
    load0 = os.getloadavg()
    base = {"max_questions": args.questions, "batch_size": args.batch_size,
            "checkpoint_every": 0, "warmup_steps": 2}
    one = -(-args.questions // args.batch_size)
    rows = []
    for label, over, cached in (
        ("before, uncached", {"position": "before", "steps": one, "precision": "fp32"}, False),
        ("after, uncached", {"steps": one, "precision": "fp32"}, False),
        ("after, cached", {"epochs": args.epochs, "precision": "fp32"}, True),
        ("after, cached, auto", {"epochs": args.epochs, "precision": "auto"}, True),
    ):
        config = AlignConfig.from_preset("default", **base, **over)
        rows.append(run_one(label, config, args.run, llm, args.work, cached=cached))
        print(json.dumps(rows[-1]), flush=True)
    ref = rows[0]["epoch1_ms_per_q"]
    for r in rows:
        r["speedup_epoch1"] = ref / r["epoch1_ms_per_q"]
        r["speedup_later"] = ref / r["later_ms_per_q"] if r["later_ms_per_q"] else None
    counts = dict(kv.split("=") for kv in args.preset_questions.split(","))
    per_q = rows[2]["cache_bytes_per_q"]
    result = {
        "rows": rows,
        "first_loss_diff_cached_vs_uncached": abs(rows[2]["first_loss"] - rows[1]["first_loss"]),
        "cache_gib": {k: per_q * int(v) / 2**30 for k, v in counts.items()},
        "questions": args.questions, "batch_size": args.batch_size,
        "load": [round(load0[0], 2), round(os.getloadavg()[0], 2)],
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, torch {torch.__version__}, "
                   f"{torch.get_num_threads()} threads",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print("| step | precision | epoch 1 ms/question | later epochs ms/question | "
          "x epoch 1 | x later |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        later = f"{r['later_ms_per_q']:.0f}" if r["later_ms_per_q"] else "-"
        xl = f"{r['speedup_later']:.2f}" if r["speedup_later"] else "-"
        print(f"| {r['label']} | {r['precision']} | {r['epoch1_ms_per_q']:.0f} | {later} | "
              f"{r['speedup_epoch1']:.2f} | {xl} |")
    print(f"first-step loss, cached vs uncached: {result['first_loss_diff_cached_vs_uncached']:.1e}"
          f"; cache GiB {result['cache_gib']}; load {result['load']}")


def compare_precisions(args: argparse.Namespace) -> None:
    """The cached step in each of ``args.precisions``, ``args.turns`` rounds in turn."""
    import torch
    from uqa_align.llm import load_llm
    from uqa_align.train import AlignConfig

    llm = load_llm("smollm2")
    load0 = os.getloadavg()
    names = args.precisions.split(",")
    rows = []
    for turn in range(args.turns):
        for name in names:
            config = AlignConfig.from_preset(
                "default", max_questions=args.questions, batch_size=args.batch_size,
                checkpoint_every=0, warmup_steps=2, epochs=args.epochs, precision=name)
            row = run_one(f"after, cached, {name}", config, args.run, llm, args.work,
                          cached=True)
            rows.append({**row, "asked": name, "turn": turn})
            print(json.dumps(rows[-1]), flush=True)
    summary = []
    for name in names:
        mine = [r for r in rows if r["asked"] == name]
        summary.append({"precision": name,
                        "epoch1_ms_per_q": median(r["epoch1_ms_per_q"] for r in mine),
                        "later_ms_per_q": median(r["later_ms_per_q"] for r in mine)
                        if mine[0]["later_ms_per_q"] else None,
                        "first_loss": mine[0]["first_loss"]})
    ref = summary[0]
    result = {"rows": rows, "summary": summary, "questions": args.questions,
              "epochs": args.epochs, "batch_size": args.batch_size,
              "load": [round(load0[0], 2), round(os.getloadavg()[0], 2)],
              "machine": f"{platform.machine()} {os.cpu_count()} cpus, torch "
                         f"{torch.__version__}, {torch.get_num_threads()} threads, bf16 "
                         f"native {torch.ops.mkldnn._is_mkldnn_bf16_supported()}"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"| precision | epoch 1 ms/question | later epochs ms/question | "
          f"{ref['precision']} / this, epoch 1 | later | first-step loss |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in summary:
        later = f"{r['later_ms_per_q']:.0f}" if r["later_ms_per_q"] else "-"
        xl = (f"{ref['later_ms_per_q'] / r['later_ms_per_q']:.2f}"
              if r["later_ms_per_q"] and ref["later_ms_per_q"] else "-")
        print(f"| {r['precision']} | {r['epoch1_ms_per_q']:.0f} | {later} | "
              f"{ref['epoch1_ms_per_q'] / r['epoch1_ms_per_q']:.2f} | {xl} | "
              f"{r['first_loss']:.4f} |")
    print(f"medians of {args.turns} turns; load {result['load']}")


if __name__ == "__main__":
    main()
