"""The oracle in the LLM's own token space: is learning slot -> name the bottleneck?

Writes an embeddings file (``user_id``, ``embedding``) in which each slot of the
oracle's vector (:func:`uqa_eval.baselines.oracle_vectors`: three blocks of category,
brand and shop slots) is replaced by the mean input embedding of its name's tokens in
the LLM (as an option shows the name, after a space), so a brand seen once in alignment
already points where its name does. Each block is summed over its slots (3 x H wide),
or with ``--by-kind`` its categories, brands and shops apart (9 x H: one map per kind
in the adapter, shared by every name of it):

    python bench/oracle_text.py --run runs/headline2 --out /tmp/oracle_text.arrow
    uqa align --out runs/headline2 --embeddings /tmp/oracle_text.arrow --adapter-dir A
    uqa eval --out runs/headline2 --embeddings /tmp/oracle_text.arrow --adapter-dir A \\
        --predictions P

``bench/profile_align.py --vectors oracle-names`` aligns and answers the ``--by-kind``
vectors in one process.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
from uqa_data.io import write_table
from uqa_eval.baselines import oracle_slots, oracle_vectors

KINDS = ("cate", "brand", "shop")


def slot_names(raw: Path) -> list[tuple[str, str]]:
    """``(kind, name)`` of every slot of one oracle block, in :func:`oracle_vectors`'
    order (names from ``raw/items.arrow``, whose ids the truth uses)."""
    truth = ipc.open_file(str(raw / "truth.arrow")).read_all()
    names: dict[tuple[str, int], str] = {}
    for r in ipc.open_file(str(raw / "items.arrow")).read_all().to_pylist():
        for kind in KINDS:
            names.setdefault((kind, r[f"{kind}_id"]), r[f"{kind}_name"])
    slots = oracle_slots(*(truth.column(c).to_pylist() for c in (
        "interest_cate_ids", "phase_cate_ids", "pref_brand_ids", "pref_shop_ids")))
    return [(key[0], names[key]) for key in sorted(slots, key=slots.__getitem__)]


def token_space(raw: Path, llm: Any, *, by_kind: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(user_ids, vectors)``: the oracle with every slot its name's mean token
    embedding, each block summed over its slots (``[N, 3 * H]``) or, ``by_kind``, over
    each kind's slots apart (``[N, 9 * H]``, blocks then kinds)."""
    users, vecs = oracle_vectors(raw / "truth.arrow")
    named = slot_names(raw)
    width = len(named)
    assert vecs.shape[1] == 3 * width, (vecs.shape, width)
    table = llm.model.get_input_embeddings().weight.detach().float()
    ids = [llm.tokenizer(" " + n, add_special_tokens=False)["input_ids"] for _, n in named]
    name_emb = np.stack([table[i].mean(0).numpy() for i in ids])  # [width, H]
    parts = [np.asarray([k == kind for k, _ in named]) for kind in KINDS] if by_kind \
        else [np.ones(width, dtype=bool)]
    blocks = [vecs[:, b * width:(b + 1) * width] for b in range(3)]
    return users, np.concatenate([block * part @ name_emb for block in blocks
                                  for part in parts], axis=1).astype(np.float32)


def write_vectors(users: np.ndarray, vectors: np.ndarray, out: Path) -> Path:
    """An embeddings file (``user_id``, ``embedding``) of ``vectors``."""
    emb = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()),
                                            vectors.shape[1])
    return write_table(pa.table({"user_id": pa.array(users, pa.int64()), "embedding": emb}),
                       out)


def main() -> None:
    from uqa_align.llm import load_llm

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True, help="a synthetic run (raw/truth.arrow)")
    ap.add_argument("--out", type=Path, required=True, help="embeddings file to write")
    ap.add_argument("--llm", default="smollm2")
    ap.add_argument("--by-kind", action="store_true",
                    help="categories, brands and shops of each block apart (9 x H wide)")
    args = ap.parse_args()
    users, vectors = token_space(args.run / "raw", load_llm(args.llm), by_kind=args.by_kind)
    write_vectors(users, vectors, args.out)
    print(f"{args.out}: {len(users)} users x {vectors.shape[1]}")


if __name__ == "__main__":
    main()
