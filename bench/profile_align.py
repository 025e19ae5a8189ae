"""Does a profile caption per training user teach the adapter the names a question asks for?

An experiment, not a product path. Beside the run's alignment questions it adds one row
per training user: the prompt asks for the user's favourite brands and shops
with no options shown, and the target is a caption computed from the user's own clicks
("Brands: X, Y, Z. Shops: P, Q, R. Lately: X, P.": categories, which the
questions teach well enough, are left out to keep the caption short). Each brand or shop then
appears as a target in the captions of every training user who favours it (tens of
users) instead of in the one or two alignment questions that name it. The LLM stays
frozen; only the adapter trains. Evaluation is the run's own 700 questions, with the
user's vectors and shuffled across users; ``acc_pmi`` against the run's ``none``
predictions (``baselines/none``). One JSON line per recipe and vectors in ``--out``.

``--vectors`` takes ``sasrec``, ``random`` (its untrained twin), ``oracle`` (the one-hot
planted truth) and ``oracle-names`` (the same truth written in the LLM's token
embeddings, :func:`names_oracle`); the recipes (:data:`RECIPES`) also hold the
experiments that followed the captions; each names its pooling or was recorded with the
mean (:func:`recipe_search.recorded_pool`).

    python bench/profile_align.py --run runs/default-sasrec-mean_linear-s0 \\
        --vectors oracle --recipes ref,prof --out bench/results/profile_align.jsonl
    python bench/profile_align.py --out bench/results/profile_align.jsonl --table
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("UQA_PROGRESS", "0")

PROFILE_QUESTIONS = {("brand", "shop"): "Which brands and shops does the user like?",
                     ("cate", "brand", "shop"): "What does the user like?"}

RECIPES: dict[str, dict[str, Any]] = {
    "ref": {"epochs": 2},  # the default preset's recipe: two passes over the questions
    # one pass over the questions and one caption per user: brands and shops only, or
    # categories too
    "prof": {"epochs": 1, "profiles": ("brand", "shop")},
    "prof-full": {"epochs": 1, "profiles": ("cate", "brand", "shop")},
    "prof2-full": {"epochs": 2, "profiles": ("cate", "brand", "shop")},
    # no captions: the default's two passes with four soft tokens instead of one (one pass
    # each gave +7.7 against +6.3 over shuffled in the recipe search, within noise)
    "t4": {"epochs": 2, "adapter_options": {"num_tokens": 4}},
    # the default's two passes with the adapter's input whitened (decorrelated, every
    # principal direction to unit spread) instead of standardised per dimension
    "white": {"epochs": 2, "adapter_options": {"scale": "whiten"}},
    # the user context before the question instead of after the options: every prompt
    # token then sees the soft token, so nothing is cached and a question-visit costs
    # about twice the default's (210 against 105 ms): one pass takes what the default's
    # two do
    "before-e05": {"epochs": 0.5, "position": "before"},
    "before-e1": {"epochs": 1, "position": "before"},
    # the default's two passes with 30% of the adapter's pooled input dropped in training
    # (the oracle's 1,962-wide projection can fit each alignment user's vector outright)
    "drop3": {"epochs": 2, "adapter_options": {"dropout": 0.3}},
    # as many question-visits as the default's two passes, each question seen once: 1,200
    # alignment questions per sub-task (8,400) generated from the run's data, one pass
    "a1200-e1": {"epochs": 1, "align_per_task": 1200},
    # the same at about the default's alignment time: 7,000 questions, one pass
    "a1000-e1": {"epochs": 1, "align_per_task": 1000},
    # the default's two passes reading the state after the last click instead of the mean:
    # a linear probe reads the last 10 clicks' category from SASRec's last state at 0.850
    # and from its untrained twin's at 0.747, where the untrained mean leads (0.887
    # against 0.790; bench/embedding_probe.py, seed 0)
    "last": {"epochs": 2, "adapter_options": {"pool": "last"}},
    # the default's two passes, the adapter's weights replaced at the end by their moving
    # average over about the last 200 steps: the oracle's reading of brands and shops
    # moves by up to 9 points between runs of one seed, a sign of the trajectory's noise
    "ema": {"epochs": 2, "ema": 0.995},
    # the default's two passes with a GELU hidden layer of 1,024 before the projection: on
    # its own alignment questions the linear oracle adapter answers interest perception at
    # 52% (new users 38%, acc; seed 1): it underfits, and an ordered list or a path is not
    # a linear function of the interest weights
    "mlp": {"epochs": 2, "adapter_options": {"hidden": 1024}},
}


# the run of the rows written before each row named its run
SEED0_RUN = "runs/default-sasrec-mean_linear-s0"
INTEREST = ["li", "si", "it"]  # interest perception's sub-tasks

LABELS = {"cate": "Categories", "brand": "Brands", "shop": "Shops"}


def captions(run: Path, users: set[int], kinds: tuple[str, ...], *, top: int = 3,
             recent: int = 10) -> dict[int, tuple[str, int]]:
    """``user -> (caption, history_len)`` from each user's training clicks."""
    import pyarrow.ipc as ipc

    items = ipc.open_file(str(run / "data" / "items.arrow")).read_all()
    names = {k: dict(zip(items.column("item_id").to_pylist(),
                         items.column(f"{k}_name").to_pylist(), strict=True))
             for k in ("cate", "brand", "shop")}

    def fav(kind: str, clicks: list[int], k: int) -> list[str]:
        return [v for v, _ in collections.Counter(names[kind][i] for i in clicks).most_common(k)]

    train = ipc.open_file(str(run / "data" / "train.arrow")).read_all()
    out = {}
    for user, seq, n in zip(train.column("user_id").to_pylist(),
                            train.column("item_ids").to_pylist(),
                            train.column("train_len").to_pylist(), strict=True):
        if user not in users:
            continue
        seen = seq[:n]
        parts = [f"{LABELS[k]}: {', '.join(fav(k, seen, top))}." for k in kinds]
        parts.append("Lately: " + ", ".join(fav(k, seen[-recent:], 1)[0] for k in kinds) + ".")
        out[user] = (" ".join(parts), n)
    return out


def with_profiles(run: Path, work: Path, kinds: tuple[str, ...]) -> Path:
    """The run's alignment questions plus one profile row per training user."""
    import pyarrow as pa
    import pyarrow.ipc as ipc
    from uqa_data.io import write_table

    path = work / f"align-profiles-{'-'.join(kinds)}.arrow"
    if path.is_file():
        return path
    q = ipc.open_file(str(run / "questions" / "align.arrow")).read_all()
    caps = captions(run, set(q.column("user_id").to_pylist()), kinds)
    cols = ["question_id", "user_id", "split", "lang", "question", "options", "answer",
            "history_len"]
    extra = pa.table({
        "question_id": [f"profile-{u}" for u in caps],
        "user_id": pa.array(list(caps), pa.int64()),
        "split": ["train"] * len(caps), "lang": ["en"] * len(caps),
        "question": [PROFILE_QUESTIONS[kinds]] * len(caps),
        "options": [[c, "-"] for c, _ in caps.values()],
        "answer": ["A"] * len(caps),
        "history_len": pa.array([n for _, n in caps.values()], pa.int64()),
    })
    both = pa.concat_tables([q.select(cols), extra.cast(q.select(cols).schema)])
    work.mkdir(parents=True, exist_ok=True)
    write_table(both, path)
    return path


def hide_profile_options() -> None:
    """Profile rows show no options (the caption is the target, not something to copy)."""
    from uqa_align.prompt import PromptBuilder

    plain = PromptBuilder.user_text

    def user_text(self: Any, question: str, options: Any, context: str | None) -> str:
        shown = [] if question in PROFILE_QUESTIONS.values() else options
        return plain(self, question, shown, context)

    PromptBuilder.user_text = user_text


def names_oracle(run: Path, work: Path, llm: Any) -> Path:
    """The oracle's planted truth written in the LLM's own token embeddings, each
    kind apart (``bench/oracle_text.py --by-kind``): the adapter's projection is then
    one map per block and kind shared by every name, where the one-hot oracle has a
    column per name learnt from the few questions that name it."""
    from oracle_text import token_space, write_vectors

    path = work / "oracle-names.arrow"
    if not path.is_file():
        work.mkdir(parents=True, exist_ok=True)
        write_vectors(*token_space(run / "raw", llm, by_kind=True), path)
    return path


def emulate_bf16_matmuls(model: Any) -> int:
    """Round every linear layer of ``model`` (float32) the way a bf16 GEMM with float32
    accumulation does: inputs, weights and outputs to bf16, the product accumulated in
    float32; the residual stream, norms, attention and softmax stay float32, and so do
    the gradients between layers (rounded to bf16 only where a bf16 layer would round
    them). Numbers of "bf16 matrix products, float32 elsewhere" on a CPU without bf16
    instructions, at float32 speed. Returns how many layers it changed."""
    import torch
    import torch.nn.functional as F

    def rnd(t: torch.Tensor) -> torch.Tensor:
        return t.to(torch.bfloat16).to(torch.float32)

    count = 0
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            weight = rnd(module.weight.detach())
            bias = None if module.bias is None else rnd(module.bias.detach())

            def forward(x: torch.Tensor, w: torch.Tensor = weight,
                        b: torch.Tensor | None = bias) -> torch.Tensor:
                return rnd(F.linear(rnd(x), w, b))

            module.forward = forward
            count += 1
    return count


def records(path: Path) -> list[dict[str, Any]]:
    """The rows of ``path``, each ``run`` its directory's name."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [{**r, "run": Path(r.get("run", SEED0_RUN)).name} for r in rows]


def table(path: Path) -> str:
    """Markdown: each recipe's acc and acc_pmi on interest perception and overall, minus
    its shuffled control and minus ``none``, with 95% paired-bootstrap intervals."""
    import numpy as np
    from recipe_search import diff

    lines = ["| run | vectors | recipe | align s | loss first -> last | metric | IP "
             "| IP - shuffled | IP - none | IP brand+shop - shuffled | overall "
             "| overall - shuffled |",
             "|---|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in records(path):
        tasks, attrs = np.array(r["tasks"]), np.array(r["attributes"])
        ip = np.isin(tasks, INTEREST)
        bs = ip & np.isin(attrs, ["brand", "shop"])
        none = np.array(r["none"], dtype=bool)
        for metric in ("acc", "acc_pmi"):
            u = np.array(r["user"][metric], dtype=bool)
            s = np.array(r["shuffled"][metric], dtype=bool)
            lines.append(
                f"| {r['run']} | {r['vectors']} | {r['recipe']} | "
                f"{r['align_s']:.0f} | "
                f"{r['first_loss']:.2f} -> {r['final_loss']:.2f} | {metric} | "
                f"{100 * u[ip].mean():.1f} | {diff(u[ip], s[ip])} | {diff(u[ip], none[ip])} | "
                f"{diff(u[bs], s[bs])} | {100 * u.mean():.1f} | {diff(u, s)} |")
    return "\n".join(lines)


def _cells(pairs: list[tuple[Any, Any]]) -> list[str]:
    """For each run's ``(first, second)`` verdicts on the same questions, the paired
    difference in points; then their random-effects pool, marked ``*`` when signal."""
    import numpy as np
    from recipe_search import marked
    from uqa_eval.significance import paired_difference, pooled_difference

    per_run = [paired_difference(np.asarray(x, dtype=bool), np.asarray(y, dtype=bool))
               for x, y in pairs]
    return [", ".join(f"{100 * d['diff']:+.1f}" for d in per_run),
            marked(pooled_difference(per_run))]


def pooled(path: Path) -> str:
    """Markdown: for each vectors and recipe run on several seeds (runs), each difference
    of :func:`table` on interest perception pooled over the runs (random-effects mean,
    ``uqa_eval.significance.pooled_difference``, as ``uqa study --seeds`` does)."""
    import numpy as np

    groups: dict[tuple[str, str], list[dict[str, Any]]] = collections.defaultdict(list)
    for r in records(path):
        groups[r["vectors"], r["recipe"]].append(r)
    lines = ["| vectors | recipe | runs | metric | IP - shuffled, per run | over the runs "
             "| IP - none, per run | over the runs |", "|---|---|---|---|---|---:|---|---:|"]
    for (vectors, recipe), rows in groups.items():
        runs = [r["run"] for r in rows]
        if len(set(runs)) < 2:
            continue
        for metric in ("acc", "acc_pmi"):
            cells = []
            for control in ("shuffled", "none"):
                pairs = []
                for r in rows:
                    ip = np.isin(r["tasks"], INTEREST)
                    c = r[control][metric] if control == "shuffled" else r["none"]
                    pairs.append((np.array(r["user"][metric])[ip], np.array(c)[ip]))
                cells += _cells(pairs)
            lines.append(f"| {vectors} | {recipe} | {', '.join(runs)} | {metric} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines)


def against_ref(path: Path) -> str:
    """Markdown: each recipe minus ``ref`` (the default recipe) on interest perception,
    paired on the same questions of each run both were measured on, pooled over the runs."""
    import numpy as np

    rows = {(r["vectors"], r["recipe"], r["run"]): r for r in records(path)}
    lines = ["| vectors | recipe - ref | runs | metric | per run | over the runs |",
             "|---|---|---|---|---|---:|"]
    for vectors, recipe in dict.fromkeys((v, rc) for v, rc, _ in rows if rc != "ref"):
        runs = [run for v, rc, run in rows if (v, rc) == (vectors, recipe)
                and (vectors, "ref", run) in rows]
        if not runs:
            continue
        for metric in ("acc", "acc_pmi"):
            pairs = []
            for run in runs:
                a, b = rows[vectors, recipe, run], rows[vectors, "ref", run]
                ip = np.isin(a["tasks"], INTEREST)
                pairs.append((np.array(a["user"][metric])[ip], np.array(b["user"][metric])[ip]))
            lines.append(f"| {vectors} | {recipe} | {', '.join(runs)} | {metric} | "
                         + " | ".join(_cells(pairs)) + " |")
    return "\n".join(lines)


PAIRS = [("sasrec", "random"), ("oracle", "sasrec"), ("oracle-names", "oracle")]
"""Vectors compared with each other under one recipe: SASRec against its untrained twin
(what pre-training adds), the oracle against SASRec, the oracle written in the LLM's
token embeddings against the one-hot oracle."""


def between_vectors(path: Path) -> str:
    """Markdown: under each recipe, one vectors minus another (:data:`PAIRS`) on the same
    questions of each run both ran on, interest perception and overall, pooled over the
    runs."""
    import numpy as np

    rows = {(r["vectors"], r["recipe"], r["run"]): r for r in records(path)}
    lines = ["| recipe | vectors | runs | metric | IP, per run | IP, over the runs "
             "| overall, per run | overall, over the runs |", "|---|---|---|---|---|---:|---|---:|"]
    for recipe in dict.fromkeys(rc for _, rc, _ in rows):
        for a, b in PAIRS:
            runs = [run for v, rc, run in rows if (v, rc) == (a, recipe)
                    and (b, recipe, run) in rows]
            if not runs:
                continue
            for metric in ("acc", "acc_pmi"):
                cells = []
                for subset in ("ip", "all"):
                    pairs = []
                    for run in runs:
                        x, y = rows[a, recipe, run], rows[b, recipe, run]
                        keep = (np.isin(x["tasks"], INTEREST) if subset == "ip"
                                else np.ones(len(x["tasks"]), dtype=bool))
                        pairs.append((np.array(x["user"][metric])[keep],
                                      np.array(y["user"][metric])[keep]))
                    cells += _cells(pairs)
                lines.append(f"| {recipe} | {a} - {b} | {', '.join(runs)} | {metric} | "
                             + " | ".join(cells) + " |")
    return "\n".join(lines)


def seed_of(run: str) -> int:
    """The seed a run directory's name ends with (``o1``, ``t4-s1``, ``io-s2`` ...)."""
    import re

    return int(re.search(r"(\d+)\D*$", run).group(1))


def between_files(path: Path, other: Path, labels: tuple[str, str]) -> str:
    """Markdown: the same vectors and recipe measured in two files (e.g. fp32 here, bf16
    on another machine) on the same seed's questions, interest perception under
    ``acc_pmi``: each side over its own shuffled control and its own ``none``, and the
    first minus the second paired question by question; pooled over the seeds. A seed
    whose questions differ (tasks or attributes in another order) is left out."""
    import numpy as np
    from uqa_eval.significance import paired_difference, pooled_difference

    def keyed(p: Path) -> dict[tuple[str, str, int], dict[str, Any]]:
        return {(r["vectors"], r["recipe"], seed_of(r["run"])): r for r in records(p)}

    a_rows, b_rows = keyed(path), keyed(other)
    a_lab, b_lab = labels
    head = ["seed", f"IP {a_lab}", f"IP {b_lab}", f"{a_lab} - {b_lab}",
            f"{a_lab} - own shuffled", f"{b_lab} - own shuffled", f"{a_lab} - none",
            f"{b_lab} - none", "`none` verdicts agreeing"]
    out = []
    for vectors, recipe in dict.fromkeys((v, rc) for v, rc, _ in a_rows):
        seeds = [s for v, rc, s in a_rows if (v, rc) == (vectors, recipe)
                 and (v, rc, s) in b_rows]
        lines = [f"{vectors}, recipe {recipe}:", "", "| " + " | ".join(head) + " |",
                 "|---:|" + "---:|" * (len(head) - 1)]
        cols: list[list[dict[str, Any]]] = [[] for _ in range(5)]
        for s in sorted(seeds):
            a, b = a_rows[vectors, recipe, s], b_rows[vectors, recipe, s]
            if a["tasks"] != b["tasks"] or a["attributes"] != b["attributes"]:
                lines.append(f"| {s} | questions differ: left out |" + " |" * (len(head) - 2))
                continue
            ip = np.isin(a["tasks"], INTEREST)

            def v(r: dict[str, Any], which: str, ip: Any = ip) -> Any:
                x = r["none"] if which == "none" else r[which]["acc_pmi"]
                return np.asarray(x, dtype=bool)[ip]

            ds = [paired_difference(v(a, "user"), v(b, "user")),
                  paired_difference(v(a, "user"), v(a, "shuffled")),
                  paired_difference(v(b, "user"), v(b, "shuffled")),
                  paired_difference(v(a, "user"), v(a, "none")),
                  paired_difference(v(b, "user"), v(b, "none"))]
            for col, d in zip(cols, ds, strict=True):
                col.append(d)
            agree = float(np.mean(np.asarray(a["none"]) == np.asarray(b["none"])))
            lines.append(f"| {s} | {100 * v(a, 'user').mean():.1f} | "
                         f"{100 * v(b, 'user').mean():.1f} | "
                         + " | ".join(_marked(d) for d in ds) + f" | {100 * agree:.1f}% |")
        if len(cols[0]) > 1:
            lines.append("| pooled | | | " + " | ".join(
                f"**{_marked(pooled_difference(c))}**" for c in cols) + " | |")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def _marked(d: dict[str, Any]) -> str:
    from recipe_search import marked

    return marked(d)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path)
    ap.add_argument("--vectors", default="oracle")
    ap.add_argument("--recipes", default="ref,prof")
    ap.add_argument("--out", type=Path, default=Path("bench/results/profile_align.jsonl"))
    ap.add_argument("--work", type=Path, default=None,
                    help="where vectors, adapters and predictions go (default: "
                    "runs/profile-align/<the run's name>, one folder per run)")
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--bf16-matmuls", action="store_true",
                    help="round every linear layer's inputs, weights and outputs to bf16 "
                    "(emulate_bf16_matmuls); the LLM otherwise in fp32")
    ap.add_argument("--against", type=Path, metavar="JSONL",
                    help="with --table: pair --out's rows with this file's, seed by seed")
    ap.add_argument("--labels", default="fp32,bf16",
                    help="with --against: what tells --out's rows from its rows")
    args = ap.parse_args()
    if args.table and args.against:
        print(between_files(args.out, args.against, tuple(args.labels.split(",", 1))))
        return
    if args.table:
        print("\n\n".join((table(args.out), pooled(args.out), against_ref(args.out),
                           between_vectors(args.out))))
        return
    if args.run is None:
        ap.error("--run is required unless --table")
    if args.work is None:  # vectors and questions are the run's own: never share a folder
        args.work = Path("runs/profile-align") / args.run.resolve().name

    import numpy as np
    import pyarrow.ipc as ipc
    import torch
    from recipe_search import align_questions, recorded_pool, vectors_file
    from uqa_align.llm import load_llm
    from uqa_align.train import AlignConfig, align
    from uqa_eval.evaluate import EvalConfig, evaluate
    from uqa_eval.report.aggregate import pmi_verdicts

    hide_profile_options()
    llm = load_llm("smollm2")
    numerics = "as --set align.precision resolves"
    if args.bf16_matmuls:
        from uqa_align.llm import set_precision

        set_precision(llm, "fp32")
        layers = emulate_bf16_matmuls(llm.model)
        numerics = f"bf16 matrix products emulated in {layers} linear layers, fp32 elsewhere"
        print(numerics, flush=True)
    questions = args.run / "questions" / "eval.arrow"
    q = ipc.open_file(str(questions)).read_all()
    answers = q.column("answer").to_pylist()
    none_pred = args.run / "baselines" / "none" / "predictions" / "eval.arrow"
    none = ipc.open_file(str(none_pred)).read_all().column("correct").to_pylist()
    for kind in args.vectors.split(","):
        train_emb, test_emb = (2 * (names_oracle(args.run, args.work, llm),)
                               if kind == "oracle-names" else vectors_file(args.run, kind,
                                                                           args.work))
        column = "embedding" if kind.startswith("oracle") else "embeddings"
        for name in args.recipes.split(","):
            over = recorded_pool(RECIPES[name])
            profiles = over.pop("profiles", 0)
            align_file = (with_profiles(args.run, args.work, tuple(profiles)) if profiles
                          else align_questions(args.run, over.pop("align_per_task", None),
                                               args.work))
            config = AlignConfig.from_preset("default", embedding_column=column, **over)
            adapter = args.work / f"{kind}-{name}" / "adapter"
            load0 = os.getloadavg()[0]
            t0 = time.perf_counter()
            summary = align(align_file, train_emb, args.run / "data", adapter, config, llm=llm)
            t1 = time.perf_counter()
            row: dict[str, Any] = {"run": str(args.run), "vectors": kind, "recipe": name,
                                   "overrides": RECIPES[name],
                                   "align_s": round(t1 - t0, 1), "steps": summary["steps"],
                                   "first_loss": summary["first_loss"],
                                   "final_loss": summary["final_loss"], "none": none}
            for base in (None, "shuffled"):
                pred = adapter.parent / f"pred-{base or 'user'}.arrow"
                evaluate(questions, test_emb, adapter, args.run / "data", pred,
                         EvalConfig.from_preset("default", baseline=base), llm=llm)
                p = ipc.open_file(str(pred)).read_all()
                rows = np.arange(p.num_rows)
                correct = np.array(p.column("correct").to_pylist(), dtype=bool)
                pmi = pmi_verdicts(p, none_pred, rows, answers, correct)
                row[base or "user"] = {"acc": correct.astype(int).tolist(),
                                       "acc_pmi": pmi.astype(int).tolist()}
            row["tasks"] = q.column("task").to_pylist()
            row["attributes"] = q.column("attribute").to_pylist()
            row["eval_s"] = round(time.perf_counter() - t1, 1)
            row["numerics"] = numerics
            row["precision"] = json.loads((adapter / "config.json").read_text()).get(
                "precision")
            row["load"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
            row["machine"] = (f"{platform.machine()} {os.cpu_count()} cpus, torch "
                              f"{torch.__version__}, {torch.get_num_threads()} threads")
            with args.out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            ip = np.isin(row["tasks"], INTEREST)
            u = np.array(row["user"]["acc_pmi"])
            s = np.array(row["shuffled"]["acc_pmi"])
            print(f"{kind} {name}: align {row['align_s']:.0f} s, loss {row['first_loss']:.2f}"
                  f" -> {row['final_loss']:.2f}; acc_pmi IP {100 * u[ip].mean():.1f} vs "
                  f"shuffled {100 * s[ip].mean():.1f}; overall {100 * u.mean():.1f} vs "
                  f"{100 * s.mean():.1f}", flush=True)


if __name__ == "__main__":
    main()
