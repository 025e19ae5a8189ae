"""One epoch of the default frozen-LLM alignment step: batches padded as they come
against batches grouped by length, in one process, on a run's alignment questions.

- ``padded`` (the step before grouping): each look-ahead of 8 steps encodes its
  prefixes in fixed chunks of 32 sorted questions, and each step runs its 8 suffixes
  (soft tokens, assistant header, answer) as one right-padded batch;
- ``grouped`` (today): prefixes in groups of similar length
  (:func:`uqa_align.prefix_cache.length_groups`, at most 4,096 padded tokens a call)
  and each step's suffixes in groups of similar length, gradients summed over them.

The two alternate (padded, grouped, padded, grouped) over the same questions, the LLM
loaded once, and report the mean time per question over their repeats, the padded
tokens computed per real token, and the first and last losses (equal up to float
rounding: the same questions, order, weights and loss)::

    python bench/align_padding.py --run runs/headline2 --questions 400
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import time
from pathlib import Path
from statistics import mean
from typing import Any

os.environ.setdefault("UQA_PROGRESS", "0")


def padded_encode_ahead(self: Any, idx: Any, chunk: int = 32) -> None:
    """The look-ahead encoding before grouping: sorted, fixed chunks of 32."""
    todo = sorted({i for i in idx if i not in self.ahead},
                  key=lambda i: len(self.prompts[i].before))
    for start in range(0, len(todo), chunk):
        part = todo[start : start + chunk]
        self.ahead.update(zip(part, self._encode(part), strict=True))


class Tokens:
    """Counts real and padded tokens of every decoder call made under it."""

    def __init__(self) -> None:
        self.real = self.padded = 0

    def wrap(self, decoder: Any) -> Any:
        original = decoder.forward

        def forward(*args: Any, **kwargs: Any) -> Any:
            x = kwargs.get("input_ids")
            x = kwargs["inputs_embeds"] if x is None else x
            self.padded += x.shape[0] * x.shape[1]
            mask = kwargs.get("attention_mask")
            self.real += (x.shape[0] * x.shape[1] if mask is None
                          else int(mask[:, -x.shape[1]:].sum()))
            return original(*args, **kwargs)

        decoder.forward = forward
        return original


def run_one(variant: str, config: Any, run: Path, llm: Any, work: Path) -> dict[str, Any]:
    import uqa_align.prefix_cache as pc
    from uqa_align.soft_prompt import model_parts
    from uqa_align.train import AlignRecipe

    saved = pc.PrefixCache.encode_ahead, pc.cached_target_logprobs
    if variant == "padded":
        pc.PrefixCache.encode_ahead = padded_encode_ahead
        pc.cached_target_logprobs = functools.partial(saved[1], call_tokens=None)
    decoder, _, _ = model_parts(llm.model)
    tokens = Tokens()
    original = tokens.wrap(decoder)
    try:
        recipe = AlignRecipe(config, work / variant)
        recipe.setup(run / "questions" / "align.arrow", run / "embeddings" / "train.arrow",
                     run / "data", llm=llm)
        t0 = time.perf_counter()
        recipe.train()
        seconds = time.perf_counter() - t0
    finally:
        pc.PrefixCache.encode_ahead, pc.cached_target_logprobs = saved
        decoder.forward = original
    row = {"variant": variant, "precision": recipe.precision, "steps": recipe.step,
           "ms_per_q": 1000 * seconds / (recipe.step * config.batch_size),
           "padded_per_real": tokens.padded / tokens.real,
           "first_loss": recipe.losses[0], "last_loss": recipe.losses[-1]}
    recipe.cleanup()
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--questions", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--work", type=Path, default=Path("runs/align-padding"))
    ap.add_argument("--out", type=Path, default=Path("bench/results/align_padding.json"))
    args = ap.parse_args()

    import torch
    from uqa_align.llm import load_llm
    from uqa_align.train import AlignConfig

    llm = load_llm("smollm2")
    load0 = os.getloadavg()
    config = AlignConfig.from_preset("default", max_questions=args.questions,
                                     checkpoint_every=0)
    rows = []
    for _ in range(args.repeats):
        for variant in ("padded", "grouped"):
            rows.append(run_one(variant, config, args.run, llm, args.work))
            print(json.dumps(rows[-1]), flush=True)
    summary = {}
    for variant in ("padded", "grouped"):
        mine = [r for r in rows if r["variant"] == variant]
        summary[variant] = {"ms_per_q": mean(r["ms_per_q"] for r in mine),
                            "padded_per_real": mine[0]["padded_per_real"],
                            "first_loss": mine[0]["first_loss"],
                            "last_loss": mine[0]["last_loss"]}
    speedup = summary["padded"]["ms_per_q"] / summary["grouped"]["ms_per_q"]
    result = {"rows": rows, "summary": summary, "speedup": speedup,
              "questions": args.questions, "batch_size": config.batch_size,
              "load": [round(load0[0], 2), round(os.getloadavg()[0], 2)],
              "machine": f"{platform.machine()} {os.cpu_count()} cpus, torch "
                         f"{torch.__version__}, {torch.get_num_threads()} threads"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print("| step | ms/question | padded / real tokens | first loss | last loss |")
    print("|---|---:|---:|---:|---:|")
    for variant, s in summary.items():
        print(f"| {variant} | {s['ms_per_q']:.0f} | {s['padded_per_real']:.2f} | "
              f"{s['first_loss']:.4f} | {s['last_loss']:.4f} |")
    print(f"grouped is {speedup:.2f}x faster per question; load {result['load']}")


if __name__ == "__main__":
    main()
