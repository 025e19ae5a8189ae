"""A small seeded click-log generator writing ``data/`` files in the design's schema.

Users prefer a few categories; within a category they tend to click the next
item of a per-category chain, so sequence models can beat most-popular.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from uqa_data.io import write_table


def write_data(
    data_dir: Path,
    *,
    users: int = 300,
    items: int = 200,
    categories: int = 8,
    min_len: int = 5,
    max_len: int = 40,
    seed: int = 0,
    test_frac: float = 0.2,
) -> Path:
    """Write ``items.arrow``, ``train.arrow``, ``test.arrow`` into ``data_dir``."""
    rng = np.random.default_rng(seed)
    item_ids = np.arange(1, items + 1)
    cate = rng.integers(1, categories + 1, size=items)
    brand = rng.integers(1, 3 * categories + 1, size=items)
    shop = rng.integers(1, 2 * categories + 1, size=items)
    seller = shop.copy()
    words = [f"w{k}" for k in range(50)]
    titles = [
        f"item {i} " + " ".join(rng.choice(words, size=3)) + f" cat{cate[i - 1]}"
        for i in item_ids
    ]
    items_table = pa.table(
        {
            "item_id": pa.array(item_ids, pa.int64()),
            "raw_item_id": pa.array(item_ids * 7 + 1000, pa.int64()),
            "cate_id": pa.array(cate, pa.int64()),
            "brand_id": pa.array(brand, pa.int64()),
            "shop_id": pa.array(shop, pa.int64()),
            "seller_id": pa.array(seller, pa.int64()),
            "title": titles,
            "cate_name": [f"category {c}" for c in cate],
            "brand_name": [f"brand {b}" for b in brand],
            "shop_name": [f"shop {s}" for s in shop],
            "seller_name": [f"seller {s}" for s in seller],
        }
    )
    by_cate = {c: item_ids[cate == c] for c in range(1, categories + 1)}
    by_cate = {c: v for c, v in by_cate.items() if len(v)}
    cats = sorted(by_cate)
    rows = []
    for u in range(users):
        liked = rng.choice(cats, size=min(2, len(cats)), replace=False)
        n = int(rng.integers(min_len, max_len + 1))
        seq = []
        cur = int(rng.choice(by_cate[int(liked[0])]))
        for _ in range(n):
            seq.append(cur)
            c = int(cate[cur - 1])
            pool = by_cate[c]
            if rng.random() < 0.7:  # follow the chain inside the category
                k = int(np.searchsorted(pool, cur))
                cur = int(pool[(k + 1) % len(pool)])
            else:
                cur = int(rng.choice(by_cate[int(rng.choice(liked))]))
        ts = np.cumsum(rng.integers(1, 100, size=n)) + 1_600_000_000
        rows.append((u + 1, seq, ts.tolist()))
    n_test = int(users * test_frac)
    data_dir = Path(data_dir)
    write_table(items_table, data_dir / "items.arrow")
    for split, part in (("train", rows[n_test:]), ("test", rows[:n_test])):
        write_table(
            pa.table(
                {
                    "user_id": pa.array([r[0] for r in part], pa.int64()),
                    "item_ids": pa.array([r[1] for r in part], pa.list_(pa.int64())),
                    "timestamps": pa.array([r[2] for r in part], pa.list_(pa.int64())),
                }
            ),
            data_dir / f"{split}.arrow",
        )
    return data_dir
