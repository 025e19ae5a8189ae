"""Answering speed and prompt cost with the embedded SmolLM2 on this machine.

Measures, for the same questions: questions per second of ``loglik`` answering
(the answering loop: adapter, prompt encoding with the shared-head KV cache,
option scoring; model loading excluded) and the mean LLM input tokens per
question with a user embedding (soft tokens) vs the ``text20``/``text50``
renderings of the history. Untrained weights (``--steps 0`` alignment) are
enough for speed and token counts.

Usage::

    python bench/answering.py --run runs/tiny-sasrec-mean_linear-s0 [--limit 200]

``--run`` needs ``questions/eval.arrow``, ``embeddings/test.arrow`` and
``data/`` (e.g. from ``uqa run --preset tiny --until embed``).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", type=Path, required=True, help="run directory with questions/, "
                    "embeddings/, data/")
    ap.add_argument("--questions", type=Path, default=None,
                    help="question file (default: RUN/questions/eval.arrow)")
    ap.add_argument("--limit", type=int, default=None, help="first N questions only")
    ap.add_argument("--batch-size", type=int, nargs="+", default=[16])
    ap.add_argument("--variants", nargs="+", default=["embedding", "none", "text20", "text50"])
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--tokens-only", action="store_true",
                    help="only count prompt tokens per question (no LLM forward passes)")
    args = ap.parse_args()
    if args.tokens_only:
        count_tokens(args)
        return

    import torch
    from uqa_align.train import AlignConfig, align
    from uqa_eval.evaluate import EvalConfig, evaluate

    questions = args.questions or args.run / "questions" / "eval.arrow"
    emb = args.run / "embeddings" / "test.arrow"
    data = args.run / "data"
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for variant in args.variants:
            adapter_dir = Path(tmp) / variant
            baseline = None if variant == "embedding" else variant
            if variant == "embedding":
                cfg = AlignConfig.from_preset("default", steps=0, max_questions=8)
                align(questions, emb, data, adapter_dir, cfg)
            elif variant.startswith("text"):
                k = int(variant[4:])
                cfg = AlignConfig.from_preset("default", steps=0, max_questions=8,
                                              text_history=k, strategy="lora")
                align(questions, None, data, adapter_dir, cfg)
            for bs in args.batch_size:
                ecfg = EvalConfig.from_preset("default", baseline=baseline, batch_size=bs,
                                              max_questions=args.limit)
                t0 = time.perf_counter()
                s = evaluate(questions, emb if variant == "embedding" else None,
                             adapter_dir if variant != "none" else None, data,
                             Path(tmp) / f"{variant}-{bs}.arrow", ecfg)
                results.append({
                    "variant": variant, "batch_size": bs, "questions": s["questions"],
                    "questions_per_s": s["questions_per_s"], "answer_s": s["answer_s"],
                    "wall_s": round(time.perf_counter() - t0, 2),
                    "mean_input_tokens": round(s["mean_input_tokens"], 1),
                })
                print(json.dumps(results[-1]), flush=True)
    base = {r["variant"]: r["mean_input_tokens"] for r in results}
    print(f"\ntorch threads: {torch.get_num_threads()}, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', '(unset)')}, load average {os.getloadavg()}")
    print("| variant | batch | questions | questions/s | mean input tokens | tokens vs embedding |")
    print("|---|---|---|---|---|---|")
    for r in results:
        ratio = r["mean_input_tokens"] / base["embedding"] if "embedding" in base else float("nan")
        print(f"| {r['variant']} | {r['batch_size']} | {r['questions']} | "
              f"{r['questions_per_s']} | {r['mean_input_tokens']} | {ratio:.1f}x |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def count_tokens(args: argparse.Namespace) -> None:
    """Mean LLM input tokens per question for each variant, by tokenisation alone."""
    import numpy as np
    from uqa_align.llm import load_tokenizer, smollm2_dir
    from uqa_align.prompt import PromptBuilder
    from uqa_align.question_set import read_questions
    from uqa_align.text_history import history_texts

    questions = args.questions or args.run / "questions" / "eval.arrow"
    qs = read_questions(questions, limit=args.limit)
    builder = PromptBuilder(load_tokenizer(smollm2_dir()))
    rows = {}
    for variant in args.variants:
        texts: list = [None] * len(qs)
        n_soft = 1 if variant == "embedding" else 16 if variant == "qformer16" else 0
        if variant.startswith("text"):
            texts = history_texts(qs, args.run / "data", int(variant[4:]))
        lengths = [builder.encode(q, o, n_soft=n_soft, history_text=t).length
                   for q, o, t in zip(qs.questions, qs.options, texts, strict=True)]
        cont = [sum(len(c) for c in builder.continuations(o)) for o in qs.options]
        rows[variant] = (float(np.mean(lengths)), float(np.mean(cont)))
    print(f"{len(qs)} questions from {questions}")
    print("| prompt | mean input tokens | x embedding | + scored option tokens |")
    print("|---|---|---|---|")
    ref = rows.get("embedding", (float("nan"),))[0]
    for v, (n, c) in rows.items():
        print(f"| {v} | {n:.1f} | {n / ref:.1f}x | {c:.1f} |")


if __name__ == "__main__":
    main()
