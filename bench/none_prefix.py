"""The ``none`` baseline's answering, reading the prefixes the run's own evaluation
cached against encoding every prompt whole, in one process with the LLM loaded once:

    python bench/none_prefix.py --run runs/d0 --repeats 2

The run's evaluation (its adapter and test embeddings) answers first, as ``uqa run``
does, filling the process's prefix store; then ``none`` answers with the cache off and
on, alternating. Prints the seconds of each and the largest option-score difference.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("UQA_PROGRESS", "0")


def _scores(path: Path) -> list[list[float]]:
    import pyarrow.ipc as ipc

    return ipc.open_file(str(path)).read_all().column("option_scores").to_pylist()


def main() -> None:
    import numpy as np
    from uqa_align.aligned import load_aligned
    from uqa_eval.evaluate import EvalConfig, evaluate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True,
                    help="a finished run (questions/, embeddings/, adapter/)")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    q = args.run / "questions" / "eval.arrow"
    adapter = args.run / "adapter"
    llm = load_aligned(adapter).llm
    with tempfile.TemporaryDirectory() as work:
        out = Path(work)
        t0 = time.perf_counter()
        evaluate(q, args.run / "embeddings" / "test.arrow", adapter, None, out / "run.arrow",
                 EvalConfig.from_preset("default"), llm=llm)
        print(f"the run's evaluation (prefixes encoded and stored): "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        for rep in range(args.repeats):
            for gb in (0.0, EvalConfig().prefix_cache_gb):
                path = out / f"none-{rep}-{gb}.arrow"
                t0 = time.perf_counter()
                s = evaluate(q, None, adapter, None, path,
                             EvalConfig.from_preset("default", baseline="none",
                                                    prefix_cache_gb=gb), llm=llm)
                print(f"none, prefix cache {'off' if not gb else 'on'}: "
                      f"{time.perf_counter() - t0:.1f} s, acc {100 * s['acc']:.2f}", flush=True)
        off = np.array(_scores(out / "none-0-0.0.arrow"))
        on = np.array(_scores(out / f"none-0-{EvalConfig().prefix_cache_gb}.arrow"))
        print(f"largest option-score difference, cache on against off: "
              f"{np.abs(on - off).max():.4f} nats", flush=True)


if __name__ == "__main__":
    main()
