"""Pre-training in bf16 autocast against fp32: speed and what the encoder learns.

Each (encoder, size) is pre-trained twice on the same prepared data, same seed and
settings, once per precision, each in a child process of its own (one at a time), with
``uqa_encoders.pretrain.pretrain``, the function ``uqa pretrain`` calls. Reported per
run: training sequences per second (the summary's own figure), the last epoch's mean
loss, HR@10 and NDCG@10 on the held-out users; per pair: the bf16 / fp32 speed ratio and
the HR@10 difference. This is what ``--precision auto`` (the default) is chosen from:
bf16 on a CPU with bf16 instructions from ``BF16_MIN_DIM`` up.

    python bench/pretrain_precision.py --data runs/default-sasrec-mean_linear-s0/data \\
        --models trm_plus:base,trm_plus:3m,trm_plus:13m --epochs 3 \\
        --md bench/results/pretrain_precision.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("UQA_PROGRESS", "0")


def _train(data: str, encoder: str, size: str, precision: str, epochs: int, lr: float,
           seed: int) -> dict[str, Any]:
    from uqa_encoders.model import encoder_config
    from uqa_encoders.pretrain import PretrainConfig, pretrain

    config = PretrainConfig.from_preset("default", encoder=encoder, size=size,
                                        precision=precision, epochs=epochs, lr=lr, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        summary = pretrain(Path(data), Path(tmp) / "enc", config)
    last = summary["history"][-1]
    return {"encoder": encoder, "size": size, "precision": summary["precision"],
            "dim": encoder_config(encoder, size).dim,
            "backbone_params": summary["backbone_params"], "seconds": summary["seconds"],
            "sequences_per_s": summary["sequences_per_s"], "loss": last.get("loss"),
            "hr@10": summary["hr@10"], "ndcg@10": summary["ndcg@10"]}


def run(data: Path, models: list[tuple[str, str]], epochs: int, lr: float,
        seed: int) -> list[dict[str, Any]]:
    rows = []
    for encoder, size in models:
        for precision in ("fp32", "bf16"):
            out = subprocess.run(
                [sys.executable, __file__, "_train", str(data), encoder, size, precision,
                 str(epochs), str(lr), str(seed)],
                check=True, capture_output=True, text=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| encoder | size (dim) | backbone params | precision | seq/s | bf16 / fp32 "
             "| last epoch's loss | HR@10 | NDCG@10 | HR@10 bf16 - fp32 |",
             "|---|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    fp32 = {(r["encoder"], r["size"]): r for r in rows if r["precision"] == "fp32"}
    for r in rows:
        base = fp32.get((r["encoder"], r["size"]))
        ratio = diff = ""
        if r["precision"] == "bf16" and base:
            ratio = f"**{r['sequences_per_s'] / base['sequences_per_s']:.2f}**"
            diff = f"{r['hr@10'] - base['hr@10']:+.4f}"
        lines.append(
            f"| {r['encoder']} | {r['size']} ({r['dim']}) | {r['backbone_params'] / 1e6:.2f}M "
            f"| {r['precision']} | {r['sequences_per_s']:.1f} | {ratio} | {r['loss']:.4f} "
            f"| {r['hr@10']:.4f} | {r['ndcg@10']:.4f} | {diff} |")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_train":
        data, encoder, size, precision, epochs, lr, seed = sys.argv[2:9]
        print(json.dumps(_train(data, encoder, size, precision, int(epochs), float(lr),
                                int(seed))))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, required=True, help="a run's prepared data/ folder")
    p.add_argument("--models", default="trm_plus:base,trm_plus:3m,trm_plus:13m",
                   help="encoder:size pairs, comma-separated")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--md", type=Path, default=None)
    args = p.parse_args()
    models = [tuple(m.split(":", 1)) for m in args.models.split(",") if m]
    rows = run(args.data, models, args.epochs, args.lr, args.seed)  # type: ignore[arg-type]
    text = (f"`python {' '.join(sys.argv)}` ({platform.processor() or platform.machine()}, "
            f"torch threads {os.environ.get('OMP_NUM_THREADS', 'default')}, load "
            f"{os.getloadavg()[0]:.2f} at the end)\n\n{table(rows)}\n")
    print(text)
    if args.md:
        args.md.write_text(text)


if __name__ == "__main__":
    main()
