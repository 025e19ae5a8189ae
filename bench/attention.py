"""The frozen LLM's attention on a CPU: transformers' ``sdpa`` and ``eager`` against
uqa's ``uqa_cpu`` (:mod:`uqa_align.attention`: sdpa without gradients, grouped plain
products with them), in one process, per question, for the three things the default
run asks of it:

- ``train``: a later-epoch alignment step (each prefix read from the cache; the soft
  token, the assistant header and the answer run forward and backward);
- ``encode``: a first-visit prefix encoding (no gradients, groups of similar length);
- ``answer``: ``loglik`` answering (prefixes already cached, as in every evaluation
  after a run's first; the soft token, the header and four options scored).

The implementations take turns, ``--repeats`` times, on the same questions, so the
machine's drift hits both alike; the table gives the median of each:

    python bench/attention.py --run runs/d0 --questions 320 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from statistics import median

os.environ.setdefault("UQA_PROGRESS", "0")
IMPLEMENTATIONS = ("sdpa", "eager", "uqa_cpu")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a run with questions/, "
                    "embeddings/ and data/ (uqa run --until embed)")
    ap.add_argument("--questions", type=int, default=160,
                    help="alignment questions, a seeded sample of the run's")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--out", type=Path, default=Path("bench/results/attention.json"))
    args = ap.parse_args()

    import tempfile

    import numpy as np
    import pyarrow as pa
    import pyarrow.ipc as ipc
    import torch
    from uqa_align.attention import use_cpu_attention
    from uqa_align.llm import pad_id
    from uqa_align.prefix_cache import PrefixCache, cached_target_logprobs
    from uqa_align.train import AlignConfig, AlignRecipe
    from uqa_eval.answering import score_loglik

    work = Path(tempfile.mkdtemp(prefix="uqa-bench-attention-"))
    table = ipc.open_file(str(args.run / "questions" / "align.arrow")).read_all()
    rows = np.sort(np.random.default_rng(0).permutation(table.num_rows)[: args.questions])
    sample = work / "align.arrow"  # a seeded sample across every sub-task
    with ipc.new_file(str(sample), table.schema) as writer:
        writer.write_table(table.take(pa.array(rows)))
    config = AlignConfig.from_preset("default", epochs=2, batch_size=args.batch_size)
    recipe = AlignRecipe(config, work / "adapter")
    recipe.setup(sample, args.run / "embeddings" / "train.arrow", args.run / "data")
    model, cache = recipe.llm.model, recipe.prefix_cache
    pad = pad_id(recipe.llm.tokenizer)
    n = len(recipe.prompts)
    everyone = list(range(n))
    cache.prefixes(everyone, [True] * n)  # stores every prefix: later visits read it
    batches = [np.arange(s, min(n, s + args.batch_size)) for s in range(0, n, args.batch_size)]
    # answering prompts: the same questions, a cache of float32 prefixes like evaluate's
    answer_cache = PrefixCache(model, cache.head, cache.prompts, 2**34, exact=True)

    def train() -> None:
        for idx in batches:
            soft = recipe.soft_tokens(idx)
            lp = cached_target_logprobs(model, cache, idx.tolist(), [False] * len(idx),
                                        [recipe.targets[i] for i in idx], soft, pad)
            (-lp.mean()).backward()

    def encode() -> None:
        cache.ahead.clear()
        cache.encode_ahead(everyone)
        cache.ahead.clear()

    def answer() -> None:
        with torch.no_grad():
            for idx in batches:
                score_loglik(model, [cache.prompts[i] for i in idx], recipe.soft_tokens(idx),
                             pad, cached=(answer_cache, idx.tolist(), [False] * len(idx)))

    answer()  # fills the answering cache: every timed pass reads its prefixes
    tasks = {"train": train, "encode": encode, "answer": answer}
    times: dict[str, dict[str, list[float]]] = {t: {i: [] for i in IMPLEMENTATIONS} for t in tasks}
    load0 = os.getloadavg()[0]
    for _ in range(args.repeats):
        for impl in IMPLEMENTATIONS:
            if impl == "uqa_cpu":
                use_cpu_attention(model)
            else:
                model.set_attn_implementation(impl)
            for name, fn in tasks.items():
                t0 = time.perf_counter()
                fn()
                times[name][impl].append(1000 * (time.perf_counter() - t0) / n)
    rows = []
    for name in tasks:
        a, b, c = (median(times[name][i]) for i in IMPLEMENTATIONS)
        rows.append({"task": name, "sdpa_ms": round(a, 1), "eager_ms": round(b, 1),
                     "uqa_cpu_ms": round(c, 1), "sdpa_over_uqa_cpu": round(a / c, 2),
                     "eager_over_uqa_cpu": round(b / c, 2), "runs": times[name]})
    result = {"command": "python bench/attention.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()),
        "questions": n, "precision": recipe.precision, "load": [round(load0, 2),
                                                                  round(os.getloadavg()[0], 2)],
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, torch {torch.__version__}, "
                   f"{torch.get_num_threads()} threads", "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print("| per question | sdpa ms | eager ms | uqa_cpu ms | sdpa / uqa_cpu | "
          "eager / uqa_cpu |\n|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['task']} | {r['sdpa_ms']} | {r['eager_ms']} | {r['uqa_cpu_ms']} | "
              f"{r['sdpa_over_uqa_cpu']} | {r['eager_over_uqa_cpu']} |")
    print(f"{n} questions, {recipe.precision}, load {result['load']}, {result['machine']}")


if __name__ == "__main__":
    main()
