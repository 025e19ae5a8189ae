"""Benchmark the encoder zoo: training throughput, peak memory and quality vs most-popular.

Usage::

    python bench/encoders.py                          # default synthetic data, all encoders
    python bench/encoders.py --encoders sasrec,hstu --no-paper
    python bench/encoders.py --data runs/x/data        # an existing data/ folder
    python bench/encoders.py --official DIR            # ours vs the official UQABench modules

For each encoder, in its own process (so peak RSS is its own):

1. quality: ``pretrain`` with the ``--preset`` pre-training preset (default:
   ``default``, the CPU demo's fixed budget of epochs) on the data; records
   HR@10 / NDCG@10 on held-out users, the most-popular baseline on the same
   clicks, training sequences/s (wall and per CPU-second) and peak RSS;
2. throughput at the paper's ~20M size (``--paper-steps`` optimizer steps of
   ``--paper-batch`` sequences of ``--paper-len`` clicks): sequences/s, peak RSS.

Writes JSON (``--json``) and a Markdown table (``--md``). ``--official DIR`` (a checkout
of OpenStellarTeam/UQABench) instead times our training step against the official modules
at the same configurations: ``bench/vs_official.py``, which has the details.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("UQA_PROGRESS", "0")

ENCODERS = ("gru4rec", "sasrec", "mamba4rec", "hstu", "trm_plus")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def quality(encoder: str, data: Path, preset: str, seed: int) -> dict:
    """Pre-train one encoder with a preset; metrics plus speed and memory."""
    from uqa_encoders.pretrain import PretrainConfig, pretrain

    config = PretrainConfig.from_preset(preset, encoder=encoder, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        c0, t0 = _cpu(), time.perf_counter()
        s = pretrain(data, Path(tmp) / "encoder", config)
        cpu, wall = _cpu() - c0, time.perf_counter() - t0
    seqs = s["steps"] * config.batch_size
    return {
        "encoder": encoder, "size": config.size, "preset": preset,
        "backbone_params": s["backbone_params"], "epochs": config.epochs, "steps": s["steps"],
        "train_seconds": s["seconds"], "total_wall_s": round(wall, 1),
        "total_cpu_s": round(cpu, 1),
        "seq_per_s": s["sequences_per_s"], "seq_per_cpu_s": round(seqs / cpu, 1),
        "hr@10": s["hr@10"], "ndcg@10": s["ndcg@10"], "most_popular": s["most_popular"],
        "peak_rss_mib": round(_peak_mib()),
    }


def throughput(encoder: str, data: Path, size: str, batch: int, length: int, steps: int) -> dict:
    """A few optimizer steps at ``size``: training sequences/s and peak memory."""
    from uqa_encoders.batching import training_batch
    from uqa_encoders.pretrain import PretrainConfig, PretrainRecipe

    config = PretrainConfig.from_preset("default", encoder=encoder, size=size, batch_size=batch,
                                        max_len=length, eval_users=0)
    with tempfile.TemporaryDirectory() as tmp:
        r = PretrainRecipe(config, data, Path(tmp) / "encoder")
        r.setup()
        batches = r._epoch_batches(0)
        times, cpus = [], []
        for rows in batches[: steps + 1]:  # the first step warms up and is not timed
            b = training_batch(r.train_seqs, rows, length)
            c0, t0 = _cpu(), time.perf_counter()
            loss = r._loss(b)
            r.optimizer.zero_grad()
            loss.backward()
            r.optimizer.step()
            times.append(time.perf_counter() - t0)
            cpus.append(_cpu() - c0)
    wall, cpu = sum(times[1:]), sum(cpus[1:])
    n = batch * (len(times) - 1)
    return {
        "encoder": encoder, "size": size, "backbone_params": r.model.encoder.get_num_params(),
        "batch": batch, "max_len": length, "steps": len(times) - 1,
        "seq_per_s": round(n / wall, 2), "seq_per_cpu_s": round(n / cpu, 2),
        "peak_rss_mib": round(_peak_mib()),
    }


def _child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed",
                "args": args}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _make_data(preset: str, seed: int, root: Path) -> Path:
    from uqa_data.prepare import PrepareConfig, prepare
    from uqa_data.synth import synthesize

    synthesize(root, preset=preset, seed=seed)
    prepare(root / "raw", root / "data", PrepareConfig.from_preset(preset))
    return root / "data"


def _markdown(res: dict) -> str:
    lines = [
        "# Encoder benchmarks",
        "",
        f"Machine: {res['machine']}. Command: `{res['command']}`.",
        "",
        f"Data: `{res['data']}` ({res['train_users']} training users, {res['eval_users']} "
        f"held-out users evaluated on their last click, {res['items']} items).",
        "",
        f"## Quality after a fixed budget (pre-training preset `{res['preset']}`)",
        "",
        "| encoder | size | backbone params | steps | HR@10 | NDCG@10 | train seq/s (wall) "
        "| seq per CPU-s | total CPU s | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    pop = None
    for q in res["quality"]:
        if "error" in q:
            lines.append(f"| {q['args'][1]} | error: {q['error']} |||||||||")
            continue
        pop = q["most_popular"]
        lines.append(
            f"| {q['encoder']} | {q['size']} | {q['backbone_params']:,} | {q['steps']} | "
            f"{q['hr@10']:.4f} | {q['ndcg@10']:.4f} | {q['seq_per_s']} | {q['seq_per_cpu_s']} | "
            f"{q['total_cpu_s']} | {q['peak_rss_mib']} |"
        )
    if pop:
        lines.append(f"| most popular | - | - | - | {pop['hr@10']:.4f} | {pop['ndcg@10']:.4f} "
                     "| - | - | - | - |")
    if res.get("paper"):
        lines += [
            "",
            "## Throughput at the paper's ~20M size (CPU, fp32)",
            "",
            "| encoder | backbone params | batch x length | steps timed | train seq/s (wall) "
            "| seq per CPU-s | peak RSS MiB |",
            "|---|---:|---|---:|---:|---:|---:|",
        ]
        for t in res["paper"]:
            if "error" in t:
                lines.append(f"| {t['args'][1]} | error: {t['error']} ||||||")
                continue
            lines.append(
                f"| {t['encoder']} | {t['backbone_params']:,} | {t['batch']} x {t['max_len']} | "
                f"{t['steps']} | {t['seq_per_s']} | {t['seq_per_cpu_s']} | {t['peak_rss_mib']} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_quality":
        print(json.dumps(quality(argv[1], Path(argv[2]), argv[3], int(argv[4]))))
        return 0
    if argv and argv[0] == "_throughput":
        print(json.dumps(throughput(argv[1], Path(argv[2]), argv[3], int(argv[4]), int(argv[5]),
                                    int(argv[6]))))
        return 0
    if "--official" in argv:  # the side-by-side against the official modules
        sys.path.insert(0, str(Path(__file__).parent))
        import vs_official

        return vs_official.main(argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, help="an existing data/ folder (default: synthesize)")
    p.add_argument("--data-preset", default="default", help="synthetic data preset")
    p.add_argument("--preset", default="default", help="pre-training preset (fixed budget)")
    p.add_argument("--encoders", default=",".join(ENCODERS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-paper", action="store_true", help="skip the ~20M throughput runs")
    p.add_argument("--no-quality", action="store_true", help="only the ~20M throughput runs")
    p.add_argument("--paper-batch", type=int, default=8)
    p.add_argument("--paper-len", type=int, default=128)
    p.add_argument("--paper-steps", type=int, default=2)
    p.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    p.add_argument("--md", type=Path, default=Path("bench/results/encoders.md"))
    args = p.parse_args(argv)
    encoders = [e for e in args.encoders.split(",") if e]
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or _make_data(args.data_preset, args.seed, Path(tmp))
        import pyarrow.ipc as ipc

        sizes = {n: ipc.open_file(str(data / f"{n}.arrow")).read_all().num_rows
                 for n in ("items", "train", "test")}
        res: dict = {
            "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores (shared), "
                       f"torch threads default, Python {platform.python_version()}",
            "command": "python bench/encoders.py " + " ".join(argv),
            "data": str(args.data) if args.data else f"synthetic preset {args.data_preset}",
            "items": sizes["items"], "train_users": sizes["train"],
            "eval_users": sizes["test"], "preset": args.preset, "quality": [], "paper": [],
        }
        for enc in [] if args.no_quality else encoders:
            q = _child(["_quality", enc, str(data), args.preset, str(args.seed)])
            print(json.dumps(q), flush=True)
            res["quality"].append(q)
        if not args.no_paper:
            for enc in encoders:
                t = _child(["_throughput", enc, str(data), "paper", str(args.paper_batch),
                            str(args.paper_len), str(args.paper_steps)])
                print(json.dumps(t), flush=True)
                res["paper"].append(t)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    args.md.write_text(_markdown(res))
    print(_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
