"""Recipe search for the alignment: which settings let the LLM read the user?

For each named recipe (learning rate, epochs, soft tokens, pooling, loss) it
aligns a fresh adapter on a run's alignment questions with the run's own
embeddings (or the planted-truth oracle, or an untrained encoder's), then
answers the evaluation questions with the user's embedding and with the
embeddings shuffled across users, in one process (the LLM loads once; the
evaluation prompts' prefixes are encoded once for every recipe). One JSON line
per recipe and embedding lands in ``--out`` as soon as it is done, with every
question's correctness, so intervals can be computed afterwards:

    python bench/recipe_search.py --run runs/bench-default --vectors sasrec,oracle \\
        --recipes base,lr2e-2,lr1e-3,epochs1,tokens4,last,options --out bench/results/recipe.jsonl
    python bench/recipe_search.py --run runs/bench-default --table   # the recorded table
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("UQA_PROGRESS", "0")

RECIPES: dict[str, dict[str, Any]] = {
    "base": {"lr": 5e-3, "epochs": 3},
    "lr2e-2": {"lr": 2e-2, "epochs": 3},
    "lr1e-3": {"lr": 1e-3, "epochs": 3},
    "epochs1": {"lr": 5e-3, "epochs": 1},
    "tokens4": {"lr": 5e-3, "epochs": 3, "adapter_options": {"num_tokens": 4}},
    "last": {"lr": 5e-3, "epochs": 3, "adapter_options": {"pool": "last"}},
    "options": {"lr": 5e-3, "epochs": 3, "loss": "options"},
    "batch16": {"lr": 1e-2, "epochs": 3, "batch_size": 16},
    # one-epoch probes of a direction before paying for three
    "e1-base": {"lr": 5e-3, "epochs": 1},
    "e1-nonorm": {"lr": 5e-3, "epochs": 1, "soft_norm": False},
    "e1-lr2e-2": {"lr": 2e-2, "epochs": 1},
    "e1-options": {"lr": 5e-3, "epochs": 1, "loss": "options"},
    "e1-tokens4": {"lr": 5e-3, "epochs": 1, "adapter_options": {"num_tokens": 4}},
    "e1-last": {"lr": 5e-3, "epochs": 1, "adapter_options": {"pool": "last"}},
    # twice the alignment questions (600 per sub-task, 4,200), one epoch: about the cost of
    # three epochs over the preset's 2,100 (the first epoch pays for encoding prefixes)
    "a600-e1": {"lr": 5e-3, "epochs": 1, "align_per_task": 600},
    # batch 16 at twice the rate: each step's suffix pass streams the frozen LLM's weights
    # once for twice the questions (cheaper per question on a CPU)
    "b16-e1": {"lr": 1e-2, "epochs": 1, "batch_size": 16},
    # one spread for every input dimension: a rare brand or shop slot of the oracle no
    # longer outweighs its category slots tenfold
    "global": {"lr": 5e-3, "epochs": 1, "adapter_options": {"scale": "global"}},
    # each answer's summed log-likelihood, averaged over questions: the tokens a long
    # answer copies from its option no longer dilute the one that chooses it
    "sum": {"lr": 5e-3, "epochs": 1, "loss": "answer_sum"},
    # two passes over the default's 4,200 questions: do repeats help once the set is
    # this large? (the second pass reads prefixes from the cache up to its cap)
    "e2": {"lr": 5e-3, "epochs": 2},
    "e1-options-lr2e-2": {"lr": 2e-2, "epochs": 1, "loss": "options"},
    "e1-options-lr2e-2-t4": {"lr": 2e-2, "epochs": 1, "loss": "options",
                             "adapter_options": {"num_tokens": 4}},
    # cross-entropy over the options cut after their decisive tokens (1.26 tokens of 7.9
    # for the gold option on the default preset): the choice loglik answering makes
    "choice-e1": {"lr": 5e-3, "epochs": 1, "loss": "choice"},
    "choice-e1-lr2e-2": {"lr": 2e-2, "epochs": 1, "loss": "choice"},
    # the mean and the last state side by side: a next-item encoder keeps the recent
    # clicks in its last state (a linear probe reads the next click's category from
    # SASRec's last state at 0.690, from its mean at 0.613; bench/embedding_probe.py)
    "both-e1": {"lr": 5e-3, "epochs": 1, "adapter_options": {"pool": "both"}},
    # three passes over the default's 4,200 questions (issue 19's epochs), prefixes cached
    "e3": {"lr": 5e-3, "epochs": 3},
    # the default's two passes with AdamW's decoupled weight decay on the adapter: the oracle's
    # adapter memorises its alignment users (64% on interest perception against 42% on new
    # ones); decay shrinks the columns of rare brands and shops that a few questions set
    "e2-wd0.1": {"lr": 5e-3, "epochs": 2, "weight_decay": 0.1},
    "e2-wd1": {"lr": 5e-3, "epochs": 2, "weight_decay": 1.0},
}
"""Recipe name -> AlignConfig overrides (on top of the ``default`` preset); the key
``align_per_task`` instead aligns on that many questions per sub-task, generated from the
run's data with its question settings (the evaluation questions stay the run's own).
Every recipe was recorded with ``mean_linear`` pooling the mean of the states, its
default until the last state took over: :func:`recorded_pool` keeps it so."""


def recorded_pool(over: dict[str, Any]) -> dict[str, Any]:
    """``over`` with ``mean_linear``'s ``pool`` set to ``mean`` unless it names one."""
    options = {"pool": "mean", **over.get("adapter_options", {})}
    return {**over, "adapter_options": options}


def align_questions(run: Path, per_task: int | None, work: Path) -> Path:
    """The run's alignment questions, or ``per_task`` of them per sub-task generated once."""
    if per_task is None:
        return run / "questions" / "align.arrow"
    out = work / f"questions-align{per_task}"
    path = out / "questions" / "align.arrow"
    if not path.is_file():
        import subprocess
        import sys

        out.mkdir(parents=True, exist_ok=True)
        for name in ("data", "raw"):
            link = out / name
            if not link.exists():
                link.symlink_to((run / name).resolve())
        uqa = Path(sys.executable).with_name("uqa")
        subprocess.run([str(uqa), "questions", "--out", str(out), "--preset", "default",
                        "--align-per-task", str(per_task)], check=True)
    return path


def vectors_file(run: Path, kind: str, work: Path) -> tuple[Path, Path]:
    """(train, test) embeddings files of ``kind``: sasrec (the run's), oracle, random."""
    if kind == "oracle":
        from uqa_eval.baselines import write_oracle_embeddings

        path = work / "oracle.arrow"
        if not path.is_file():
            write_oracle_embeddings(run / "raw" / "truth.arrow", path)
        return path, path
    if kind == "random":
        out = {}
        for split in ("train", "test"):
            path = run / "embeddings" / "untrained" / f"{split}.arrow"
            if not path.is_file():
                from uqa_encoders.embed import export_embeddings

                export_embeddings(run / "encoder", run / "data", split, path, untrained=True)
            out[split] = path
        return out["train"], out["test"]
    return run / "embeddings" / "train.arrow", run / "embeddings" / "test.arrow"


def marked(d: dict[str, Any]) -> str:
    """A paired or pooled difference in points with its interval, ``*`` when signal."""
    from uqa_eval.significance import fmt_difference

    return fmt_difference(d) + ("*" if d["signal"] else "")


def diff(u: Any, s: Any) -> str:
    """``u - s`` in points with its 95% paired-bootstrap interval, ``*`` when signal."""
    from uqa_eval.significance import paired_difference

    return marked(paired_difference(u, s))


def table(path: Path) -> str:
    """A Markdown table of the recorded recipes: each embedding against its shuffled
    control, overall, on interest perception (li, si, it) and on the category
    questions of those, as paired differences with 95% bootstrap intervals."""
    import numpy as np
    from uqa_eval.significance import wilson

    def acc(c: Any) -> str:
        lo, hi = wilson(int(c.sum()), len(c))
        return f"{100 * c.mean():.1f} [{100 * lo:.0f}, {100 * hi:.0f}]"

    lines = ["| vectors | recipe | settings | align s (threads) | loss first -> last | "
             "acc, overall | - shuffled, overall | acc, IP | - shuffled, IP | "
             "- shuffled, IP categories |", "|---|---|---|---:|---|---:|---:|---:|---:|---:|"]
    for line in path.read_text().splitlines():
        r = json.loads(line)
        u = np.array(r["user"]["correct"], dtype=bool)
        s = np.array(r["shuffled"]["correct"], dtype=bool)
        tasks, attrs = np.array(r["tasks"]), np.array(r["attributes"])
        ip = np.isin(tasks, ["li", "si", "it"])
        cat = ip & (attrs == "category")
        threads = r["machine"].rsplit(",", 1)[-1].split()[0]
        lines.append(
            f"| {r['vectors']} | {r['recipe']} | `{json.dumps(r['overrides'])}` | "
            f"{r['align_s']:.0f} ({threads}) | {r['first_loss']:.2f} -> {r['final_loss']:.2f} | "
            f"{acc(u)} | {diff(u, s)} | {acc(u[ip])} | {diff(u[ip], s[ip])} | "
            f"{diff(u[cat], s[cat])} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--vectors", default="sasrec,oracle")
    ap.add_argument("--recipes", default=",".join(RECIPES))
    ap.add_argument("--out", type=Path, default=Path("bench/results/recipe_search.jsonl"))
    ap.add_argument("--work", type=Path, default=Path("runs/recipe-search"))
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--table", action="store_true",
                    help="print the Markdown table of the results in --out and stop")
    args = ap.parse_args()
    if args.table:
        print(table(args.out))
        return

    import numpy as np
    import pyarrow.ipc as ipc
    import torch
    from uqa_align.llm import load_llm
    from uqa_align.train import AlignConfig, align
    from uqa_eval.evaluate import EvalConfig, evaluate

    if args.threads:
        torch.set_num_threads(args.threads)
    llm = load_llm("smollm2")
    questions = args.run / "questions"
    args.work.mkdir(parents=True, exist_ok=True)
    for kind in args.vectors.split(","):
        train_emb, test_emb = vectors_file(args.run, kind, args.work)
        column = "embedding" if kind == "oracle" else "embeddings"
        for name in args.recipes.split(","):
            over = recorded_pool(RECIPES[name])
            align_file = align_questions(args.run, over.get("align_per_task"), args.work)
            config = AlignConfig.from_preset(
                "default", embedding_column=column,
                **{k: v for k, v in over.items() if k != "align_per_task"})
            adapter = args.work / f"{kind}-{name}" / "adapter"
            load0 = os.getloadavg()[0]
            t0 = time.perf_counter()
            summary = align(align_file, train_emb, args.run / "data", adapter, config, llm=llm)
            t1 = time.perf_counter()
            row: dict[str, Any] = {"vectors": kind, "recipe": name, "overrides": over,
                                   "align_s": round(t1 - t0, 1), "steps": summary["steps"],
                                   "first_loss": summary["first_loss"],
                                   "final_loss": summary["final_loss"]}
            for base in (None, "shuffled"):
                pred = adapter.parent / f"pred-{base or 'user'}.arrow"
                s = evaluate(questions / "eval.arrow", test_emb, adapter, args.run / "data",
                             pred, EvalConfig.from_preset("default", baseline=base), llm=llm)
                correct = ipc.open_file(str(pred)).read_all().column("correct").to_pylist()
                row[base or "user"] = {"acc": s["acc"], "answer_s": s["answer_s"],
                                       "correct": [int(c) for c in correct]}
            q = ipc.open_file(str(questions / "eval.arrow")).read_all()
            row["tasks"] = q.column("task").to_pylist()
            row["attributes"] = q.column("attribute").to_pylist()
            row["eval_s"] = round(time.perf_counter() - t1, 1)
            row["load"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
            row["machine"] = f"{platform.machine()} {os.cpu_count()} cpus, torch "\
                             f"{torch.__version__}, {torch.get_num_threads()} threads"
            with args.out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            u, sh = np.array(row["user"]["correct"]), np.array(row["shuffled"]["correct"])
            ip = np.isin(row["tasks"], ["li", "si", "it"])
            print(f"{kind:7s} {name:8s} loss {row['first_loss']:.2f}->{row['final_loss']:.2f} "
                  f"align {row['align_s']:.0f}s eval {row['eval_s']:.0f}s | overall "
                  f"{100 * u.mean():.1f} vs shuffled {100 * sh.mean():.1f} | interest "
                  f"{100 * u[ip].mean():.1f} vs {100 * sh[ip].mean():.1f}", flush=True)


if __name__ == "__main__":
    main()
