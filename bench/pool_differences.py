"""Pool paired differences recorded per seed into one random-effects mean, as
``uqa study --seeds`` does (``uqa_eval.significance.pooled_difference``).

For seeds whose run directories are gone but whose differences and 95% intervals are
recorded (BENCHMARKS.md), beside seeds whose runs are at hand. Each argument is one
seed's difference in points: ``DIFF:LO:HI:N`` (N questions compared).

    python bench/pool_differences.py 9.7:3.7:16.0:300 12.7:6.7:19.0:300 ...
"""

from __future__ import annotations

import argparse
import json

from uqa_eval.significance import pooled_difference


def parse(arg: str) -> dict[str, float]:
    diff, lo, hi, n = (float(x) for x in arg.split(":"))
    return {"diff": diff / 100, "lo": lo / 100, "hi": hi / 100, "n": int(n)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("seeds", nargs="+", help="DIFF:LO:HI:N per seed, points")
    args = p.parse_args()
    pooled = pooled_difference([parse(a) for a in args.seeds])
    shown = {k: (round(v * 100, 1) if k in ("diff", "lo", "hi") and v is not None else v)
             for k, v in pooled.items()}
    shown["i2"] = round(pooled["i2"], 2) if pooled["i2"] is not None else None
    shown["tau2"] = round(pooled["tau2"] * 1e4, 2) if pooled["tau2"] is not None else None
    print(json.dumps(shown))
    print(f"{shown['diff']:+.1f} [{shown['lo']:+.1f}, {shown['hi']:+.1f}] over "
          f"{shown['seeds']} seeds, I2 {shown['i2']:.2f}")


if __name__ == "__main__":
    main()
