"""Benchmark ``uqa data prepare``: the numba path against a pandas path, same input, one process.

Usage::

    python bench/prepare.py --preset full              # synthesize, then both paths
    python bench/prepare.py --preset full --fraction 0.25
    python bench/prepare.py --raw runs/x/raw --preset full   # an existing raw/ folder

Steps: synthesize the preset's raw log (timed; ``--fraction`` scales users and
items), warm the numba kernels on a tiny log (JIT compile is reported apart), run
:func:`uqa_data.prepare.prepare` (numba, reading and writing included), then
:func:`uqa_data.prepare.pandas_ref.prepare_pandas` on the same input; check that
the three Arrow files are byte-identical and the filter counts equal; print the
times, the ratio and the peak RSS (the numba path runs first, so the peak after
it is its own; the peak after pandas is the process maximum).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("UQA_PROGRESS", "0")


def peak_rss_gib() -> float:
    """Peak resident set size of this process so far, GiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="default", help="tiny, small, default or full")
    parser.add_argument("--fraction", type=float, default=1.0,
                        help="scale the preset's users and items by this factor")
    parser.add_argument("--raw", type=Path, help="use this raw/ folder instead of synthesizing")
    parser.add_argument("--out", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--skip-pandas", action="store_true", help="time the numba path only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = parser.parse_args(argv)

    from uqa_data.prepare import PrepareConfig, prepare
    from uqa_data.presets import synth_config
    from uqa_data.synth import synthesize

    work = args.out or Path(tempfile.mkdtemp(prefix="uqa-bench-prepare-"))
    results: dict[str, object] = {
        "preset": args.preset, "fraction": args.fraction, "machine": platform.machine(),
        "cpus": os.cpu_count(), "load_avg_start": os.getloadavg()[0],
    }

    t = time.perf_counter()
    synthesize(work / "warm", preset="tiny", seed=1)
    prepare(work / "warm" / "raw", work / "warm" / "data", PrepareConfig.from_preset("tiny"))
    results["warmup_s (jit compile or cache load)"] = round(time.perf_counter() - t, 2)

    raw = args.raw
    if raw is None:
        overrides = {}
        if args.fraction != 1.0:
            cfg = synth_config(args.preset)
            overrides = {"n_users": max(10, int(cfg.n_users * args.fraction)),
                         "n_items": max(cfg.n_categories, int(cfg.n_items * args.fraction))}
        t = time.perf_counter()
        summary = synthesize(work / "run", preset=args.preset, seed=args.seed, **overrides)
        results["synth_s"] = round(time.perf_counter() - t, 2)
        results["raw_rows"] = summary["rows"]
        raw = work / "run" / "raw"
    cfg = PrepareConfig.from_preset(args.preset, seed=args.seed)

    t = time.perf_counter()
    fast = prepare(raw, work / "numba", cfg)
    results["numba_s"] = round(time.perf_counter() - t, 2)
    results["numba_peak_rss_gib"] = round(peak_rss_gib(), 2)
    results["rows_in"] = fast["input"]["rows"]
    results["rows_out"] = fast["output"]["rows"]
    results["rounds"] = len(fast["rounds"])

    if not args.skip_pandas:
        from uqa_data.prepare.pandas_ref import prepare_pandas

        t = time.perf_counter()
        slow = prepare_pandas(raw, work / "pandas", cfg)
        results["pandas_s"] = round(time.perf_counter() - t, 2)
        results["process_peak_rss_gib"] = round(peak_rss_gib(), 2)
        results["speedup"] = round(results["pandas_s"] / max(results["numba_s"], 1e-9), 2)
        same = all(
            (work / "numba" / f).read_bytes() == (work / "pandas" / f).read_bytes()
            for f in ("items.arrow", "train.arrow", "test.arrow")
        ) and fast["filters"] == slow["filters"] and len(fast["rounds"]) == slow["rounds"]
        results["identical_outputs"] = same
        if not same:
            print("OUTPUTS DIFFER", json.dumps(fast["filters"]), json.dumps(slow["filters"]),
                  file=sys.stderr)
    results["load_avg_end"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if results.get("identical_outputs", True) else 1


if __name__ == "__main__":
    raise SystemExit(main())
