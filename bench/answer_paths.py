"""Answering down two paths in one process, A/B in turns: ``--compare gqa``, grouped keys
and values read as they are (``enable_gqa``) against copied once per query head
(transformers' own sdpa); ``--compare option-groups``, options in groups of similar
length (:func:`uqa_align.prefix_cache.length_groups`) against all of a batch's options
in one padded pass.

Each first evaluation encodes every prompt's prefix (the shared prefix store is emptied
before it); each `shuffled` one reads them back, as a run's later evaluations do (the
store is filled once before the `shuffled` turns). Prints questions/s per turn, the
median ratio (old path's time over the new one's) and the largest option-score
difference.

    python bench/answer_paths.py --compare gqa --run runs/o1 \\
        --adapter runs/pa-o1/oracle-ref/adapter --embeddings runs/pa-o1/oracle.arrow
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("UQA_PROGRESS", "0")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=Path, required=True, help="run with questions/ and data/")
    ap.add_argument("--adapter", type=Path, required=True)
    ap.add_argument("--embeddings", type=Path, required=True)
    ap.add_argument("--questions", type=int, default=700, help="first N evaluation questions")
    ap.add_argument("--turns", type=int, default=2)
    ap.add_argument("--compare", choices=("gqa", "option-groups"), default="gqa")
    args = ap.parse_args()

    import numpy as np
    import pyarrow.ipc as ipc
    import uqa_align.attention as attention
    import uqa_align.prefix_cache as prefix_cache
    from uqa_align.llm import load_llm
    from uqa_eval.evaluate import EvalConfig, evaluate

    llm = load_llm("smollm2")
    questions = args.run / "questions" / "eval.arrow"
    out = Path(tempfile.mkdtemp())
    groups = prefix_cache.length_groups

    def use(new: bool) -> None:
        if args.compare == "gqa":
            attention.SDPA_GQA = new
        else:
            prefix_cache.length_groups = (groups if new else
                                          lambda lengths, *a, **k: [list(range(len(lengths)))])

    def answer(first: bool, path: Path) -> float:
        config = EvalConfig.from_preset("default", max_questions=args.questions,
                                        baseline=None if first else "shuffled")
        return evaluate(questions, args.embeddings, args.adapter, args.run / "data", path,
                        config, llm=llm)["answer_s"]

    print(f"load {os.getloadavg()[0]:.2f}", flush=True)
    for first in (True, False):
        if not first:  # the prefixes every shuffled turn reads back
            use(True)
            answer(True, out / "fill.arrow")
        times: dict[bool, list[float]] = {True: [], False: []}
        for turn in range(args.turns):
            for new in (False, True):
                use(new)
                if first:
                    prefix_cache._SHARED.clear()
                times[new].append(answer(first, out / f"{first}-{new}-{turn}.arrow"))
                print(f"{'first' if first else 'shuffled'} {'new' if new else 'old'} "
                      f"{args.questions / times[new][-1]:.2f} questions/s", flush=True)
        a, b = (ipc.open_file(str(out / f"{first}-{n}-0.arrow")).read_all() for n in (False, True))
        gap = np.abs(np.array(a.column("option_scores").to_pylist())
                     - np.array(b.column("option_scores").to_pylist())).max()
        print(f"{'first' if first else 'shuffled'}: old / new time "
              f"{np.median(times[False]) / np.median(times[True]):.3f}x, largest option-score "
              f"difference {gap:.2g}, same predictions: "
              f"{a.column('prediction') == b.column('prediction')}", flush=True)
    use(True)
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
