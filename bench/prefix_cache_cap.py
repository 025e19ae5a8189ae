"""What the alignment's prefix cache needs, and what a visit costs when it is full.

Prints how many bytes the bf16 prefixes of a run's alignment questions take (against
the default cap), then trains the default recipe (two epochs, batch 8) on the first
``--questions`` of them with no room in the cache (every second-epoch visit encodes
its prefix again) and with room for all, alternating ``--repeats`` times in one
process with the LLM loaded once:

    python bench/prefix_cache_cap.py --run runs/d0 --questions 160 --repeats 2
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("UQA_PROGRESS", "0")


def main() -> None:
    import numpy as np
    from uqa_align.train import AlignConfig, AlignRecipe

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a run with questions/ and embeddings/")
    ap.add_argument("--questions", type=int, default=160)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    paths = (args.run / "questions" / "align.arrow", args.run / "embeddings" / "train.arrow",
             args.run / "data")
    with tempfile.TemporaryDirectory() as work:
        default = AlignConfig.from_preset("default")
        recipe = AlignRecipe(default, Path(work) / "sizes")
        recipe.setup(*paths)
        llm = recipe.llm
        m = llm.model.config
        per_token = (m.num_hidden_layers * 2 * m.num_key_value_heads
                     * (m.hidden_size // m.num_attention_heads) * 2)  # keys and values, bf16
        lengths = np.array([len(p.before) for p in recipe.prefix_cache.prompts])
        print(f"{len(lengths)} alignment questions, prefixes of {lengths.mean():.1f} tokens "
              f"(shared head of {len(recipe.prefix_cache.head)} apart), {per_token} bytes a "
              f"token: {lengths.sum() * per_token / 2**30:.2f} GiB against the default cap of "
              f"{default.prefix_cache_gb} GiB", flush=True)
        for rep in range(args.repeats):
            for gb in (0.0, default.prefix_cache_gb):
                config = AlignConfig.from_preset("default", max_questions=args.questions,
                                                 prefix_cache_gb=gb)
                recipe = AlignRecipe(config, Path(work) / f"r{rep}-{gb}")
                recipe.setup(*paths, llm=llm)
                t0 = time.perf_counter()
                recipe.train()
                seconds = time.perf_counter() - t0
                visits = recipe.step * config.batch_size
                print(f"cap {gb} GiB: {seconds:.1f} s, {1000 * seconds / visits:.0f} ms a "
                      f"question-visit, {recipe.prefix_cache.recomputed} visits re-encoded",
                      flush=True)


if __name__ == "__main__":
    main()
