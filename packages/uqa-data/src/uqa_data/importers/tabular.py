"""``csv`` and ``parquet`` importers: an interaction log plus an optional item table.

The log needs a user id, an item id and a timestamp column (names set by
``--user-col``, ``--item-col``, ``--time-col``); ids are integers >= 0, timestamps
integers or timestamp/date values (stored as seconds). The optional item table
(``--items``, CSV or Parquet by suffix) has the item id column and any of
``cate_id, brand_id, shop_id, seller_id, title, cate_name, brand_name, shop_name,
seller_name``; what it lacks, and clicked items it does not list, get placeholder
names (``"item 123"``).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from uqa_data.errors import UqaInputError
from uqa_data.importers.common import int_ids, items_from_columns, write_raw
from uqa_data.schemas import ID_COLUMNS, NAME_COLUMNS


def read_csv(path: Path, delimiter: str = ",") -> pa.Table:
    """Read a CSV with a header; a ragged row or an empty file names the file and line."""
    import pyarrow.csv as pcsv

    from uqa_data.io import check_file

    path = check_file(path, "CSV file")
    if path.stat().st_size == 0:
        raise UqaInputError(f"{path}: empty file; expected a header line and rows")
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if b"\x00" in head or head.startswith(b"PAR1"):
        kind = "a Parquet file" if head.startswith(b"PAR1") else "binary content"
        raise UqaInputError(f"{path}: not a text file ({kind}); expected CSV text with a "
                            "header line" + (" (--format parquet)" if "Parquet" in kind else ""))
    try:
        return pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=delimiter))
    except pa.ArrowInvalid as exc:
        line, n, expected = _ragged_line(path, delimiter)
        if line is not None:
            raise UqaInputError(
                f"{path}: line {line} has {n} fields; expected {expected} like the header "
                "(ragged row)"
            ) from exc
        raise UqaInputError(f"{path}: not a readable CSV file: {exc}") from exc


def _ragged_line(path: Path, delimiter: str) -> tuple[int | None, int, int]:
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader, [])
        for row in reader:
            if row and len(row) != len(header):
                return reader.line_num, len(row), len(header)
    return None, 0, len(header)


def check_unique_columns(table: pa.Table, path: Path) -> pa.Table:
    """Raise naming the first column name the header repeats."""
    seen: dict[str, int] = {}
    for i, name in enumerate(table.column_names, start=1):
        if name in seen:
            raise UqaInputError(
                f"{path}: the header repeats column '{name}' (columns {seen[name]} and {i}); "
                "expected each column name once"
            )
        seen[name] = i
    return table


def read_any(path: Path, delimiter: str = ",") -> tuple[pa.Table, int, str]:
    """``(table, row_base, unit)``: a CSV (line numbers) or Parquet/Arrow file (rows)."""
    path = Path(path)
    if path.is_dir():
        raise UqaInputError(f"{path}: is a directory; expected a log file")
    table, base, unit = _read_any(path, delimiter)
    return check_unique_columns(table, path), base, unit


def _read_any(path: Path, delimiter: str) -> tuple[pa.Table, int, str]:
    if path.suffix in (".csv", ".tsv", ".txt"):
        return read_csv(path, "\t" if path.suffix == ".tsv" else delimiter), 2, "line"
    if path.suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        from uqa_data.io import check_file

        check_file(path, "Parquet file")
        try:
            return pq.read_table(path), 0, "row"
        except (pa.ArrowInvalid, OSError) as exc:
            raise UqaInputError(
                f"{path}: not a readable Parquet file (truncated or another format?): {exc}"
            ) from exc
    from uqa_data import io

    return io.read_table(path), 0, "row"


def _column(table: pa.Table, path: Path, name: str, flag: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        raise UqaInputError(
            f"{path}: missing column '{name}' (set {flag} to the right name); "
            f"columns present: {', '.join(table.column_names) or '(none)'}"
        )
    return table.column(name)


def import_table(
    source: Path, out_dir: Path, *, items: Path | None = None, user_col: str = "user_id",
    item_col: str = "item_id", time_col: str = "timestamp", delimiter: str = ",",
) -> dict[str, Any]:
    """Import a CSV or Parquet log (by suffix) and an optional item table into ``out_dir/raw``."""
    source = Path(source)
    log, base, unit = read_any(source, delimiter)
    if log.num_rows == 0:
        what = "has a header but no rows" if unit == "line" else "has no rows"
        raise UqaInputError(f"{source}: {what}; expected clicks")
    user = int_ids(source, user_col, _column(log, source, user_col, "--user-col"),
                   row_base=base, unit=unit)
    item = int_ids(source, item_col, _column(log, source, item_col, "--item-col"),
                   row_base=base, unit=unit)
    ts = int_ids(source, time_col, _column(log, source, time_col, "--time-col"),
                 row_base=base, unit=unit, non_negative=False,
                 expected="integers (seconds), timestamps or dates")
    clicked = np.unique(item)
    if items is None:
        table = items_from_columns(clicked)
        missing = clicked.shape[0]
    else:
        items = Path(items)
        itab, ibase, iunit = read_any(items, delimiter)
        ids = int_ids(items, item_col, _column(itab, items, item_col, "--item-col"),
                      row_base=ibase, unit=iunit)
        cols: dict[str, Any] = {}
        for c in ID_COLUMNS:
            if c in itab.column_names:
                cols[c] = int_ids(items, c, itab.column(c), row_base=ibase, unit=iunit)
        for c in NAME_COLUMNS:
            if c in itab.column_names:
                cols[c] = itab.column(c).combine_chunks()
        table = items_from_columns(ids, cols, items, row_base=ibase, unit=iunit)
        extra_ids = np.setdiff1d(clicked, ids)
        missing = extra_ids.shape[0]
        if missing:
            table = pa.concat_tables([table, items_from_columns(extra_ids)])
    summary = write_raw(out_dir, user, item, ts, table,
                        without_metadata=None if items is None else missing)
    return {"source": str(source), **summary, "items_given_placeholder_names": int(missing)}


def import_csv(
    source: Path, out_dir: Path, *, items: Path | None = None, user_col: str = "user_id",
    item_col: str = "item_id", time_col: str = "timestamp", delimiter: str = ",",
) -> dict[str, Any]:
    """The ``csv`` dataset: a comma- (or ``delimiter``-) separated log with a header."""
    if Path(source).is_dir():
        raise UqaInputError(f"{source}: is a directory; --format csv expects a .csv file")
    if Path(source).suffix not in (".csv", ".tsv", ".txt"):
        raise UqaInputError(f"{source}: --format csv expects a .csv, .tsv or .txt file")
    return import_table(source, out_dir, items=items, user_col=user_col, item_col=item_col,
                        time_col=time_col, delimiter=delimiter)


def import_parquet(
    source: Path, out_dir: Path, *, items: Path | None = None, user_col: str = "user_id",
    item_col: str = "item_id", time_col: str = "timestamp",
) -> dict[str, Any]:
    """The ``parquet`` dataset: a Parquet log (and optional Parquet or CSV item table)."""
    if Path(source).is_dir():
        raise UqaInputError(f"{source}: is a directory; --format parquet expects a .parquet file")
    if Path(source).suffix not in (".parquet", ".pq"):
        raise UqaInputError(f"{source}: --format parquet expects a .parquet file")
    return import_table(source, out_dir, items=items, user_col=user_col, item_col=item_col,
                        time_col=time_col)
