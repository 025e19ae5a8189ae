"""What can the LLM do with perfect information? The gold answer written in the prompt.

Scores a run's evaluation questions with the frozen LLM (loglik, as ``uqa eval``)
three ways: no user context, the gold answer's text written where the soft
tokens would go ("User history:\\n<answer>"), and a wrong option's text written
there instead. The gold-in-prompt row is an upper bound for any user context a
frozen LLM is given: a soft token cannot tell it more than the answer itself.
With ``--truth`` (synthetic data) a fourth row writes the planted truth the
oracle baseline holds, in words: each long-term interest's category, weight and
preferred brand and shop, then the last two phases' categories. It is what the
frozen LLM makes of the oracle's information without any alignment.

    python bench/llm_ceiling.py --run runs/bench-default --llm smollm2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow.ipc as ipc
import torch
from uqa_align.llm import load_llm, resolve_precision, set_precision
from uqa_align.prompt import PromptBuilder, PromptStyle
from uqa_align.question_set import read_questions
from uqa_align.soft_prompt import option_logprobs

TASKS = ("df", "mf", "ip", "ap", "li", "si", "it")


def truth_texts(raw: Path) -> dict[str, str]:
    """User id (as the question file writes it) -> the planted truth in words."""
    items = ipc.open_file(str(raw / "items.arrow")).read_all().to_pylist()
    names: dict[tuple[str, int], str] = {}
    for r in items:
        for kind in ("cate", "brand", "shop"):
            names.setdefault((kind, r[f"{kind}_id"]), r[f"{kind}_name"])
    out = {}
    for r in ipc.open_file(str(raw / "truth.arrow")).read_all().to_pylist():
        parts = []
        for c, w, b, sh in sorted(zip(r["interest_cate_ids"], r["interest_weights"],
                                      r["pref_brand_ids"], r["pref_shop_ids"], strict=True),
                                  key=lambda x: -x[1]):
            parts.append(f"{names[('cate', c)]} {100 * w:.0f}% (brand "
                         f"{names[('brand', b)]}, shop {names[('shop', sh)]})")
        phases = r["phase_cate_ids"]
        recent = [names[("cate", c)] for c in phases[-2:][::-1]]
        out[str(r["user_id"])] = ("Long-term interests: " + "; ".join(parts)
                                  + ". Latest interest: " + recent[0]
                                  + (f". Interest before it: {recent[1]}." if len(recent) > 1
                                     else "."))
    return out


def score(llm, qs, contexts: list[str | None], batch: int = 8) -> np.ndarray:
    """Correct (1/0) per question with ``contexts[i]`` written as the user context."""
    builder = PromptBuilder(llm.tokenizer, PromptStyle())
    pad = llm.tokenizer.pad_token_id or 0
    correct = np.zeros(len(qs), dtype=np.int64)
    for start in range(0, len(qs), batch):
        idx = range(start, min(start + batch, len(qs)))
        prompts = [builder.encode(qs.questions[i], qs.options[i], history_text=contexts[i])
                   for i in idx]
        with torch.no_grad():
            scores = option_logprobs(llm.model, prompts, None, pad)
        for i, row in zip(idx, scores, strict=True):
            correct[i] = int(row.argmax()) == qs.answers[i]
    return correct


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--llm", default="smollm2")
    ap.add_argument("--limit", type=int, default=None, help="first N questions")
    ap.add_argument("--questions", type=Path, default=None,
                    help="evaluation questions (default: RUN/questions/eval.arrow)")
    ap.add_argument("--precision", default="auto", help="fp32, bf16 or auto (as uqa eval)")
    ap.add_argument("--wrong", action="store_true", help="also a wrong option in the prompt")
    ap.add_argument("--truth", action="store_true",
                    help="also the planted truth in words (RUN/raw/truth.arrow)")
    args = ap.parse_args()
    path = args.questions or args.run / "questions" / "eval.arrow"
    qs = read_questions(path, limit=args.limit)
    table = ipc.open_file(str(path)).read_all().slice(0, len(qs))
    tasks = table.column("task").to_pylist()
    gold = table.column("answer_text").to_pylist()
    wrong = [opts[(a + 1) % len(opts)] for opts, a in zip(qs.options, qs.answers, strict=True)]
    llm = load_llm(args.llm)
    precision = resolve_precision(args.precision, next(llm.model.parameters()).device,
                                  frozen=True, hidden=llm.hidden_size)
    set_precision(llm, precision)
    rows = {
        "none (no user context)": score(llm, qs, [None] * len(qs)),
        "gold answer written in the prompt": score(llm, qs, gold),
    }
    if args.wrong:
        rows["a wrong option written in the prompt"] = score(llm, qs, wrong)
    if args.truth:
        truth = truth_texts(args.run / "raw")
        users = [str(u) for u in table.column("user_id").to_pylist()]
        rows["the planted truth written in the prompt"] = score(
            llm, qs, [truth[u] for u in users])
    present = [t for t in TASKS if t in tasks]
    print("| context | " + " | ".join(t.upper() for t in present) + " | IP dim. | Overall |")
    print("|---|" + "---:|" * (len(present) + 2))
    out = {}
    for name, correct in rows.items():
        per = {t: float(np.mean([c for c, k in zip(correct, tasks, strict=True) if k == t]))
               for t in present}
        ip = [c for c, k in zip(correct, tasks, strict=True) if k in ("li", "si", "it")]
        per["interest_perception"] = float(np.mean(ip)) if ip else float("nan")
        per["overall"] = float(correct.mean())
        out[name] = per
        cells = [f"{100 * per[t]:.1f}" for t in present]
        print(f"| {name} | " + " | ".join(cells)
              + f" | {100 * per['interest_perception']:.1f} | {100 * per['overall']:.1f} |")
    print(json.dumps({"questions": len(qs), "path": str(path), "llm": args.llm,
                      "precision": precision, "accuracy": out}))


if __name__ == "__main__":
    main()
