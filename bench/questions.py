"""Speed of question generation at paper scale, planted-truth agreement, prompt token counts.

Usage::

    python bench/questions.py [--data runs/bench-full/data] [--repeat 2] [--tokens]
        [--out bench/results/questions.md]

``--data`` defaults to ``runs/bench-full/data``; when it is missing, the
``full`` synthetic preset (184,520 users, ~31.3M clicks) is synthesized and
prepared there first (about 1.5 minutes here, reported separately, not timed
as generation). Measured:

1. every test user x all seven sub-tasks (``eval_per_task`` = number of test
   users, no alignment set): the issue's < 30 s target;
2. the ``full`` question preset as configured (7,192 eval + 7 x 3,000 align);
3. li/si/it agreement with the planted interests (category questions);
4. ``--tokens``: tokens of text20/text50 history renderings and of the
   question + options under the embedded SmolLM2 tokenizer.

Numba kernels are compiled (or loaded from cache) before timing. Writes a
Markdown report to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("UQA_PROGRESS", "0")

import numpy as np
from uqa_data.io import read_table, write_text
from uqa_data.questions import QuestionConfig, generate


def ensure_full_data(data_dir: Path) -> dict:
    """Synthesize + prepare the full preset into ``data_dir`` unless it is there."""
    if (data_dir / "test.arrow").is_file():
        return {"synthesized": False}
    from uqa_data.prepare import PrepareConfig, prepare
    from uqa_data.synth import synthesize

    root = data_dir.parent
    t0 = time.perf_counter()
    synthesize(root, preset="full", seed=0)
    t1 = time.perf_counter()
    prepare(root / "raw", data_dir, PrepareConfig.from_preset("full"))
    t2 = time.perf_counter()
    return {"synthesized": True, "synth_s": t1 - t0, "prepare_s": t2 - t1}


def warm_up() -> None:
    """Compile (or load cached) numba kernels so timings exclude compilation."""
    from uqa_data.questions.kernels import count_matches, values_at, window_top

    o = np.array([0, 3], dtype=np.int64)
    items = np.array([1, 2, 1], dtype=np.int64)
    lookup = np.arange(3, dtype=np.int64)
    u = np.array([0], dtype=np.int64)
    zero, end = np.zeros(1, dtype=np.int64), np.array([3], dtype=np.int64)
    window_top(o, items, lookup, u, zero, end, 3, 2)
    count_matches(o, items, lookup, u, end, np.array([1], dtype=np.int64))
    values_at(o, items, lookup, u, zero)

def timed_generate(data_dir: Path, config: QuestionConfig, repeat: int) -> tuple[list[float], dict]:
    times, summary = [], {}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            summary = generate(data_dir, Path(tmp) / "questions", config)
            times.append(time.perf_counter() - t0)
    return times, summary


def token_counts(data_dir: Path, questions_path: Path, n: int) -> dict:
    from transformers import AutoTokenizer
    from uqa_align.llm import smollm2_dir
    from uqa_data.render import render_history, token_stats

    tok = AutoTokenizer.from_pretrained(smollm2_dir(), local_files_only=True)
    rows = read_table(questions_path).to_pylist()[:n]
    items = read_table(data_dir / "items.arrow")
    t = read_table(data_dir / "test.arrow").select(["user_id", "item_ids"])
    seqs = dict(zip(t.column("user_id").to_pylist(), t.column("item_ids").to_pylist(), strict=True))
    out = {}
    for k in (20, 50):
        texts = [render_history(items, seqs[r["user_id"]][: r["history_len"]], k) for r in rows]
        out[f"text{k}"] = token_stats(tok, texts)
    out["question+options"] = token_stats(
        tok, [r["question"] + "\n" + "\n".join(r["options"]) for r in rows]
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("runs/bench-full/data"))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--tokens", action="store_true")
    parser.add_argument("--token-questions", type=int, default=700)
    parser.add_argument("--out", type=Path, default=Path("bench/results/questions.md"))
    args = parser.parse_args()

    made = ensure_full_data(args.data)
    warm_up()
    n_test = read_table(args.data / "test.arrow", None).num_rows
    n_train = read_table(args.data / "train.arrow", None).num_rows
    n_items = read_table(args.data / "items.arrow", None).num_rows

    every = QuestionConfig.from_preset("full", eval_per_task=n_test, align_per_task=0)
    t_every, s_every = timed_generate(args.data, every, args.repeat)
    full = QuestionConfig.from_preset("full")
    t_full, s_full = timed_generate(args.data, full, args.repeat)

    agreement = {}
    truth = args.data.parent / "raw" / "truth.arrow"
    if truth.is_file():
        from uqa_data.questions.agreement import truth_agreement

        with tempfile.TemporaryDirectory() as tmp:
            cfg = QuestionConfig.from_preset(
                "full",
                tasks=("li", "si", "it"),
                attributes=("category",),
                eval_per_task=n_test,
                align_per_task=0,
            )
            generate(args.data, Path(tmp), cfg)
            agreement = truth_agreement(args.data, truth, Path(tmp) / "eval.arrow")

    tokens = {}
    if args.tokens:
        with tempfile.TemporaryDirectory() as tmp:
            generate(args.data, Path(tmp), QuestionConfig.from_preset("default", align_per_task=0))
            tokens = token_counts(args.data, Path(tmp) / "eval.arrow", args.token_questions)

    lines = [
        "# Question generation (uqa_data.questions)",
        "",
        f"Machine: {platform.machine()} CPU, 2 cores shared with other engineers' jobs "
        f"(load average {os.getloadavg()[0]:.1f} at the end of this run), no GPU.",
        "",
        f"Command: `python bench/questions.py --data {args.data} --repeat {args.repeat}"
        + (" --tokens`" if args.tokens else "`"),
        "",
        f"Data: the `full` synthetic preset (`uqa_data.synth`, seed 0) prepared with the "
        f"`full` prepare preset: {n_items:,} items, {n_train:,} training users, "
        f"{n_test:,} test users."
        + (
            f" Synthesized for this run in {made['synth_s']:.0f} s + prepared in "
            f"{made['prepare_s']:.0f} s (not part of the timings)."
            if made.get("synthesized")
            else ""
        ),
        "",
        "| what | questions | seconds (each run) | questions/s |",
        "|---|---:|---:|---:|",
        f"| all 7 sub-tasks for every test user (eval only) | {s_every['eval']['questions']:,} | "
        f"{', '.join(f'{t:.1f}' for t in t_every)} | "
        f"{s_every['eval']['questions'] / min(t_every):,.0f} |",
        f"| `full` preset (7,192 eval + 7 x 3,000 align) | "
        f"{s_full['eval']['questions'] + s_full['align']['questions']:,} | "
        f"{', '.join(f'{t:.1f}' for t in t_full)} | "
        f"{(s_full['eval']['questions'] + s_full['align']['questions']) / min(t_full):,.0f} |",
        "",
        "Times are wall clock of `generate()`: reading the Arrow files (the training "
        "file too: popularity is counted over both splits), all tasks, writing "
        "`eval.arrow`/`align.arrow` and `generate.json`.",
        "",
        f"Per task (every test user): {json.dumps(s_every['eval']['per_task'])}; "
        f"`full` preset eval: {json.dumps(s_full['eval']['per_task'])}.",
    ]
    if agreement:
        lines += [
            "",
            "## Agreement with the planted interests (category questions, every test user)",
            "",
            "| task | questions | strong planted signal | agree | rate |",
            "|---|---:|---:|---:|---:|",
        ]
        for task, v in agreement.items():
            rate = "n/a" if v["rate"] is None else f"{v['rate']:.3f}"
            lines.append(f"| {task} | {v['questions']} | {v['strong']} | {v['agree']} | {rate} |")
        lines += [
            "",
            "Definitions in `uqa_data/questions/agreement.py`. `li` (the whole ordered "
            "top 3) is rarely strong: the synthetic source plants 2nd and 3rd interests "
            "whose expected share is close to the noise clicks.",
        ]
    if tokens:
        lines += [
            "",
            f"## Prompt tokens (SmolLM2-135M-Instruct tokenizer, {args.token_questions} "
            "`default`-preset eval questions of this data)",
            "",
            "| text | mean | median | min | max |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, st in tokens.items():
            lines.append(
                f"| {name} | {st['mean']:.0f} | {st['median']:.0f} | {st['min']} | {st['max']} |"
            )
    write_text("\n".join(lines) + "\n", args.out)
    print("\n".join(lines))
    print(f"median every-user time: {statistics.median(t_every):.1f}s")


if __name__ == "__main__":
    main()
