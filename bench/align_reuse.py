"""Alignments in one process reading the prefixes the first stored: time and weights.

Aligns the first ``--questions`` alignment questions of a run ``--repeats`` times with
the default preset's recipe inside one ``keeping_alignment_prefixes`` block (as ``uqa
run`` with baselines to align and the studies do), the LLM loaded once: the first
alignment encodes and stores every prefix in its first epoch, the later ones read them.
Prints each alignment's wall time, its first and second epoch per question, how many
prefixes it encoded and read, and whether its adapter weights equal the first's bit for
bit (the same recipe and seed, so they must):

    python bench/align_reuse.py --run runs/mr-1207 --questions 1600 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from statistics import mean
from typing import Any

os.environ.setdefault("UQA_PROGRESS", "0")


def align_once(label: str, config: Any, run: Path, llm: Any, work: Path) -> dict[str, Any]:
    """One alignment of ``run``'s questions; its times, counts and adapter weights."""
    from align_step import StepClock
    from uqa_align.prefix_cache import PrefixCache
    from uqa_align.train import AlignRecipe

    encoded = 0
    real = PrefixCache._encode

    def counting(self: PrefixCache, idx: Any) -> Any:
        nonlocal encoded
        encoded += len(idx)
        return real(self, idx)

    PrefixCache._encode = counting  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        recipe = AlignRecipe(config, work / label)
        recipe.setup(run / "questions" / "align.arrow", run / "embeddings" / "train.arrow",
                     run / "data", llm=llm)
        clock = StepClock()
        recipe.scalars = clock
        recipe.train()
        wall = time.perf_counter() - t0
    finally:
        PrefixCache._encode = real  # type: ignore[method-assign]
    dts = [b - a for a, b in zip(clock.times, clock.times[1:], strict=False)]
    per_epoch = -(-len(recipe.qs) // config.batch_size)
    cache = recipe.prefix_cache
    weights = {k: v.detach().clone() for k, v in recipe.adapter.state_dict().items()}
    row = {"label": label, "precision": recipe.precision, "questions": len(recipe.qs),
           "wall_s": round(wall, 1),
           "epoch1_ms_per_q": round(1000 * mean(dts[:per_epoch]) / config.batch_size, 1),
           "epoch2_ms_per_q": round(1000 * mean(dts[per_epoch:]) / config.batch_size, 1),
           "prefixes_encoded": encoded, "prefixes_read_from_earlier": cache.reused,
           "stored": len(cache.stored), "final_loss": recipe.losses[-1]}
    recipe.cleanup()
    return {**row, "weights": weights}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a run with questions/, data/ "
                    "and embeddings/ (`uqa run --until embed`)")
    ap.add_argument("--questions", type=int, default=1600)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--work", type=Path, default=Path("runs/align-reuse"))
    ap.add_argument("--out", type=Path, default=Path("bench/results/align_reuse.json"))
    args = ap.parse_args()

    import torch
    from uqa_align.llm import load_llm
    from uqa_align.prefix_cache import keeping_alignment_prefixes
    from uqa_align.train import AlignConfig

    llm = load_llm("smollm2")
    config = AlignConfig.from_preset("default", max_questions=args.questions,
                                     checkpoint_every=0)
    load0 = os.getloadavg()
    rows = []
    with keeping_alignment_prefixes():
        for r in range(args.repeats):
            row = align_once(f"a{r}", config, args.run, llm, args.work)
            first = rows[0]["weights"] if rows else row["weights"]
            row["weights_equal_first"] = all(torch.equal(v, first[k])
                                             for k, v in row["weights"].items())
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "weights"}), flush=True)
    out = {"run": str(args.run), "questions": args.questions, "epochs": config.epochs,
           "threads": torch.get_num_threads(), "machine": platform.processor() or
           platform.machine(), "load_start": load0, "load_end": os.getloadavg(),
           "rows": [{k: v for k, v in r.items() if k != "weights"} for r in rows],
           "later_over_first_wall": round(rows[-1]["wall_s"] / rows[0]["wall_s"], 3)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}))


if __name__ == "__main__":
    main()
