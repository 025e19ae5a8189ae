"""GRU4Rec's CPU training recurrence against ``nn.GRU``, interleaved in one process.

Both run the same ``gru4rec`` encoder's two GRU layers (the same weights, dropout 0.1
between the layers), forward and backward on a random input, in turns: one pass of each,
then the next, ``--repeats`` rounds, and the median of each side is printed, in float32
and under CPU bf16 autocast (where ``nn.GRU`` runs oneDNN's bf16 kernel and ours takes its
step products in bf16):

    python bench/gru_recurrence.py --repeats 15 [--precisions fp32,bf16] [--products]

``--products`` first times the recurrence's per-step product alone (8 rows against a
``[3072, 1024]`` weight) each way :func:`~uqa_encoders.zoo.gru4rec.step_product` can take it.

Shapes: the official comparison's two (``bench/vs_official.py``: batch 8 x 512 at d512,
hidden 1024; 256 x 50 at d64, hidden 128) and the default preset's (128 x 50, d64).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("UQA_PROGRESS", "0")

SHAPES = ((8, 512, 512, 1024), (256, 50, 64, 128), (128, 50, 64, 64))


def median_ms(f: Callable[[], Any], n: int) -> float:
    for _ in range(10):
        f()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2] * 1e3


def products() -> None:
    """The per-step product of 8 rows with a ``[3072, 1024]`` weight, each way."""
    import torch
    from uqa_encoders.zoo import gru4rec

    torch.manual_seed(0)
    w, b, x = torch.randn(3072, 1024) * 0.03, torch.zeros(3072), torch.randn(8, 1024)
    print("| per-step product, 8 x 1024 @ 1024 x 3072 | ms |")
    print("|---|---:|")
    print(f"| addmm, float32 | {median_ms(lambda: torch.addmm(b, x, w.T), 200):.3f} |")
    if gru4rec._HAS_MKL_PACK:
        packed = torch.ops.mkl._mkl_reorder_linear_weight(w, 8)
        ms = median_ms(lambda: torch.ops.mkl._mkl_linear(x, packed, w, b, 8), 200)
        print(f"| MKL packed, float32 | {ms:.3f} |")
    for dtype in (torch.float32, torch.bfloat16):
        if dtype in gru4rec._ONEDNN_PACK_DTYPES:
            f = gru4rec.step_product(w, 8, dtype)
            ms = median_ms(lambda f=f: f(x, b), 200)
            print(f"| oneDNN packed, {str(dtype)[6:]} | {ms:.3f} |")
    print()


def main() -> None:
    import torch
    from uqa_encoders.model import build_encoder, encoder_config

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--precisions", default="fp32,bf16",
                    help="fp32 and/or bf16 (CPU autocast), comma-separated")
    ap.add_argument("--products", action="store_true", help="time the per-step product too")
    args = ap.parse_args()
    precisions = args.precisions.split(",")
    for p in precisions:
        if p not in ("fp32", "bf16"):
            ap.error(f"--precisions: unknown '{p}'; expected fp32 and/or bf16")
    print(f"load average before: {os.getloadavg()[0]:.2f}, threads {torch.get_num_threads()}")
    if args.products:
        products()
    print("| precision | batch x length | dim | hidden | ours ms | nn.GRU ms | nn.GRU / ours |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for precision in precisions:
        low = precision == "bf16"
        for batch, length, dim, hidden in SHAPES:
            torch.manual_seed(0)
            enc = build_encoder("gru4rec", encoder_config(
                "gru4rec", "small", dim=dim, hidden=hidden, layers=2, dropout=0.1,
                max_len=length)).train()
            x = torch.randn(batch, length, dim, requires_grad=True)

            def cast(low: bool = low) -> contextlib.AbstractContextManager:
                return (torch.autocast("cpu", dtype=torch.bfloat16) if low
                        else contextlib.nullcontext())

            def ours(enc: Any = enc, x: Any = x, low: bool = low) -> None:
                with cast():
                    out = enc._train_layers(x, low=low)
                out.float().sum().backward()

            def reference(enc: Any = enc, x: Any = x) -> None:
                with cast():
                    out = enc.gru(x)[0]
                out.float().sum().backward()

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
            print(f"| {precision} | {batch} x {length} | {dim} | {hidden} | {med['ours']:.1f} | "
                  f"{med['nn.GRU']:.1f} | {med['nn.GRU'] / med['ours']:.2f} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
