"""The oracle in the LLM's own token space: is learning slot -> name the bottleneck?

Writes an embeddings file (``user_id``, ``embedding``) in which each slot of the
oracle's vector (:func:`uqa_eval.baselines.oracle_vectors`: three blocks of category,
brand and shop slots) is replaced by the mean input embedding of its name's tokens in
the LLM, so a brand seen once in alignment already points where its name does:

    python bench/oracle_text.py --run runs/headline2 --out /tmp/oracle_text.arrow
    uqa align --out runs/headline2 --embeddings /tmp/oracle_text.arrow --adapter-dir A
    uqa eval --out runs/headline2 --embeddings /tmp/oracle_text.arrow --adapter-dir A \\
        --predictions P
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
from uqa_align.llm import load_llm
from uqa_data.io import write_table
from uqa_eval.baselines import oracle_slots, oracle_vectors


def slot_names(raw: Path) -> list[str]:
    """The name of every slot of one oracle block, in :func:`oracle_vectors`' order."""
    truth = ipc.open_file(str(raw / "truth.arrow")).read_all()
    names: dict[tuple[str, int], str] = {}
    for r in ipc.open_file(str(raw / "items.arrow")).read_all().to_pylist():
        for kind in ("cate", "brand", "shop"):
            names.setdefault((kind, r[f"{kind}_id"]), r[f"{kind}_name"])
    slots = oracle_slots(*(truth.column(c).to_pylist() for c in (
        "interest_cate_ids", "phase_cate_ids", "pref_brand_ids", "pref_shop_ids")))
    return [names[key] for key in sorted(slots, key=slots.__getitem__)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a synthetic run (raw/truth.arrow)")
    ap.add_argument("--out", type=Path, required=True, help="embeddings file to write")
    ap.add_argument("--llm", default="smollm2")
    args = ap.parse_args()
    users, vecs = oracle_vectors(args.run / "raw" / "truth.arrow")
    names = slot_names(args.run / "raw")
    width = len(names)
    assert vecs.shape[1] == 3 * width, (vecs.shape, width)
    llm = load_llm(args.llm)
    table = llm.model.get_input_embeddings().weight.detach().float()
    ids = [llm.tokenizer(" " + n, add_special_tokens=False)["input_ids"] for n in names]
    name_emb = np.stack([table[i].mean(0).numpy() for i in ids])  # [width, H]
    text = np.concatenate([vecs[:, b * width:(b + 1) * width] @ name_emb for b in range(3)],
                          axis=1).astype(np.float32)
    emb = pa.FixedSizeListArray.from_arrays(pa.array(text.reshape(-1), pa.float32()),
                                            text.shape[1])
    write_table(pa.table({"user_id": pa.array(users, pa.int64()), "embedding": emb}), args.out)
    print(f"{args.out}: {len(users)} users x {text.shape[1]}")


if __name__ == "__main__":
    main()
