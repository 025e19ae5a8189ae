"""A tiny seeded click log in the data/ layout, for question tests (independent of uqa_data.synth).

Each user has a few planted favourite categories clicked with probability
``focus``; half the users switch to a new favourite for their last clicks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

CATEGORIES = [
    "Shoes",
    "Books",
    "Phones",
    "Toys",
    "Tea",
    "Lamps",
    "Bags",
    "Watches",
    "Socks",
    "Paint",
    "Tents",
    "Drums",
]
BRAND_WORDS = [
    "Acme",
    "Borealis",
    "Cobalt",
    "Dune",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Krypton",
    "Lumen",
    "Maple",
    "Nimbus",
    "Onyx",
    "Pico",
]
SHOP_WORDS = [
    "North",
    "South",
    "East",
    "West",
    "Corner",
    "Plaza",
    "Market",
    "Depot",
    "Outlet",
    "Hub",
]
ADJECTIVES = ["red", "small", "soft", "fast", "quiet", "bright", "light", "warm", "cool", "bold"]


def _write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def make_data(
    out: Path,
    *,
    seed: int = 0,
    n_items: int = 240,
    n_train: int = 60,
    n_test: int = 30,
    min_len: int = 12,
    max_len: int = 60,
    focus: float = 0.85,
) -> dict[str, list]:
    """Write ``out/{items,train,test}.arrow``; return the planted truth."""
    rng = np.random.default_rng(seed)
    n_cat = len(CATEGORIES)
    cate = rng.integers(1, n_cat + 1, size=n_items)
    brand = rng.integers(1, len(BRAND_WORDS) + 1, size=n_items)
    shop = rng.integers(1, len(SHOP_WORDS) + 1, size=n_items)
    ids = np.arange(1, n_items + 1)
    titles = [
        f"{ADJECTIVES[i % len(ADJECTIVES)]} {CATEGORIES[c - 1].lower()} {i}"
        for i, c in zip(ids, cate, strict=True)
    ]
    items = pa.table(
        {
            "item_id": pa.array(ids, pa.int64()),
            "raw_item_id": pa.array(ids * 7 + 1000, pa.int64()),
            "cate_id": pa.array(cate, pa.int64()),
            "brand_id": pa.array(brand, pa.int64()),
            "shop_id": pa.array(shop, pa.int64()),
            "seller_id": pa.array(shop, pa.int64()),
            "title": titles,
            "cate_name": [CATEGORIES[c - 1] for c in cate],
            "brand_name": [BRAND_WORDS[b - 1] for b in brand],
            "shop_name": [f"{SHOP_WORDS[s - 1]} Store" for s in shop],
            "seller_name": [f"Seller {s}" for s in shop],
        }
    )
    _write(items, out / "items.arrow")
    by_cate = {c: ids[cate == c] for c in range(1, n_cat + 1)}
    truth: dict[str, list] = {"user_id": [], "split": [], "favourites": [], "recent": []}
    for split, n_users, base in (("train", n_train, 1), ("test", n_test, 100_000)):
        users, seqs, stamps = [], [], []
        for j in range(n_users):
            uid = base + j
            favs = [int(c) for c in rng.choice(n_cat, size=3, replace=False) + 1]
            weights = np.array([0.6, 0.3, 0.1])
            length = int(rng.integers(min_len, max_len + 1))
            switch = rng.random() < 0.5
            recent_fav = (
                int(rng.choice([c for c in range(1, n_cat + 1) if c not in favs]))
                if switch
                else favs[0]
            )
            tail = length // 4 if switch else 0
            seq = []
            for p in range(length):
                if rng.random() < focus:
                    c = recent_fav if p >= length - tail else favs[rng.choice(3, p=weights)]
                    seq.append(
                        int(rng.choice(by_cate[c]))
                        if len(by_cate[c])
                        else int(rng.integers(1, n_items + 1))
                    )
                else:
                    seq.append(int(rng.integers(1, n_items + 1)))
            users.append(uid)
            seqs.append(seq)
            stamps.append(list(range(1_700_000_000, 1_700_000_000 + 60 * length, 60)))
            truth["user_id"].append(uid)
            truth["split"].append(split)
            truth["favourites"].append(favs)
            truth["recent"].append(recent_fav)
        table = pa.table(
            {
                "user_id": pa.array(users, pa.int64()),
                "item_ids": pa.array(seqs, pa.list_(pa.int64())),
                "timestamps": pa.array(stamps, pa.list_(pa.int64())),
            }
        )
        _write(table, out / f"{split}.arrow")
    return truth
