"""Speed of the example plugin's LRU encoder: parallel scan vs the sequential reference,
and a training step (forward + backward) of ``lru`` vs ``sasrec`` at the same width.

Usage::

    OMP_NUM_THREADS=1 python bench/plugins_lru.py [--batch 128] [--repeat 3]
        [--out bench/results/plugins.md]

Imports the plugin from ``plugins/uqa-plugin-example/src`` (no install needed).
Reports the best of ``--repeat`` runs per row and writes Markdown to ``--out``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins" / "uqa-plugin-example" / "src"))


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/plugins.md")
    args = parser.parse_args()

    import torch
    from uqa_encoders.zoo.sasrec import SASRec, SASRecConfig
    from uqa_plugin_example.lru import LRU, LRUConfig
    from uqa_plugin_example.scan import linear_scan, sequential_scan

    torch.manual_seed(0)
    n, b = 64, args.batch
    log_lam = torch.complex(-0.1 * torch.rand(n), 6.0 * torch.rand(n))
    scan_rows = []
    for length in (100, 512):
        x = torch.randn(b, length, n, dtype=torch.complex64)
        err = (linear_scan(log_lam, x) - sequential_scan(log_lam, x)).abs().max().item()
        scan_rows.append((length, best_ms(lambda x=x: linear_scan(log_lam, x, 64), args.repeat),
                          best_ms(lambda x=x: sequential_scan(log_lam, x), args.repeat), err))
    step_rows = []
    models = {
        "lru": LRU(LRUConfig(dim=64, layers=2, max_len=512)),
        "sasrec": SASRec(SASRecConfig(dim=64, layers=2, heads=2, ffn_dim=128, max_len=512)),
    }
    for name, model in models.items():
        for length in (100, 512):
            x = torch.randn(b, length, 64)
            lengths = torch.full((b,), length)

            def step(model=model, x=x, lengths=lengths) -> None:
                model(x, lengths).sum().backward()

            step_rows.append((name, length, best_ms(step, args.repeat)))

    lines = [
        "# Example plugin: LRU encoder speed",
        "",
        f"Command: `OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')} "
        f"python bench/plugins_lru.py --batch {b} --repeat {args.repeat}`",
        f"Machine: {platform.machine()} CPU, {os.cpu_count()} cores (shared with other "
        f"sessions while measured), torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch thread(s). Best of {args.repeat}.",
        "",
        f"## Scan `h_t = lam * h_(t-1) + b_t` (batch {b}, N = {n} complex, forward only)",
        "",
        "| length | parallel chunked scan (chunk 64) ms | sequential loop ms | max abs diff |",
        "|---:|---:|---:|---:|",
        *[f"| {L} | {p:.1f} | {s:.1f} | {e:.1e} |" for L, p, s, e in scan_rows],
        "",
        f"## Training step, forward + backward (batch {b}, dim 64, 2 layers)",
        "",
        "| encoder | length | ms |",
        "|---|---:|---:|",
        *[f"| {name} | {L} | {ms:.0f} |" for name, L, ms in step_rows],
        "",
        "On a CPU the sequential loop is faster: each step touches a cache-resident",
        "`[batch, N]` slice, while the parallel scan makes several passes over the",
        "whole `[batch, L, N]` tensor and spends `chunk` times more arithmetic inside",
        "chunks. The parallel form is there for accelerators (no per-step kernel",
        "launches; the intra-chunk product is one real batched matmul). A full LRU",
        "training step is within 2x of SASRec at the same width.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
