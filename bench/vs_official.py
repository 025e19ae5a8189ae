"""Encoder training throughput: ours against the official UQABench modules, one process each.

Usage::

    git clone https://github.com/OpenStellarTeam/UQABench /path/UQABench   # or any checkout
    python bench/encoders.py --official /path/UQABench                      # all configs
    python bench/vs_official.py --official /path/UQABench --configs sasrec-d64 --iters 5

Both sides train the same configuration (dimension, layers, heads, feed-forward width,
vocabulary, batch, length) with AdamW, full-softmax next-item cross-entropy over a tied
item table, on the same random clicks:

* official: ``nn.Embedding`` items -> the official backbone module
  (``uqa_bench/modules/{sasrec,transformer,gru4rec}.py``, imported from the checkout)
  -> logits at every one of the ``B x N`` positions -> cross-entropy ignoring padding,
  as the official ``SeqModelForPretrain`` does (its two 512x512 projections left out on
  both sides so the backbones match);
* ours: ``uqa_encoders`` ``UserModel`` (``id-only`` features) and
  ``pretrain.training_loss``, the function ``uqa pretrain`` trains with, in
  ``--precisions``.

``--official-precisions fp32,bf16`` also times the official side under CPU bf16 autocast
(float32 weights, as ours); each of our rows is then compared with the official row of the
precision it ran in, so a bf16 figure is not set against an fp32 one.

Two length regimes: ``full`` (every sequence is ``N`` clicks long) and ``paper``
(lengths drawn as the synthetic ``full`` preset draws them, mean ~170 clicks, as the
paper's 184k users; the official data loader pads every sequence to ``N``, ours pads a
batch to its longest after bucketing by length as ``uqa pretrain`` batches).

Per (config, regime), one child process builds every side and lets them take steps in
turn (one step of each, then the next), so a drift in the machine's speed reaches all
sides alike; the figure is each side's median of ``--iters`` steps after ``--warmup``.
Taking turns also lets one side's memory traffic slow the other (the official trm_plus
at d512 moved between 1.8 and 2.5 seq/s so); ``--alone`` times each side in a child
process of its own instead, one after the other.
Peak RSS comes from one more process per side that takes two steps of the longest
(``full``) batches alone.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

os.environ.setdefault("UQA_PROGRESS", "0")

# name -> our encoder, batch, length, vocabulary and the shape both sides share (``ours``:
# our config overrides; official_backbone builds the official module from the same keys)
CONFIGS: dict[str, dict[str, Any]] = {
    "sasrec-d512": {"encoder": "sasrec", "batch": 8, "length": 512, "vocab": 20000,
                    "ours": {"dim": 512, "layers": 6, "heads": 8, "ffn_dim": 1536}},
    "trm_plus-d512": {"encoder": "trm_plus", "batch": 8, "length": 512, "vocab": 20000,
                      "ours": {"dim": 512, "layers": 4, "heads": 4, "ffn_dim": 1536}},
    "gru4rec-d512": {"encoder": "gru4rec", "batch": 8, "length": 512, "vocab": 20000,
                     "ours": {"dim": 512, "layers": 2, "hidden": 1024}},
    "sasrec-d64": {"encoder": "sasrec", "batch": 256, "length": 50, "vocab": 2000,
                   "ours": {"dim": 64, "layers": 2, "heads": 2, "ffn_dim": 128}},
    "trm_plus-d64": {"encoder": "trm_plus", "batch": 256, "length": 50, "vocab": 2000,
                     "ours": {"dim": 64, "layers": 2, "heads": 2, "ffn_dim": 192}},
    "gru4rec-d64": {"encoder": "gru4rec", "batch": 256, "length": 50, "vocab": 2000,
                    "ours": {"dim": 64, "layers": 2, "hidden": 128}},
}


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"official_{name}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def official_backbone(root: Path, encoder: str, o: dict[str, Any], length: int) -> Any:
    """The official module at our config ``o`` (same shapes and parameter count)."""
    modules = root / "uqa_bench" / "modules"
    if not modules.is_dir():
        raise SystemExit(f"--official {root}: no uqa_bench/modules/ (expected a checkout of "
                         "OpenStellarTeam/UQABench)")
    if encoder == "sasrec":
        m = _load(modules / "sasrec.py", "sasrec")
        return m.SASRec(length, o["dim"], o["layers"], o["heads"], o["ffn_dim"], 0.1)
    if encoder == "trm_plus":
        m = _load(modules / "transformer.py", "transformer")
        cfg = m.TransformerConfig(num_layers=o["layers"], max_seq_length=length,
                                  hidden_size=o["dim"], num_heads=o["heads"], ffn_dim=o["ffn_dim"])
        return m.TransformerPlus(cfg)
    if encoder == "gru4rec":
        m = _load(modules / "gru4rec.py", "gru4rec")
        return m.GRU4Rec(o["dim"], o["layers"], o["hidden"], 0.1)
    raise SystemExit(f"no official module for {encoder}")


def lengths_for(regime: str, n: int, length: int, seed: int) -> Any:
    """``n`` sequence lengths (input clicks) for a regime, each in ``1..length``."""
    import numpy as np

    if regime == "full":
        return np.full(n, length, dtype=np.int64)
    from uqa_data.presets import synth_config
    from uqa_data.synth import draw_lengths

    cfg = synth_config("full", n_users=n)
    drawn = draw_lengths(cfg, np.random.default_rng(seed))
    return np.clip(drawn - 1, 1, length)  # one click is the last target


def make_batches(regime: str, batch: int, length: int, vocab: int, count: int, seed: int,
                 bucket: bool) -> list[tuple[Any, Any, Any]]:
    """``count`` batches ``(ids [B, L], lengths [B], targets [B, L])``: random clicks.

    ``bucket``: sort pools of 16 batches by length and pad each batch to its longest (as
    ``uqa pretrain`` does); otherwise pad every batch to ``length`` (the official loader).
    """
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    pool = 16 * batch
    lens = lengths_for(regime, max(pool, count * batch), length, seed)
    lens = lens[: count * batch] if not bucket else lens
    if bucket:
        order = np.argsort(lens[:pool], kind="stable")
        lens = lens[:pool][order]
        picks = rng.permutation(pool // batch)[:count]
        groups = [lens[i * batch:(i + 1) * batch] for i in picks]
    else:
        groups = [lens[i * batch:(i + 1) * batch] for i in range(count)]
    out = []
    for g in groups:
        width = int(g.max()) if bucket else length
        clicks = rng.integers(1, vocab, size=(len(g), width + 1))
        valid = np.arange(width + 1)[None, :] < (g[:, None] + 1)
        clicks = np.where(valid, clicks, 0)
        ids = torch.from_numpy(clicks[:, :-1].copy())
        targets = torch.from_numpy(clicks[:, 1:].copy())  # 0 after each sequence's end
        out.append((ids, torch.from_numpy(g.astype(np.int64)), targets))
    return out


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_side(name: str, side: str, precision: str,
               root: Path | None) -> tuple[Any, Any, int, str]:
    """``(loss_of(ids, lengths, targets), optimizer, backbone parameters, precision run)`` of
    one side. The official side in ``bf16`` runs its forward under CPU bf16 autocast with
    float32 weights, as ours does, so the two can be compared in the same precision."""
    import torch
    import torch.nn.functional as F

    c = CONFIGS[name]
    o, n, v = c["ours"], c["length"], c["vocab"]
    if side == "official":
        assert root is not None
        if precision not in ("fp32", "bf16"):
            raise SystemExit(f"official side: precision '{precision}'; expected fp32 or bf16")
        backbone = official_backbone(root, c["encoder"], o, n)
        items = torch.nn.Embedding(v, o["dim"], padding_idx=0)
        with torch.no_grad():  # std 0.02 as the official model's _init_weights (and ours)
            items.weight.normal_(0.0, 0.02)
            items.weight[0].zero_()
        params = list(backbone.parameters()) + list(items.parameters())

        def loss_of(ids: Any, lengths: Any, targets: Any) -> Any:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                h = backbone(items(ids), lengths)
                logits = F.linear(h, items.weight)
            labels = targets.masked_fill(targets == 0, -100)
            return F.cross_entropy(logits.float().view(-1, v), labels.view(-1))

        count = sum(p.numel() for p in backbone.parameters())
        optimizer = torch.optim.AdamW(params, lr=1e-4)  # as the official run_pretrain_ddp.py
    else:
        from uqa_encoders.batching import Batch
        from uqa_encoders.features import FeatureEmbedding
        from uqa_encoders.model import UserModel, build_encoder, encoder_config
        from uqa_encoders.pretrain import (
            PretrainConfig,
            adamw,
            autocast,
            resolve_precision,
            training_loss,
        )

        enc = build_encoder(c["encoder"], encoder_config(c["encoder"], "small", max_len=n,
                                                         dropout=0.1, **o))
        features = FeatureEmbedding(v - 1, (), 1, 1, o["dim"], "id-only")
        model = UserModel(features, enc)
        params = list(model.parameters())
        precision, _, compiled = precision.partition("+")  # "fp32+compile": torch.compile
        # "auto": what `uqa pretrain` picks by default on this CPU at this width
        precision = resolve_precision(precision, torch.device("cpu"), o["dim"])
        cfg = PretrainConfig(encoder=c["encoder"], precision=precision)

        def loss_of(ids: Any, lengths: Any, targets: Any) -> Any:
            with autocast(precision, torch.device("cpu")):
                return training_loss(model, features, Batch(ids, lengths, None, targets), cfg)

        if compiled == "compile":
            loss_of = torch.compile(loss_of)

        count = enc.get_num_params()
        optimizer = adamw(params, lr=1e-4, betas=(0.9, 0.999))  # as `uqa pretrain` builds it
    return loss_of, optimizer, count, precision


def time_sides(name: str, regime: str, root: Path | None, sides: list[tuple[str, str]],
               iters: int, warmup: int, seed: int) -> list[dict[str, Any]]:
    """Every side's median seconds per AdamW step, steps taken in turn (one step of each
    side, then the next), so a drift in the machine's speed reaches every side alike."""
    import torch

    c = CONFIGS[name]
    b, n, v = c["batch"], c["length"], c["vocab"]
    built, batches = [], []
    for side, precision in sides:
        torch.manual_seed(seed)
        built.append(build_side(name, side, precision, root))
        batches.append(make_batches(regime, b, n, v, iters + warmup, seed,
                                    bucket=side == "ours"))
    times: list[list[float]] = [[] for _ in sides]
    first: list[float] = [0.0 for _ in sides]
    for i in range(iters + warmup):
        for j, (loss_of, opt, _, _) in enumerate(built):
            ids, lengths, targets = batches[j][i]
            t0 = time.perf_counter()
            loss = loss_of(ids, lengths, targets)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if i >= warmup:
                times[j].append(time.perf_counter() - t0)
            if i == 0:
                first[j] = float(loss.detach())
    rows = []
    for j, (side, precision) in enumerate(sides):
        median = sorted(times[j])[len(times[j]) // 2]
        rows.append({
            "config": name, "side": side, "regime": regime, "precision": precision,
            "runs_in": built[j][3], "backbone_params": built[j][2], "batch": b, "length": n,
            "vocab": v,
            "iters": len(times[j]), "median_s": round(median, 4),
            "seq_per_s": round(b / median, 3),
            "clicks_per_batch": round(sum(int(x[1].sum()) for x in batches[j]) / (iters + warmup),
                                      1),
            "first_loss": round(first[j], 4), "threads": torch.get_num_threads()})
    return rows


def peak_side(name: str, side: str, regime: str, root: Path | None, precision: str,
              seed: int) -> dict[str, Any]:
    """Peak RSS of two steps of one side alone (run in its own process)."""
    rows = time_sides(name, regime, root, [(side, precision)], 1, 1, seed)
    return {**rows[0], "peak_rss_mib": round(_peak_mib())}


def _child(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if proc.returncode:
        tail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
        return {"error": tail, "args": args}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _time_child(name: str, regime: str, official: Path, specs: list[str], iters: int,
                warmup: int, seed: int) -> dict[str, Any]:
    """The rows of one ``_time`` child per spec (``"side:precision,..."``), joined in
    order; the first error stops it."""
    rows: list[dict[str, Any]] = []
    for spec in specs:
        got = _child(["_time", name, regime, str(official), spec, str(iters), str(warmup),
                      str(seed)])
        if "error" in got:
            return got
        rows += got["rows"]
    return {"rows": rows}


def _median_processes(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row per side from several rounds of ``_time_child``: each side's row from its
    median process (by seq/s), with every process's seq/s in ``seq_per_s_each``."""
    rows = []
    for j in range(len(runs[0]["rows"])):
        per = sorted((g["rows"][j] for g in runs), key=lambda r: r["seq_per_s"])
        rows.append({**per[(len(per) - 1) // 2],
                     "seq_per_s_each": [g["rows"][j]["seq_per_s"] for g in runs]})
    return {"rows": rows}


def _load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _speeds(row: dict[str, Any]) -> str:
    """A side's seq/s, with the range over its processes when there were several."""
    each = row.get("seq_per_s_each", [])
    if len(each) < 2:
        return str(row["seq_per_s"])
    return f"{row['seq_per_s']} ({min(each)}-{max(each)})"


def _precision(row: dict[str, Any]) -> str:
    """A side's precision as asked, with what ``auto`` resolved to."""
    asked, ran = row["precision"], row.get("runs_in", row["precision"])
    return asked if asked.partition("+")[0] == ran else f"{asked} ({ran})"


def markdown(res: dict[str, Any]) -> str:
    lines = [
        "# Encoder training throughput: ours vs the official UQABench modules",
        "",
        f"Machine: {res['machine']}. Command: `{res['command']}`. Official checkout: "
        f"{res['official_commit']}. Load average before {res['load_before']}, after "
        f"{res['load_after']}. Sides timed "
        + (f"each in a process of its own, {res.get('processes', 1)} process(es) a side taking "
           "turns; seq/s of the median process (range over processes)."
           if res.get("alone") else "taking turns in one process."),
        "",
        "| config | lengths | backbone params ours / official | precision ours / official "
        "| ours seq/s | official seq/s | ours / official | peak RSS MiB ours / official "
        "(full lengths) |",
        "|---|---|---|---|---:|---:|---:|---|",
    ]
    for row in res["rows"]:
        o, f = row["ours"], row["official"]
        if "error" in o or "error" in f:
            lines.append(f"| {row['config']} | {row['regime']} | error: "
                         f"{o.get('error') or f.get('error')} ||||||")
            continue
        lines.append(
            f"| {row['config']} (batch {o['batch']} x {o['length']}, V {o['vocab']:,}) | "
            f"{row['regime']} | {o['backbone_params'] / 1e6:.3f}M / "
            f"{f['backbone_params'] / 1e6:.3f}M | {_precision(o)} / {_precision(f)} | "
            f"{_speeds(o)} | "
            f"{_speeds(f)} | **{row['ratio']:.2f}** | {o['peak_rss_mib']} / "
            f"{f['peak_rss_mib']} |")
    return "\n".join(lines) + "\n"


def match_official(ours: dict[str, Any], officials: list[dict[str, Any]]) -> dict[str, Any]:
    """The official row ``ours`` is compared with: the one that runs in the same precision
    (``runs_in``: what ``auto`` resolved to), else the first (fp32)."""
    same = [f for f in officials if f.get("runs_in") == ours.get("runs_in")]
    return same[0] if same else officials[0]


def run(official: Path, configs: list[str], regimes: list[str], precisions: list[str],
        iters: int, warmup: int, seed: int, argv: list[str], alone: bool = False,
        processes: int = 1, official_precisions: tuple[str, ...] = ("fp32",)) -> dict[str, Any]:
    """Time every (config, regime), the official side in each of ``official_precisions``
    and ours in each of ``precisions`` taking steps in turn in one process (``alone``: each
    side in a process of its own, the sides' processes taking turns ``processes`` times,
    each side's median process reported); peak RSS of each side in a process of its own.
    Each of our rows is compared with the official row in the same precision where there is
    one (see :func:`match_official`)."""
    processes = processes if alone else 1  # taking turns: every side in one process
    commit = "unknown"
    if (official / ".git").exists():
        proc = subprocess.run(["git", "-C", str(official), "rev-parse", "HEAD"],
                              capture_output=True, text=True)
        commit = proc.stdout.strip() or commit
    res: dict[str, Any] = {
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}",
        "command": "python bench/vs_official.py " + " ".join(argv),
        "official_commit": commit, "load_before": _load_avg(), "rows": [], "alone": alone,
        "processes": processes,
    }
    sides = ([("official", p) for p in official_precisions]
             + [("ours", p) for p in precisions])
    n_official = len(official_precisions)
    each = [f"{a}:{b}" for a, b in sides]
    specs = each if alone else [",".join(each)]  # a child per side, or one for all
    for name in configs:
        peaks = {}
        for side, precision in sides:  # peak memory: the longest batches, one side alone
            peaks[(side, precision)] = _child(["_peak", name, side, "full", str(official),
                                               precision, str(seed)])
        for regime in regimes:
            runs = [_time_child(name, regime, official, specs, iters, warmup, seed)
                    for _ in range(processes)]
            failed = [g for g in runs if "error" in g]
            got = failed[0] if failed else _median_processes(runs)
            print(json.dumps(got), flush=True)
            if "error" in got:
                res["rows"].append({"config": name, "regime": regime, "ours": got,
                                    "official": got, "ratio": float("nan")})
                continue
            rows = [{**r, "peak_rss_mib": peaks[key].get("peak_rss_mib")}
                    for r, key in zip(got["rows"], sides, strict=True)]
            for o in rows[n_official:]:
                f = match_official(o, rows[:n_official])
                res["rows"].append({"config": name, "regime": regime, "ours": o,
                                    "official": f,
                                    "ratio": round(o["seq_per_s"] / f["seq_per_s"], 3)})
    res["load_after"] = _load_avg()
    return res


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_time":
        name, regime, root, spec, iters, warmup, seed = argv[1:8]
        sides = [tuple(x.split(":")) for x in spec.split(",")]
        rows = time_sides(name, regime, Path(root), sides, int(iters), int(warmup), int(seed))
        print(json.dumps({"rows": rows}))
        return 0
    if argv and argv[0] == "_peak":
        name, side, regime, root, precision, seed = argv[1:7]
        print(json.dumps(peak_side(name, side, regime, Path(root), precision, int(seed))))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--official", type=Path, required=True,
                   help="a checkout of OpenStellarTeam/UQABench (the folder holding uqa_bench/)")
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--regimes", default="full,paper", help="full and/or paper lengths")
    p.add_argument("--precisions", default="fp32",
                   help="our side's precisions: fp32, bf16, auto (uqa pretrain's default); "
                   "+compile (fp32+compile) wraps our training step in torch.compile")
    p.add_argument("--official-precisions", default="fp32",
                   help="the official side's precisions: fp32 and/or bf16 (CPU bf16 autocast, "
                   "float32 weights); each of ours is compared with the same precision's")
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--alone", action="store_true",
                   help="time each side in a process of its own instead of taking turns")
    p.add_argument("--processes", type=int, default=1,
                   help="with --alone: processes per side, taking turns (the median is kept)")
    p.add_argument("--json", type=Path, default=Path("bench/results/vs_official.json"))
    p.add_argument("--md", type=Path, default=Path("bench/results/vs_official.md"))
    args = p.parse_args(argv)
    if args.processes < 1:
        p.error(f"--processes: {args.processes}; expected an integer >= 1")
    official_precisions = tuple(x for x in args.official_precisions.split(",") if x)
    if not official_precisions or set(official_precisions) - {"fp32", "bf16"}:
        p.error(f"--official-precisions: '{args.official_precisions}'; expected fp32 and/or "
                "bf16, comma-separated")
    configs = [c for c in args.configs.split(",") if c]
    for c in configs:
        if c not in CONFIGS:
            p.error(f"--configs: unknown config '{c}'; valid: {', '.join(CONFIGS)}")
    res = run(args.official, configs, [r for r in args.regimes.split(",") if r],
              [x for x in args.precisions.split(",") if x], args.iters, args.warmup,
              args.seed, argv, alone=args.alone, processes=args.processes,
              official_precisions=official_precisions)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=2) + "\n")
    args.md.write_text(markdown(res))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
