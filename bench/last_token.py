"""What leaving each answer's and option's last token out of the decoder saves.

That token's hidden state predicts nothing scored, so alignment (answer loss) and
answering (``loglik``) no longer feed it in. The path before that change is emulated in
the same process by appending the last token once more to every answer and option (one
more token fed in, one more log-probability read and dropped), alternating with today's
path over the same batches, ``--repeats`` rounds:

    python bench/last_token.py --run runs/d0 --questions 160 --repeats 3

Alignment: the second-epoch step (forward and backward through the cached prefixes);
answering: ``shuffled``-style scoring of the evaluation questions from cached prefixes.
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
    import torch
    from uqa_align.llm import pad_id
    from uqa_align.prefix_cache import cached_target_logprobs
    from uqa_align.prompt import EncodedPrompt
    from uqa_align.soft_prompt import option_logprobs
    from uqa_align.train import AlignConfig, AlignRecipe
    from uqa_eval.evaluate import _prefix_cache

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a run with questions/, embeddings/")
    ap.add_argument("--questions", type=int, default=160)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    n = args.questions - args.questions % 8
    with tempfile.TemporaryDirectory() as work:
        config = AlignConfig.from_preset("default", max_questions=n, epochs=1)
        r = AlignRecipe(config, Path(work) / "a")
        r.setup(args.run / "questions" / "align.arrow", args.run / "embeddings" / "train.arrow",
                args.run / "data")
        r.train()  # one epoch: every prefix stored
        pad = pad_id(r.llm.tokenizer)
        model = r.llm.model
        batches = [np.arange(i, i + 8) for i in range(0, n, 8)]

        def align_pass(again: bool) -> None:
            for idx in batches:
                targets = [[*r.targets[i], *r.targets[i][-1:] * again] for i in idx]
                lp = cached_target_logprobs(model, r.prefix_cache, idx.tolist(), [False] * 8,
                                            targets, r.soft_tokens(idx), pad)
                (-lp.mean()).backward()

        prompts = [r.builder.encode(q, o, n_soft=1) for q, o in
                   zip(r.qs.questions[:n], r.qs.options[:n], strict=True)]
        cache = _prefix_cache(r.llm, prompts, 4.0)
        longer = [EncodedPrompt(p.before, p.n_soft, p.after, [[*c, c[-1]] for c in p.continuations])
                  for p in cache.prompts]

        def answer_pass(again: bool) -> None:
            with torch.no_grad():
                for idx in (np.arange(i, i + 16) for i in range(0, n - 15, 16)):
                    use = longer if again else cache.prompts
                    soft = r.soft_tokens(idx).detach()
                    option_logprobs(model, [use[i] for i in idx], soft, pad,
                                    cached=(cache, idx.tolist(), [False] * len(idx)))

        answer_pass(False)  # encodes and stores the evaluation prefixes
        for name, run in (("alignment step", align_pass), ("answering", answer_pass)):
            total = {True: 0.0, False: 0.0}
            for rep in range(args.repeats):
                for again in ((True, False) if rep % 2 == 0 else (False, True)):
                    t0 = time.perf_counter()
                    run(again)
                    total[again] += time.perf_counter() - t0
            per = {k: 1000 * v / (args.repeats * n) for k, v in total.items()}
            print(f"{name}: last token fed in {per[True]:.1f} ms a question, left out "
                  f"{per[False]:.1f} ms: {total[True] / total[False]:.2f}x", flush=True)


if __name__ == "__main__":
    main()
