"""Preprocessing on the tiny preset: files, dense ids, filters, splits, config errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
from uqa_data.errors import UnknownNameError, UqaInputError
from uqa_data.io import read_table
from uqa_data.prepare import PrepareConfig, prepare
from uqa_data.schemas import ITEM_CHECKS, SEQUENCE_CHECKS


def test_data_files_follow_the_design(tiny_run: Path) -> None:
    data = tiny_run / "data"
    items = read_table(data / "items.arrow", ITEM_CHECKS).to_pandas()
    assert items["item_id"].tolist() == list(range(1, len(items) + 1))
    assert items["raw_item_id"].is_monotonic_increasing
    for col in ("cate_id", "brand_id", "shop_id", "seller_id"):
        assert sorted(items[col].unique()) == list(range(1, items[col].nunique() + 1))
        # dense ids follow ascending raw ids
        pairs = items[[col, f"raw_{col}"]].drop_duplicates().sort_values(f"raw_{col}")
        assert pairs[col].is_monotonic_increasing and pairs[col].is_unique
    train = read_table(data / "train.arrow", SEQUENCE_CHECKS)
    test = read_table(data / "test.arrow", SEQUENCE_CHECKS)
    values = pc.list_flatten(train.column("item_ids")).to_numpy()
    assert values.min() >= 1 and values.max() <= len(items)
    assert not set(train.column("user_id").to_pylist()) & set(test.column("user_id").to_pylist())
    assert test.num_rows == round(0.1 * (train.num_rows + test.num_rows))
    lengths = pc.list_value_length(train.column("item_ids")).to_numpy()
    assert lengths.min() >= 10  # every tiny user keeps enough clicks for questions


def test_counts_reconcile(tiny_run: Path) -> None:
    summary = json.loads((tiny_run / "data" / "prepare.json").read_text())
    assert summary["reconciles"]
    log = read_table(tiny_run / "raw" / "interactions.arrow").to_pandas()
    inp = summary["input"]
    assert inp["rows"] == len(log) and inp["users"] == log["user_id"].nunique()
    for key in ("rows", "users", "items"):
        removed = sum(f[key] for f in summary["filters"].values())
        assert inp[key] == removed + summary["output"][key]
    assert summary["filters"]["duplicate_rows"]["rows"] == int(log.duplicated().sum())
    out = summary["output"]
    assert out["train_rows"] + out["test_rows"] == out["rows"]


def test_temporal_split_holds_out_each_users_tail(tiny_run: Path, tmp_path: Path) -> None:
    cfg = PrepareConfig.from_preset("tiny", split="temporal", test_fraction=0.2)
    prepare(tiny_run / "raw", tmp_path, cfg)
    train = read_table(tmp_path / "train.arrow").to_pylist()
    test = {r["user_id"]: r for r in read_table(tmp_path / "test.arrow").to_pylist()}
    assert len(train) == len(test)
    for row in train:
        full = test[row["user_id"]]
        n = len(full["item_ids"])
        assert row["train_len"] == full["train_len"] == n - max(1, round(0.2 * n))
        assert row["item_ids"] == full["item_ids"][: row["train_len"]]
        assert row["timestamps"] == full["timestamps"][: row["train_len"]]


def test_filters_apply_until_fixpoint(tiny_run: Path, tmp_path: Path) -> None:
    cfg = PrepareConfig.from_preset("tiny", min_item_count=25, min_user_len=20, max_user_len=60)
    summary = prepare(tiny_run / "raw", tmp_path, cfg)
    assert len(summary["rounds"]) >= 2
    train = read_table(tmp_path / "train.arrow")
    test = read_table(tmp_path / "test.arrow")
    items = np.concatenate(
        [pc.list_flatten(t.column("item_ids")).to_numpy() for t in (train, test)]
    )
    assert np.bincount(items)[1:].min() >= 25
    for t in (train, test):
        lengths = pc.list_value_length(t.column("item_ids")).to_numpy()
        assert lengths.min() >= 20 and lengths.max() <= 60


def test_config_errors_name_the_setting() -> None:
    """The setting here; the command that was given it adds its flag (tests/cli)."""
    with pytest.raises(UnknownNameError, match="--split"):
        PrepareConfig.from_preset("tiny", split="random")
    with pytest.raises(UqaInputError, match=r"max_user_len=20: expected an integer >= "
                       r"min_user_len \(50\)"):
        PrepareConfig.from_preset("tiny", min_user_len=50, max_user_len=20)
    with pytest.raises(UqaInputError, match=r"test_fraction=1.5: expected a number in \[0, 1\)"):
        PrepareConfig.from_preset("tiny", test_fraction=1.5)
    with pytest.raises(UnknownNameError, match="valid: default, full, small, tiny"):
        PrepareConfig.from_preset("huge")
    assert PrepareConfig.from_preset("full").max_user_len == 1000
