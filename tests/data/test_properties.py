"""Hypothesis properties of prepare, checked against the plain-Python reference."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from uqa_data.errors import UqaInputError
from uqa_data.io import read_json, read_table, write_table
from uqa_data.prepare import PrepareConfig, prepare
from uqa_data.schemas import RAW_INTERACTIONS

from .reference import reference_prepare

BIG = 10**13  # an id far outside the compact range: exercises the sort-based factorize

row_st = st.tuples(
    st.integers(0, 5),
    st.sampled_from([*range(10), *range(10), *range(10), BIG]),
    st.integers(0, 9),  # few distinct timestamps: many ties, ordered by item id
)


def _write_raw(raw: Path, rows: list[tuple[int, int, int]], known: list[int]) -> None:
    cols = list(zip(*rows, strict=True))
    log = pa.Table.from_arrays([pa.array(c, pa.int64()) for c in cols], schema=RAW_INTERACTIONS)
    write_table(log, raw / "interactions.arrow")
    n = len(known)
    write_table(pa.table({
        "item_id": pa.array(known, pa.int64()),
        **{c: pa.array([k % 3 for k in known], pa.int64())
           for c in ("cate_id", "brand_id", "shop_id", "seller_id")},
        **{c: pa.array([f"{c} {k}" for k in known]) for c in
           ("title", "cate_name", "brand_name", "shop_name", "seller_name")},
    }), raw / "items.arrow")
    assert n == len(set(known))


@st.composite
def cases(draw: st.DrawFn) -> tuple:
    rows = draw(st.lists(row_st, min_size=5, max_size=150))
    rows += draw(st.lists(st.sampled_from(rows), max_size=10))  # exact duplicates
    if draw(st.booleans()):  # a log already grouped by user in time order, ties unordered
        rows.sort(key=lambda r: (r[0], r[2]))
    items = sorted({r[1] for r in rows})
    known = draw(st.lists(st.sampled_from(items), unique=True, min_size=1))
    known += draw(st.lists(st.integers(20, 30), unique=True, max_size=3))  # never clicked
    min_len = draw(st.integers(1, 5))
    cfg = {
        "min_item_count": draw(st.integers(1, 4)),
        "min_user_len": min_len,
        "max_user_len": draw(st.integers(min_len, min_len + 12)),
        "split": draw(st.sampled_from(["user", "temporal"])),
        "test_fraction": draw(st.sampled_from([0.0, 0.1, 0.3, 0.5])),
        "seed": draw(st.integers(0, 3)),
    }
    return rows, known, cfg


TIES = ([(0, 5, 1), (0, 3, 1), (0, 4, 2), (1, 5, 1), (1, 3, 1), (1, 4, 3)], [3, 4, 5],
        {"min_item_count": 1, "min_user_len": 1, "max_user_len": 9, "split": "user",
         "test_fraction": 0.0, "seed": 0})


@example(TIES)
@given(cases())
def test_prepare_matches_reference_and_invariants(case: tuple) -> None:
    rows, known, cfg = case
    ref = reference_prepare(rows, set(known), **cfg)
    with tempfile.TemporaryDirectory() as tmp:
        raw, data = Path(tmp) / "raw", Path(tmp) / "data"
        _write_raw(raw, rows, known)
        if not ref.sequences:
            with pytest.raises(UqaInputError, match=r"all .* clicks were removed"):
                prepare(raw, data, PrepareConfig(**cfg))
            assert not data.exists()
            return
        summary = prepare(raw, data, PrepareConfig(**cfg))
        train = read_table(data / "train.arrow").to_pylist()
        test = read_table(data / "test.arrow").to_pylist()
        items = read_table(data / "items.arrow").to_pydict()
        on_disk = read_json(data / "prepare.json")

    # counts: every removed click is attributed to a declared filter, exactly as the reference
    assert summary["filters"] == ref.removed
    assert on_disk["filters"] == ref.removed and on_disk["reconciles"]
    assert len(summary["rounds"]) == ref.rounds
    for key in ("rows", "users", "items"):
        assert summary["input"][key] == sum(f[key] for f in ref.removed.values()) + \
            summary["output"][key]
    # items: dense 1..N by ascending raw id
    assert items["raw_item_id"] == sorted(ref.item_ids)
    assert items["item_id"] == list(range(1, len(ref.item_ids) + 1))
    dense_to_raw = dict(zip(items["item_id"], items["raw_item_id"], strict=True))
    # sequences equal the reference's, time-ordered
    full = {r["user_id"]: r for r in (test if cfg["split"] == "temporal" else train + test)}
    assert set(full) == set(ref.sequences)
    clicks = []
    for user, seq in ref.sequences.items():
        got = [(t, dense_to_raw[i]) for t, i in zip(full[user]["timestamps"],
                                                    full[user]["item_ids"], strict=True)]
        assert got == seq
        assert got == sorted(got)
        clicks += [i for _, i in got]
    # every surviving item keeps at least min_item_count clicks
    assert min(np.unique(clicks, return_counts=True)[1]) >= cfg["min_item_count"]
    # no click appears that was not in the input
    assert {(u, i, t) for u, s in ref.sequences.items() for t, i in s} <= set(rows)
    if cfg["split"] == "user":
        train_users = {r["user_id"] for r in train}
        test_users = {r["user_id"] for r in test}
        assert not train_users & test_users
        assert test_users == ref.test_users
    else:
        for r in train:
            assert r["item_ids"] == full[r["user_id"]]["item_ids"][: r["train_len"]]


def test_same_seed_gives_byte_identical_files(tiny_run: Path, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        seed = 1 if name == "c" else 0
        prepare(tiny_run / "raw", tmp_path / name, PrepareConfig.from_preset("tiny", seed=seed))
    for f in ("items.arrow", "train.arrow", "test.arrow", "prepare.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    other = (tmp_path / "c" / "test.arrow").read_bytes()
    assert (tmp_path / "a" / "test.arrow").read_bytes() != other


@pytest.mark.parametrize(
    "overrides",
    [{}, {"min_item_count": 15, "min_user_len": 20, "max_user_len": 60, "split": "temporal"}],
)
def test_pandas_implementation_writes_identical_files(
    tiny_run: Path, tmp_path: Path, overrides: dict
) -> None:
    from uqa_data.prepare.pandas_ref import prepare_pandas

    cfg = PrepareConfig.from_preset("tiny", **overrides)
    fast = prepare(tiny_run / "raw", tmp_path / "numba", cfg)
    slow = prepare_pandas(tiny_run / "raw", tmp_path / "pandas", cfg)
    assert fast["filters"] == slow["filters"] and len(fast["rounds"]) == slow["rounds"]
    if overrides:
        assert len(fast["rounds"]) >= 2
    for f in ("items.arrow", "train.arrow", "test.arrow"):
        assert (tmp_path / "numba" / f).read_bytes() == (tmp_path / "pandas" / f).read_bytes()
