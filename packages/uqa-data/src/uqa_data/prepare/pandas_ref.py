"""A straightforward pandas implementation of :func:`uqa_data.prepare.prepare`'s semantics.

Used by ``bench/prepare.py`` to compare speed (outputs must be identical) and by the
tests as a second implementation. pandas is imported here only; it is not a
dependency of uqa-data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from uqa_data import io
from uqa_data.prepare import FILTERS, PrepareConfig, build_split, given_split
from uqa_data.schemas import ID_COLUMNS, ITEMS, NAME_COLUMNS


def _removed(before: Any, after: Any) -> dict[str, int]:
    return {
        "rows": len(before) - len(after),
        "users": before["user_id"].nunique() - after["user_id"].nunique(),
        "items": before["item_id"].nunique() - after["item_id"].nunique(),
    }


def prepare_pandas(raw_dir: Path, data_dir: Path, config: PrepareConfig) -> dict[str, Any]:
    """Same inputs, outputs and counts as :func:`~uqa_data.prepare.prepare`, in pandas."""
    import pandas as pd

    raw_dir, data_dir = Path(raw_dir), Path(data_dir)
    with pa.memory_map(str(raw_dir / "interactions.arrow"), "r") as src:
        log = ipc.open_file(src).read_all().to_pandas()
    items = io.read_table(raw_dir / "items.arrow").to_pandas()
    n_in = {"rows": len(log), "users": log["user_id"].nunique(),
            "items": log["item_id"].nunique()}
    filters: dict[str, dict[str, int]] = {}

    kept = log[log["item_id"].isin(items["item_id"])]
    filters["unknown_item"] = _removed(log, kept)
    log = kept.drop_duplicates()
    filters["duplicate_rows"] = _removed(kept, log)
    for name in FILTERS[2:]:
        filters[name] = {"rows": 0, "users": 0, "items": 0}
    rounds = 0
    while True:
        before = len(log)
        length = log.groupby("user_id")["user_id"].transform("size")
        upper = config.max_user_len if config.max_user_len is not None else float("inf")
        short, long_ = length < config.min_user_len, length > upper
        gone = log[short | long_]
        after = log[~(short | long_)]
        if len(gone):
            is_short = short[short | long_]
            for name, mask in (("user_too_short", is_short), ("user_too_long", ~is_short)):
                part = gone[mask.to_numpy()]
                filters[name]["rows"] += len(part)
                filters[name]["users"] += part["user_id"].nunique()
            # an item vanishes with the last (highest-id) removed user that clicked it
            vanished = gone[~gone["item_id"].isin(after["item_id"])]
            who = vanished.assign(short=is_short.loc[vanished.index].to_numpy())
            per_item = who.loc[who.groupby("item_id")["user_id"].idxmax(), "short"]
            filters["user_too_short"]["items"] += int(per_item.sum())
            filters["user_too_long"]["items"] += int((~per_item).sum())
        log = after
        count = log.groupby("item_id")["item_id"].transform("size")
        after = log[count >= config.min_item_count]
        step = _removed(log, after)
        for key in step:
            filters["item_min_count"][key] += step[key]
        log = after
        if len(log) == before:
            break
        rounds += 1

    log = log.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    raw_items = np.sort(log["item_id"].unique())
    dense = np.searchsorted(raw_items, log["item_id"].to_numpy()) + 1
    sizes = log.groupby("user_id", sort=True).size()
    user_ids = sizes.index.to_numpy().astype(np.int64)
    lengths = sizes.to_numpy().astype(np.int64)
    given = given_split(raw_dir / "split.arrow", user_ids) if config.split == "given" else None
    train, test = build_split(config, user_ids, lengths, dense.astype(np.int64),
                              log["timestamp"].to_numpy().astype(np.int64), given)

    sub = items.set_index("item_id").loc[raw_items].reset_index()
    cols: dict[str, Any] = {"item_id": np.arange(1, len(sub) + 1, dtype=np.int64)}
    for c in ID_COLUMNS:
        cols[c] = pd.factorize(sub[c], sort=True)[0].astype(np.int64) + 1
    for c in NAME_COLUMNS:
        cols[c] = sub[c]
    cols["raw_item_id"] = sub["item_id"].astype(np.int64)
    for c in ID_COLUMNS:
        cols[f"raw_{c}"] = sub[c].astype(np.int64)
    items_out = pa.Table.from_pydict({k: pa.array(v) for k, v in cols.items()}, schema=ITEMS)

    io.write_table(items_out, data_dir / "items.arrow")
    io.write_table(train, data_dir / "train.arrow")
    io.write_table(test, data_dir / "test.arrow")
    return {"input": n_in, "filters": filters, "rounds": rounds,
            "output": {"rows": len(log), "users": len(user_ids), "items": len(raw_items)}}
