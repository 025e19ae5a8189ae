"""Preprocessing (``uqa data prepare``): raw log -> dense, filtered, split sequences.

Semantics, in order (each step is a *declared filter* whose removals are counted
in ``data/prepare.json`` so rows, users and items reconcile exactly with the input):

1. ``unknown_item``: drop clicks whose item is absent from ``raw/items.arrow``.
2. ``duplicate_rows``: drop exact duplicate (user_id, item_id, timestamp) rows.
3. Repeat until a round removes nothing (a fixpoint): ``user_too_short`` /
   ``user_too_long`` drop users whose click count is outside
   ``[min_user_len, max_user_len]``; then ``item_min_count`` drops every item with
   fewer than ``min_item_count`` clicks (counted at the start of that step).
4. Order each user's clicks by (timestamp, item id); renumber items densely
   ``1..N`` by ascending raw id (0 is padding), and categories, brands, shops and
   sellers ``1..K`` likewise; user ids stay raw.
5. Split: ``user`` (default) puts a seeded ``test_fraction`` of users in
   ``test.arrow``; ``given`` follows ``raw/split.arrow`` (user_id, split =
   ``train``/``test``, as the uqabench importer writes it); ``temporal`` keeps
   every user in both files, ``train.arrow`` holding all but the last
   ``max(1, round(test_fraction * len))`` clicks and ``test.arrow`` the whole
   sequence (``train_len`` says how many leading clicks are also in train; users
   whose prefix would be empty are absent from train).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from uqa_data import io
from uqa_data.errors import UqaInputError
from uqa_data.presets import PREPARE_PRESETS, config_from_preset
from uqa_data.progress import stage_progress
from uqa_data.schemas import ID_COLUMNS, ITEMS, NAME_COLUMNS
from uqa_data.settings import SettingError, check_at_least, check_choice

SPLITS: tuple[str, ...] = ("user", "temporal", "given")
FILTERS: tuple[str, ...] = (
    "unknown_item", "duplicate_rows", "user_too_short", "user_too_long", "item_min_count"
)
"""Every declared filter, in the order they apply."""


@dataclass(frozen=True)
class PrepareConfig:
    """Preprocessing settings (see the module docstring for the exact semantics)."""

    min_item_count: int = 3
    """Items with fewer clicks are dropped (``--min-item-count``)."""
    min_user_len: int = 10
    """Users with fewer clicks are dropped (``--min-user-len``)."""
    max_user_len: int | None = 200
    """Users with more clicks are dropped (``--max-user-len``); None keeps every long user
    (the encoder's ``max_len`` then keeps its most recent clicks)."""
    split: str = "user"
    """``user`` (held-out users), ``temporal`` (held-out last clicks) or ``given``
    (``raw/split.arrow``) (``--split``)."""
    test_fraction: float = 0.1
    """Share of users (or of each user's clicks) held out (``--test-fraction``)."""
    seed: int = 0
    """Seed of the user split (``--seed``)."""

    @classmethod
    def from_preset(cls, name: str = "default", **overrides: Any) -> PrepareConfig:
        """Preset ``name`` with ``overrides`` (``None`` values are ignored)."""
        return config_from_preset(cls, PREPARE_PRESETS, name, overrides, what="prepare")

    def validate(self) -> None:
        """Raise :class:`UqaInputError` naming the flag of the first bad value."""
        check_choice(self, "prepare", "split", SPLITS, "split", "--split")
        check_at_least(self, "prepare", 0, "seed")
        check_at_least(self, "prepare", 1, "min_item_count", "min_user_len")
        if self.max_user_len is not None and self.max_user_len < self.min_user_len:
            raise SettingError("prepare", "max_user_len", self.max_user_len,
                               f"an integer >= min_user_len ({self.min_user_len})")
        if not 0.0 <= self.test_fraction < 1.0:
            raise SettingError("prepare", "test_fraction", self.test_fraction,
                               "a number in [0, 1)")


def check_holds_out(config: PrepareConfig, flag: str) -> None:
    """Refuse a ``user`` split that holds out no user (``test_fraction`` 0): the library
    allows it, but a run or ``uqa data prepare`` would write a split no later stage takes."""
    if config.split == "user" and config.test_fraction == 0:
        raise UqaInputError(f"{flag} 0: expected a number in (0, 1), the share of users held "
                            "out for evaluation; 0 holds out none")


def _list_array(offsets: np.ndarray, values: np.ndarray) -> pa.Array:
    if offsets[-1] < 2**31:
        return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(values))
    return pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(values))


def sequences_table(
    user_ids: np.ndarray, lengths: np.ndarray, items: np.ndarray, ts: np.ndarray,
    train_len: np.ndarray,
) -> pa.Table:
    """One row per user from flat, user-grouped ``items``/``ts`` and per-user ``lengths``."""
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return pa.table(
        {
            "user_id": pa.array(user_ids.astype(np.int64)),
            "item_ids": _list_array(offsets, items),
            "timestamps": _list_array(offsets, ts),
            "train_len": pa.array(train_len.astype(np.int64)),
        }
    )


def split_users(n_users: int, test_fraction: float, seed: int) -> np.ndarray:
    """Boolean mask over users (ascending user id) of the seeded test share."""
    is_test = np.zeros(n_users, dtype=bool)
    n_test = round(n_users * test_fraction)
    if test_fraction > 0 and n_users >= 2:
        n_test = min(max(n_test, 1), n_users - 1)
    is_test[np.random.default_rng(seed).permutation(n_users)[:n_test]] = True
    return is_test


def given_split(path: Path, user_ids: np.ndarray) -> np.ndarray:
    """Test mask over ``user_ids`` from a ``user_id, split`` file (split: train/test)."""
    from uqa_data.io import INT, STRING

    table = io.read_table(path, {"user_id": (INT, "integer user ids"),
                                 "split": (STRING, "'train' or 'test'")}, what="split file")
    ids = table.column("user_id").to_numpy()
    split = table.column("split").to_pylist()
    bad = next((i for i, s in enumerate(split) if s not in ("train", "test")), None)
    if bad is not None:
        raise UqaInputError(f"{path}: column 'split' row {bad} is {split[bad]!r}; "
                            "expected 'train' or 'test'")
    order = np.argsort(ids, kind="stable")
    pos = np.searchsorted(ids[order], user_ids).clip(0, max(len(ids) - 1, 0))
    found = (ids[order][pos] == user_ids) if len(ids) else np.zeros(len(user_ids), dtype=bool)
    if not found.all():
        missing = int(user_ids[np.flatnonzero(~found)[0]])
        raise UqaInputError(f"{path}: user {missing} has no row; expected every user's split")
    is_test = np.array([s == "test" for s in split], dtype=bool)
    return is_test[order][pos]


def build_split(
    config: PrepareConfig, user_ids: np.ndarray, lengths: np.ndarray, items: np.ndarray,
    ts: np.ndarray, given: np.ndarray | None = None,
    buffers: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[pa.Table, pa.Table]:
    """``(train, test)`` tables of grouped sequences under ``config.split``.

    :param given: the test mask over ``user_ids`` for ``split="given"``.
    :param buffers: two int64 arrays of at least ``len(items)`` to write the split
        rows into (saves allocations); fresh ones when None.
    """
    from uqa_data.prepare.kernels import gather

    n = items.shape[0]
    out_item, out_ts = buffers if buffers is not None else (
        np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64))
    ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    if config.split in ("user", "given"):
        if config.split == "given":
            assert given is not None
            is_test = given
        else:
            is_test = split_users(user_ids.shape[0], config.test_fraction, config.seed)
        mid = gather(ptr, np.where(is_test, 0, lengths), items, ts, out_item, out_ts, 0)
        end = gather(ptr, np.where(is_test, lengths, 0), items, ts, out_item, out_ts, mid)
        tr, te = ~is_test, is_test
        train = sequences_table(user_ids[tr], lengths[tr], out_item[:mid], out_ts[:mid],
                                lengths[tr])
        test = sequences_table(user_ids[te], lengths[te], out_item[mid:end], out_ts[mid:end],
                               np.zeros(int(te.sum()), dtype=np.int64))
        return train, test
    hold = np.maximum(1, np.round(lengths * config.test_fraction).astype(np.int64))
    prefix = np.maximum(lengths - hold, 0)
    end = gather(ptr, prefix, items, ts, out_item, out_ts, 0)
    has = prefix > 0
    train = sequences_table(user_ids[has], prefix[has], out_item[:end], out_ts[:end],
                            prefix[has])
    test = sequences_table(user_ids, lengths, items, ts, prefix)
    return train, test


def _dense(values: np.ndarray) -> np.ndarray:
    """Ids ``1..K`` in ascending order of the distinct ``values``."""
    from uqa_data.prepare.kernels import factorize

    return factorize(np.ascontiguousarray(values, dtype=np.int64))[0] + 1


def prepare(raw_dir: Path, data_dir: Path, config: PrepareConfig) -> dict[str, Any]:
    """Filter, order, renumber and split ``raw_dir``'s log into ``data_dir``; see module doc.

    :returns: the summary also written to ``data_dir/prepare.json``.
    """
    from uqa_data.prepare import kernels as K
    from uqa_data.prepare.raw import read_interactions, read_items

    config.validate()
    raw_dir, data_dir = Path(raw_dir), Path(data_dir)
    started = time.perf_counter()
    with stage_progress("prepare", total=5) as bar:
        user_raw, item_raw, ts = read_interactions(raw_dir / "interactions.arrow")
        items_tab, tab_order = read_items(raw_dir / "items.arrow")
        n_rows = int(user_raw.shape[0])
        bar.advance(step="read")

        # Large buffers are reused stage to stage: first touches of fresh memory are slow.
        user_code, user_uniques = K.factorize(user_raw, in_place=True)
        item_code, item_uniques = K.factorize(item_raw, in_place=True)
        tab_ids = items_tab.column("item_id").to_numpy()
        pos = np.searchsorted(tab_ids[tab_order], item_uniques).clip(0, max(len(tab_ids) - 1, 0))
        known = (tab_ids[tab_order][pos] == item_uniques) if len(tab_ids) else np.zeros(
            item_uniques.shape[0], dtype=bool)
        item_s, ts_s = np.empty(n_rows, dtype=np.int64), np.empty(n_rows, dtype=np.int64)
        ptr = K.group_by_user(user_code, user_uniques.shape[0], item_code, ts, item_s, ts_s)
        free = (user_code, item_code)  # no longer needed: reused for the compacted rows
        bar.advance(step="ordered")

        alive = np.ones(n_rows, dtype=np.bool_)
        user_len = np.diff(ptr)
        item_cnt = np.bincount(item_s, minlength=item_uniques.shape[0]).astype(np.int64)
        removed: dict[str, np.ndarray] = {}
        removed["unknown_item"] = np.zeros(3, dtype=np.int64)
        K.drop_rows(ptr, item_s, alive, ~known[item_s], user_len, item_cnt,
                    removed["unknown_item"])
        removed["duplicate_rows"] = np.zeros(3, dtype=np.int64)
        K.drop_rows(ptr, item_s, alive, K.duplicate_rows(ptr, item_s, ts_s), user_len, item_cnt,
                    removed["duplicate_rows"])
        rounds: list[dict[str, Any]] = []
        total_stats = np.zeros((3, 3), dtype=np.int64)
        while True:
            stats = np.zeros((3, 3), dtype=np.int64)
            n = K.filter_round(ptr, item_s, alive, user_len, item_cnt, config.min_item_count,
                               config.min_user_len, _upper(config.max_user_len), stats)
            if n == 0:
                break
            total_stats += stats
            rounds.append({name: _counts(stats[i]) for i, name in enumerate(FILTERS[2:])})
        for i, name in enumerate(FILTERS[2:]):
            removed[name] = total_stats[i]
        bar.advance(step=f"filtered ({len(rounds)} rounds)")

        if not alive.any():
            gone = ", ".join(f"{k} {int(v[0]):,}" for k, v in removed.items() if v[0])
            raise UqaInputError(
                f"{raw_dir / 'interactions.arrow'}: all {n_rows:,} clicks were removed ({gone}); "
                "loosen --min-user-len, --max-user-len or --min-item-count"
            )
        kept_item = item_cnt > 0
        item_new = np.where(kept_item, np.cumsum(kept_item), 0).astype(np.int64)
        new_ptr = K.compact(ptr, item_s, ts_s, alive, item_new, *free)
        out_item, out_ts = free[0][: new_ptr[-1]], free[1][: new_ptr[-1]]
        lengths = np.diff(new_ptr)
        kept_user = lengths > 0
        user_ids, lengths = user_uniques[kept_user], lengths[kept_user]
        given = given_split(raw_dir / "split.arrow", user_ids) if config.split == "given" \
            else None
        train, test = build_split(config, user_ids, lengths, out_item, out_ts, given,
                                  buffers=(item_s, ts_s))
        items_out = _items_table(items_tab, tab_order[pos[kept_item]])
        bar.advance(step="split")

        summary = _summary(config, n_rows, user_uniques.shape[0], item_uniques.shape[0],
                           items_tab.num_rows, int(known.sum()), removed, rounds,
                           int(out_item.shape[0]), int(user_ids.shape[0]),
                           int(kept_item.sum()), train, test)
        io.write_table(items_out, data_dir / "items.arrow")
        io.write_table(train, data_dir / "train.arrow")
        io.write_table(test, data_dir / "test.arrow")
        io.write_json(summary, data_dir / "prepare.json")
        bar.advance(step="written")
    return {**summary, "seconds": round(time.perf_counter() - started, 3)}


def _upper(max_user_len: int | None) -> int:
    return int(np.iinfo(np.int64).max) if max_user_len is None else int(max_user_len)


IMPORTED_DEFAULTS: dict[str, Any] = {"min_user_len": 1, "max_user_len": None}
"""What imported data gets instead of the presets' user-length filters (which suit the
synthetic log): every user kept, long ones truncated by the encoder's ``max_len``."""


def is_synthetic(raw_dir: Path) -> bool:
    """Whether ``raw_dir`` was written by the synthetic source (it leaves ``synth.json``)."""
    return (Path(raw_dir) / "synth.json").is_file()


def config_for(
    raw_dir: Path, preset: str = "default", *, synthetic: bool | None = None,
    **overrides: Any,
) -> PrepareConfig:
    """The preparation of ``raw_dir``: the preset's settings for the synthetic log; for
    imported data the same but :data:`IMPORTED_DEFAULTS` (no user-length filter) and, with
    a ``raw/split.arrow`` (an official UQABench import), its given split with every user
    and item kept. Non-None ``overrides`` (flags, ``--set``) win over both.

    :param synthetic: whether the log is synthetic; None: :func:`is_synthetic`.
    """
    raw_dir = Path(raw_dir)
    base = PrepareConfig.from_preset(preset)
    if not (is_synthetic(raw_dir) if synthetic is None else synthetic):
        defaults = dict(IMPORTED_DEFAULTS)
        if (raw_dir / "split.arrow").is_file():
            defaults.update(split="given", min_item_count=1)
        base = replace(base, **defaults)
    return config_from_preset(PrepareConfig, {preset: base}, preset, overrides, what="prepare")


def _counts(row: np.ndarray) -> dict[str, int]:
    return {"rows": int(row[0]), "users": int(row[1]), "items": int(row[2])}


def _items_table(items_tab: pa.Table, rows: np.ndarray) -> pa.Table:
    """Surviving items (``rows`` of the raw table, in ascending raw id) with dense ids."""
    sub = items_tab.take(pa.array(rows))
    cols: dict[str, Any] = {"item_id": pa.array(np.arange(1, sub.num_rows + 1, dtype=np.int64))}
    for c in ID_COLUMNS:
        cols[c] = pa.array(_dense(sub.column(c).to_numpy()))
    for c in NAME_COLUMNS:
        cols[c] = sub.column(c)
    cols["raw_item_id"] = sub.column("item_id")
    for c in ID_COLUMNS:
        cols[f"raw_{c}"] = sub.column(c)
    return pa.table(cols, schema=ITEMS)


def _summary(
    config: PrepareConfig, n_rows: int, n_users: int, n_items: int, table_rows: int,
    n_known: int, removed: dict[str, np.ndarray], rounds: list[dict[str, Any]], out_rows: int,
    out_users: int, out_items: int, train: pa.Table, test: pa.Table,
) -> dict[str, Any]:
    filters = {name: _counts(removed[name]) for name in FILTERS}
    totals = {k: sum(f[k] for f in filters.values()) for k in ("rows", "users", "items")}
    inputs = {"rows": n_rows, "users": n_users, "items": n_items}
    outputs = {"rows": out_rows, "users": out_users, "items": out_items}
    reconciles = all(inputs[k] == totals[k] + outputs[k] for k in inputs)
    if not reconciles:  # an internal bug, never a user error
        raise RuntimeError(f"prepare counts do not reconcile: {inputs} != {totals} + {outputs}")

    def seq_rows(t: pa.Table) -> int:
        import pyarrow.compute as pc

        return int(pc.sum(pc.list_value_length(t.column("item_ids"))).as_py() or 0)

    return {
        "config": asdict(config),
        "input": {**inputs, "item_table_rows": table_rows,
                  "item_table_unclicked": table_rows - n_known},
        "filters": filters,
        "rounds": rounds,
        "output": {
            **outputs,
            "train_users": train.num_rows, "test_users": test.num_rows,
            "train_rows": seq_rows(train), "test_rows": seq_rows(test),
        },
        "reconciles": reconciles,
    }


def report_table(summary: dict[str, Any]) -> Any:
    """A rich table of what each filter removed, with input and output totals."""
    from rich.table import Table

    table = Table(title="uqa data prepare")
    for col in ("step", "rows", "users", "items"):
        table.add_column(col, justify="left" if col == "step" else "right")
    inp, out = summary["input"], summary["output"]
    table.add_row("input", *(f"{inp[k]:,}" for k in ("rows", "users", "items")))
    for name, c in summary["filters"].items():
        table.add_row(f"- {name}", *(f"{c[k]:,}" for k in ("rows", "users", "items")))
    table.add_row("= output", *(f"{out[k]:,}" for k in ("rows", "users", "items")), style="bold")
    table.caption = (
        f"{len(summary['rounds'])} filter rounds to the fixpoint; "
        f"train {out['train_users']:,} users / {out['train_rows']:,} clicks, "
        f"test {out['test_users']:,} users / {out['test_rows']:,} clicks"
    )
    return table
