"""Reading and validating ``raw/interactions.arrow`` and ``raw/items.arrow``.

The interaction log is streamed record batch by record batch from a memory map
into preallocated int64 arrays; every batch is checked for nulls and negative
ids, and errors name the file, the column and the first bad row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from uqa_data import io
from uqa_data.errors import UqaInputError
from uqa_data.schemas import ID_COLUMNS, NAME_COLUMNS, RAW_INTERACTION_CHECKS, RAW_ITEM_CHECKS


def _first_null(arr: pa.Array | pa.ChunkedArray) -> int:
    return int(pc.index(pc.is_null(arr), True).as_py())


def check_int_column(
    path: Path, name: str, arr: pa.Array | pa.ChunkedArray, offset: int = 0, *,
    non_negative: bool = True,
) -> np.ndarray:
    """``arr`` as int64 numpy; raise naming the first null or negative row."""
    from uqa_data.prepare.kernels import check_ids

    if arr.null_count:
        row = offset + _first_null(arr)
        raise UqaInputError(f"{path}: column '{name}' row {row} is null; expected an integer")
    values = np.asarray(arr.to_numpy(zero_copy_only=False) if isinstance(arr, pa.Array)
                        else arr.to_numpy(), dtype=np.int64)
    if non_negative:
        bad = check_ids(values)
        if bad >= 0:
            raise UqaInputError(
                f"{path}: column '{name}' row {offset + bad} is {int(values[bad])}; "
                "expected an id >= 0"
            )
    return values


def read_interactions(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(user_id, item_id, timestamp)`` int64 arrays of an interaction log file."""
    from uqa_data.io import check_file, is_arrow_stream

    path = check_file(path, "interaction log")
    try:
        source = pa.memory_map(str(path), "r")
        reader = ipc.open_file(source)
    except (pa.ArrowInvalid, OSError) as exc:
        if is_arrow_stream(path):
            raise UqaInputError(f"{path}: not a readable Arrow IPC file (an Arrow IPC stream; "
                                "write the file format: pyarrow.ipc.new_file or "
                                "pyarrow.feather.write_feather)") from exc
        raise UqaInputError(
            f"{path}: not a readable Arrow IPC file (truncated or another format?): {exc}"
        ) from exc
    schema = reader.schema
    for name, (check, expected) in RAW_INTERACTION_CHECKS.items():
        if name not in schema.names:
            raise UqaInputError(
                f"{path}: missing column '{name}' (expected {expected}); "
                f"columns present: {', '.join(schema.names) or '(none)'}"
            )
        if not check(schema.field(name).type):
            raise UqaInputError(
                f"{path}: column '{name}' has type {schema.field(name).type}; expected {expected}"
            )
    try:
        batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
        total = sum(b.num_rows for b in batches)
    except (pa.ArrowInvalid, OSError) as exc:
        raise UqaInputError(f"{path}: truncated or corrupt Arrow IPC file: {exc}") from exc
    if total == 0:
        raise UqaInputError(f"{path}: has no rows; expected at least one click")
    from uqa_data.prepare.kernels import copy_checked

    out = {name: np.empty(total, dtype=np.int64) for name in RAW_INTERACTION_CHECKS}
    offset = 0
    for batch in batches:  # one record batch at a time: checked and copied in one pass
        for name in RAW_INTERACTION_CHECKS:
            col = batch.column(batch.schema.get_field_index(name))
            if col.null_count:
                row = offset + _first_null(col)
                raise UqaInputError(
                    f"{path}: column '{name}' row {row} is null; expected an integer"
                )
            if col.type != pa.int64():
                try:
                    col = col.cast(pa.int64())
                except pa.ArrowInvalid as exc:
                    raise UqaInputError(
                        f"{path}: column '{name}' (rows {offset}..{offset + batch.num_rows - 1})"
                        f" has values that do not fit int64: {exc}"
                    ) from exc
            values = col.to_numpy(zero_copy_only=False)
            bad = copy_checked(values, out[name], offset, name != "timestamp")
            if bad >= 0:
                raise UqaInputError(
                    f"{path}: column '{name}' row {offset + bad} is {int(values[bad])}; "
                    "expected an id >= 0"
                )
        offset += batch.num_rows
    source.close()
    return out["user_id"], out["item_id"], out["timestamp"]


def read_items(path: Path) -> tuple[pa.Table, np.ndarray]:
    """The raw item table, checked (integer ids >= 0, unique item_id, no null names),
    and the row order that sorts its item ids."""
    path = Path(path)
    # In memory (not memory-mapped): the later random ``take`` of rows is much faster.
    table = io.read_table(path, RAW_ITEM_CHECKS, what="raw item table").combine_chunks()
    for name in ("item_id", *ID_COLUMNS):
        check_int_column(path, name, table.column(name))
    for name in NAME_COLUMNS:
        col = table.column(name)
        if col.null_count:
            raise UqaInputError(
                f"{path}: column '{name}' row {_first_null(col)} is null; expected a string"
            )
    ids = table.column("item_id").to_numpy()
    order = np.argsort(ids, kind="stable")
    same = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if same.size:
        row = int(order[same + 1].min())  # stable sort: later rows repeat earlier ones
        raise UqaInputError(
            f"{path}: column 'item_id' row {row} repeats item id {int(ids[row])}; "
            "expected one row per item"
        )
    table = table.select(["item_id", *ID_COLUMNS, *NAME_COLUMNS]).cast(
        pa.schema(
            [("item_id", pa.int64())]
            + [(c, pa.int64()) for c in ID_COLUMNS]
            + [(c, pa.string()) for c in NAME_COLUMNS]
        )
    )
    return table, order
