"""An aligned adapter asked its own alignment users' questions against new users'.

Samples ``--questions`` interest-perception questions (li, si, it) of the run's
``questions/align.arrow`` (seeded), answers them with the adapter and the vectors it was
aligned on (the user's own and shuffled across users), and prints ``acc`` by attribute
beside the same adapter's evaluation questions: how well it fits the users it trained on
against how well it reads new ones.

    python bench/seen_users.py --run runs/t4-s1 --adapter runs/pa-t4-s1/oracle-ema/adapter \\
        --embeddings runs/pa-t4-s1/oracle.arrow
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("UQA_PROGRESS", "0")

INTEREST = "interest_perception"  # the questions' ``dimension`` of li, si and it
ATTRIBUTES = ("category", "brand", "shop")


def accuracy(path: Path, attributes: list[str]) -> str:
    """``acc`` of a predictions file overall and by attribute, in points."""
    import numpy as np
    import pyarrow.ipc as ipc

    correct = np.array(ipc.open_file(str(path)).read_all().column("correct").to_pylist())
    att = np.array(attributes)
    parts = [f"{a} {100 * correct[att == a].mean():.1f}" for a in ATTRIBUTES if (att == a).any()]
    return f"{100 * correct.mean():.1f} ({', '.join(parts)}; n={len(correct)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="run with questions/ and data/")
    ap.add_argument("--adapter", type=Path, required=True)
    ap.add_argument("--embeddings", type=Path, required=True,
                    help="vectors of the alignment and evaluation users alike")
    ap.add_argument("--questions", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=Path("runs/seen-users"))
    args = ap.parse_args()

    import numpy as np
    import pyarrow as pa
    import pyarrow.ipc as ipc
    from uqa_eval.evaluate import EvalConfig, evaluate

    def interest(split: str) -> tuple[pa.Table, np.ndarray]:
        table = ipc.open_file(str(args.run / "questions" / f"{split}.arrow")).read_all()
        return table, np.flatnonzero(np.array(table.column("dimension").to_pylist()) == INTEREST)

    align, pool = interest("align")
    take = np.sort(np.random.default_rng(args.seed).choice(pool, args.questions, replace=False))
    evalq, rows = interest("eval")
    args.work.mkdir(parents=True, exist_ok=True)
    for label, name, table in (("its alignment users", "align-sample", align.take(pa.array(take))),
                               ("new users", "eval-interest", evalq.take(pa.array(rows)))):
        path = args.work / f"{name}.arrow"
        with ipc.new_file(str(path), table.schema) as w:
            w.write_table(table)
        for base in (None, "shuffled"):
            pred = args.work / f"{path.stem}-{base or 'user'}.arrow"
            evaluate(path, args.embeddings, args.adapter, args.run / "data", pred,
                     EvalConfig.from_preset("default", baseline=base))
            print(f"{label}, {base or 'own vectors'}: acc "
                  f"{accuracy(pred, table.column('attribute').to_pylist())}", flush=True)


if __name__ == "__main__":
    main()
