"""Shared pieces of the importers: column coercion, placeholder names, writing raw/.

Every importer ends in :func:`write_raw`, which checks the log and the item table
completely before writing anything, so a bad input leaves no output file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from uqa_data import io
from uqa_data.errors import UqaInputError
from uqa_data.layout import RunLayout
from uqa_data.schemas import ID_COLUMNS, NAME_COLUMNS, RAW_INTERACTIONS, RAW_ITEMS

PLACEHOLDER = {
    "title": "item {}",
    "cate_name": "category {}",
    "brand_name": "brand {}",
    "shop_name": "shop {}",
    "seller_name": "seller {}",
}
"""Names given to items whose source has no text for them (filled with the raw id)."""
NAME_OF_ID = {"title": "item_id", "cate_name": "cate_id", "brand_name": "brand_id",
              "shop_name": "shop_id", "seller_name": "seller_id"}


def first_null(arr: pa.Array | pa.ChunkedArray) -> int:
    """Index of the first null of ``arr`` (which has at least one)."""
    return int(pc.index(pc.is_null(arr), True).as_py())


def int_ids(
    path: Path, name: str, arr: pa.Array | pa.ChunkedArray, *, non_negative: bool = True,
    row_base: int = 0, unit: str = "row", expected: str = "integers",
) -> np.ndarray:
    """An id column as int64: integer (or timestamp/date) columns only, no nulls, ``>= 0``.

    :param row_base: added to 0-based row numbers in messages (2 with ``unit="line"``
        gives a CSV's line numbers under its header).
    :param expected: what the message says the column should hold.
    """
    if arr.null_count:
        raise UqaInputError(
            f"{path}: column '{name}' {unit} {row_base + first_null(arr)} is empty; "
            "expected an integer"
        )
    if pa.types.is_timestamp(arr.type):
        arr = pc.cast(pc.cast(arr, pa.timestamp("s")), pa.int64())
    elif pa.types.is_date(arr.type):
        arr = pc.multiply(pc.cast(pc.cast(arr, pa.date32()), pa.int64()), 86400)
    if not pa.types.is_integer(arr.type):
        row = _first_non_integer(arr)
        where = f" ({unit} {row_base + row}: {arr[row].as_py()!r})" if row is not None else ""
        raise UqaInputError(
            f"{path}: column '{name}' has type {arr.type}{where}; expected {expected}"
        )
    values = np.asarray(arr.to_numpy(), dtype=np.int64) if isinstance(arr, pa.ChunkedArray) \
        else np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.int64)
    if non_negative and values.size:
        bad = np.flatnonzero(values < 0)
        if bad.size:
            raise UqaInputError(
                f"{path}: column '{name}' {unit} {row_base + int(bad[0])} is "
                f"{int(values[bad[0]])}; "
                "expected an id >= 0"
            )
    return values


def _first_non_integer(arr: pa.Array | pa.ChunkedArray) -> int | None:
    """The first value that is not an integer (text that does not parse, a fraction)."""
    for i, v in enumerate(arr.to_pylist()):
        if isinstance(v, str):
            if not v.strip().lstrip("-").isdigit():
                return i
        elif isinstance(v, float):
            if not v.is_integer():
                return i
        elif not isinstance(v, int) or isinstance(v, bool):
            return i
    return None


def items_from_columns(
    item_ids: np.ndarray, columns: dict[str, Any] | None = None, path: Path | None = None,
    row_base: int = 0, unit: str = "row",
) -> pa.Table:
    """A raw item table: ``item_ids`` plus whatever id/name ``columns`` the source has.

    Missing id columns become 0 (one shared group); missing names become placeholders
    (``"item 123"``, ``"category 7"``...).
    """
    columns = columns or {}
    n = item_ids.shape[0]
    if path is not None:
        _check_unique(item_ids, f"{path}: column 'item_id'", row_base, unit)
    cols: dict[str, Any] = {"item_id": pa.array(item_ids, pa.int64())}
    for c in ID_COLUMNS:
        cols[c] = pa.array(columns[c], pa.int64()) if c in columns else pa.array(
            np.zeros(n, dtype=np.int64))
    for c in NAME_COLUMNS:
        if c in columns:
            arr = pa.array(columns[c]) if not isinstance(columns[c], pa.Array | pa.ChunkedArray) \
                else columns[c]
            arr = pc.cast(arr, pa.string())
        else:
            ids = cols[NAME_OF_ID[c]]
            prefix = PLACEHOLDER[c].split("{}")[0]
            arr = pc.binary_join_element_wise(
                pa.array(np.full(n, prefix.strip(), dtype=object), pa.string()),
                pc.cast(ids, pa.string()), " ",
            )
        if arr.null_count:
            arr = pc.fill_null(arr, "")
        cols[c] = arr
    table = pa.table(cols)
    return table.cast(RAW_ITEMS)


def _check_unique(ids: np.ndarray, where: str, row_base: int = 0, unit: str = "row") -> np.ndarray:
    """The sorted distinct ``ids``; raise naming the first row that repeats an earlier id."""
    uniq, first = np.unique(ids, return_index=True)
    if uniq.shape[0] != ids.shape[0]:
        seen = np.zeros(ids.shape[0], dtype=bool)
        seen[first] = True
        row = int(np.flatnonzero(~seen)[0])
        raise UqaInputError(
            f"{where} {unit} {row_base + row} repeats item {int(ids[row])}; "
            "expected one row per item"
        )
    return uniq


def write_raw(
    out_dir: Path, user: np.ndarray, item: np.ndarray, ts: np.ndarray, items: pa.Table,
    extra: dict[str, pa.Table] | None = None, *, without_metadata: int | None = None,
) -> dict[str, Any]:
    """Write ``raw/interactions.arrow``, ``raw/items.arrow`` (and ``extra``: file name in
    ``raw/`` -> table) after checking the log is non-empty and the item ids unique; any
    other file in ``raw/`` (an earlier import's ``split.arrow``, a synthetic log's
    ``synth.json`` and ``truth.arrow``) is removed, as it described the data replaced.

    :param without_metadata: clicked items the given item table did not describe
        (they got placeholder names); reported as ``clicked_items_without_metadata``
        only when an item table was given.
    """
    if user.shape[0] == 0:
        raise UqaInputError("the imported log has no clicks; expected at least one row")
    ids = items.column("item_id").to_numpy()
    uniq = _check_unique(ids, "item table: column 'item_id'")
    log = pa.Table.from_arrays(
        [pa.array(user, pa.int64()), pa.array(item, pa.int64()), pa.array(ts, pa.int64())],
        schema=RAW_INTERACTIONS,
    )
    log = pa.Table.from_batches(log.to_batches(max_chunksize=1 << 20), schema=RAW_INTERACTIONS)
    raw = RunLayout(Path(out_dir)).raw
    io.write_table(items, raw / "items.arrow")
    io.write_table(log, raw / "interactions.arrow")
    for name, table in (extra or {}).items():
        io.write_table(table, raw / name)
    written = {"items.arrow", "interactions.arrow", *(extra or {})}
    for stale in sorted(raw.iterdir()):  # an earlier import's split, a synthetic log's truth
        if stale.is_file() and stale.name not in written and not stale.name.startswith("."):
            stale.unlink()
    summary = {
        "rows": int(user.shape[0]),
        "users": int(np.unique(user).shape[0]),
        "items": int(uniq.shape[0]),
    }
    if without_metadata is not None:
        summary["clicked_items_without_metadata"] = int(without_metadata)
    return summary
