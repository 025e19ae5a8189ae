"""How much of interest perception the planted truth answers when read directly, with no
LLM: the ceiling of what the oracle vector holds.

For each li / si / it question of a synthetic run, each option is scored from the user's
planted truth (``raw/truth.arrow``), the same facts the oracle vector encodes
(``uqa_eval.baselines.oracle_vectors``): li, the long-term weights of the option's values
(earlier positions a little heavier); si, the last phase's category and its preferred
brand and shop; it, the phase before it for "from" and the last phase for "to". The best
option is the rule's answer (ties share the credit).

    python bench/oracle_rule.py runs/default-sasrec-mean_linear-s0 runs/s2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.feather as feather

ATTR = {"category": "cate", "brand": "brand", "shop": "shop"}


def profile(row: pd.Series) -> tuple[dict, dict, dict]:
    """(long-term weights, last phase, the phase before), keyed by (kind, raw id)."""
    long_term: dict = {}
    prefs = {}
    for c, w, b, s in zip(row.interest_cate_ids, row.interest_weights, row.pref_brand_ids,
                          row.pref_shop_ids, strict=True):
        for key in (("cate", c), ("brand", b), ("shop", s)):
            long_term[key] = long_term.get(key, 0.0) + w
        prefs[c] = (b, s)

    def phase(c: int) -> dict:
        out = {("cate", c): 1.0}
        if c in prefs:
            out[("brand", prefs[c][0])] = out[("shop", prefs[c][1])] = 1.0
        return out

    phases = list(row.phase_cate_ids)
    return long_term, phase(phases[-1]), phase(phases[-2] if len(phases) > 1 else phases[-1])


def rule_accuracy(run: Path) -> pd.Series:
    items = feather.read_table(run / "raw" / "items.arrow").to_pandas()
    ids = {a: dict(zip(items[f"{a}_name"], items[f"{a}_id"], strict=True))
           for a in ("cate", "brand", "shop")}
    truth = feather.read_table(run / "raw" / "truth.arrow").to_pandas().set_index("user_id")
    qs = feather.read_table(run / "questions" / "eval.arrow").to_pandas()
    qs = qs[qs.task.isin(["li", "si", "it"]) & qs.attribute.isin(ATTR)]
    rows = []
    for _, q in qs.iterrows():
        kind = ATTR[q.attribute]
        long_term, last, before = profile(truth.loc[q.user_id])

        def key(name: str, kind: str = kind) -> tuple[str, int]:
            return kind, ids[kind].get(name.strip(), -1)

        scores = []
        for option in q.options:
            if q.task == "li":
                parts = option.split(", ")
                scores.append(sum(long_term.get(key(p), 0.0) * (1 + 0.01 * (3 - i))
                                  for i, p in enumerate(parts)))
            elif q.task == "si":
                scores.append(last.get(key(option), 0.0) + 0.1 * long_term.get(key(option), 0.0))
            else:
                src, dst = option.split(", then ")
                scores.append(before.get(key(src), 0.0) + last.get(key(dst), 0.0)
                              + 0.01 * (long_term.get(key(src), 0.0)
                                        + long_term.get(key(dst), 0.0)))
        s = np.asarray(scores)
        best = np.flatnonzero(s == s.max())
        gold = ord(q.answer) - ord("A")
        rows.append({"task": q.task, "attribute": kind,
                     "acc": (gold in best) / len(best)})
    frame = pd.DataFrame(rows)
    out = frame.groupby(["task", "attribute"]).acc.mean()
    out.loc[("all", "all")] = frame.acc.mean()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="synthetic run directories")
    args = ap.parse_args()
    table = pd.DataFrame({str(r): rule_accuracy(r) * 100 for r in args.runs})
    print("| task | attribute | " + " | ".join(table.columns) + " |")
    print("|---|---|" + "---:|" * len(table.columns))
    for (task, attribute), row in table.iterrows():
        print(f"| {task} | {attribute} | " + " | ".join(f"{v:.1f}" for v in row) + " |")


if __name__ == "__main__":
    main()
