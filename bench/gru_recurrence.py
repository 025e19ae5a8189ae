"""GRU4Rec's CPU training recurrence against ``nn.GRU``, interleaved in one process.

Both run the same ``gru4rec`` encoder's two GRU layers (the same weights, dropout 0.1
between the layers), forward and backward on a random input, in turns: one pass of each,
then the next, ``--repeats`` rounds, and the median of each side is printed:

    python bench/gru_recurrence.py --repeats 15

Shapes: the official comparison's two (``bench/vs_official.py``: batch 8 x 512 at d512,
hidden 1024; 256 x 50 at d64, hidden 128) and the default preset's (128 x 50, d64).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

os.environ.setdefault("UQA_PROGRESS", "0")

SHAPES = ((8, 512, 512, 1024), (256, 50, 64, 128), (128, 50, 64, 64))


def main() -> None:
    import torch
    from uqa_encoders.model import build_encoder, encoder_config

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}, threads {torch.get_num_threads()}")
    print("| batch x length | dim | hidden | ours ms | nn.GRU ms | nn.GRU / ours |")
    print("|---|---:|---:|---:|---:|---:|")
    for batch, length, dim, hidden in SHAPES:
        torch.manual_seed(0)
        enc = build_encoder("gru4rec", encoder_config(
            "gru4rec", "small", dim=dim, hidden=hidden, layers=2, dropout=0.1,
            max_len=length)).train()
        x = torch.randn(batch, length, dim, requires_grad=True)

        def ours(enc: Any = enc, x: Any = x) -> None:
            enc._train_layers(x).sum().backward()

        def reference(enc: Any = enc, x: Any = x) -> None:
            enc.gru(x)[0].sum().backward()

        sides = {"ours": ours, "nn.GRU": reference}
        times: dict[str, list[float]] = {k: [] for k in sides}
        for f in sides.values():  # warm-up (and the kernel's compilation)
            f()
        repeats = max(3, args.repeats // 5) if hidden >= 1024 else args.repeats
        for _ in range(repeats):
            for name, f in sides.items():
                t0 = time.perf_counter()
                f()
                times[name].append(time.perf_counter() - t0)
        med = {k: sorted(v)[len(v) // 2] * 1e3 for k, v in times.items()}
        print(f"| {batch} x {length} | {dim} | {hidden} | {med['ours']:.1f} | "
              f"{med['nn.GRU']:.1f} | {med['nn.GRU'] / med['ours']:.2f} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
