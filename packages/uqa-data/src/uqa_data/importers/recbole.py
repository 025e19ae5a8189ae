"""``recbole`` importer: RecBole atomic files (``NAME.inter`` and optional ``NAME.item``).

Atomic files are tab-separated with a ``field:type`` header (``user_id:token
item_id:token rating:float timestamp:float``). Tokens that are all decimal
integers keep their value; otherwise the sorted distinct tokens are numbered
``1..K`` and the mapping is written to ``raw/recbole_{user,item}_ids.arrow``
(token, id). A ``.inter`` without a ``timestamp`` field is refused unless
``order_by_row=True`` (``--order-by-row``): then each user's clicks keep the
file's row order (timestamps 0, 1, 2...). From ``.item``:
the title from ``title``/``movie_title``/``item_name``, the category from the
first token of ``categories``/``class``/``genre``/``category``, the brand from
``brand``; the rest get placeholder names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from uqa_data.errors import UqaInputError
from uqa_data.importers.common import first_null, items_from_columns, write_raw
from uqa_data.layout import RunLayout

TITLE_FIELDS = ("title", "movie_title", "item_name", "name")
CATEGORY_FIELDS = ("categories", "class", "genre", "category", "cate")


def read_atomic(path: Path) -> pa.Table:
    """An atomic file as string columns named without their ``:type`` suffix."""
    import pyarrow.csv as pcsv

    from uqa_data.io import check_file

    path = check_file(path, "RecBole atomic file")
    with path.open(encoding="utf-8", errors="replace") as fh:
        header = fh.readline().rstrip("\r\n")
        if not header:
            raise UqaInputError(f"{path}: empty file; expected a 'field:type' header line")
        width = len(header.split("\t"))
        for line_no, line in enumerate(fh, start=2):
            line = line.rstrip("\r\n")
            if line and len(line.split("\t")) != width:
                raise UqaInputError(
                    f"{path}: line {line_no} has {len(line.split(chr(9)))} fields; expected "
                    f"{width} like the header (ragged row)"
                )
    fields = header.split("\t")
    for f in fields:
        if ":" not in f:
            raise UqaInputError(
                f"{path}: header field '{f}' has no ':type' (RecBole atomic files use "
                "'name:token', 'name:float'...)"
            )
    names = [f.split(":", 1)[0] for f in fields]
    table = pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(skip_rows=1, column_names=names),
        parse_options=pcsv.ParseOptions(delimiter="\t", quote_char=False),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
            null_values=[],
        ),
    )
    return table


def _need(table: pa.Table, path: Path, name: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        raise UqaInputError(
            f"{path}: missing field '{name}:token'; fields present: "
            f"{', '.join(table.column_names) or '(none)'}"
        )
    col = table.column(name)
    empty = pc.equal(pc.utf8_length(col), 0)
    if pc.any(empty).as_py():
        row = int(pc.index(empty, True).as_py())
        raise UqaInputError(f"{path}: field '{name}' line {row + 2} is empty; expected a token")
    return col


def _token_ids(tokens: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Table | None]:
    """Integer ids for tokens, plus the token -> id mapping when they were not integers."""
    tokens = pc.utf8_trim_whitespace(tokens)
    if pc.all(pc.match_substring_regex(tokens, r"^[0-9]+$")).as_py():
        return np.asarray(pc.cast(tokens, pa.int64()).to_numpy(), dtype=np.int64), None
    uniq = pc.unique(tokens).sort()
    ids = pc.index_in(tokens, value_set=uniq)
    mapping = pa.table({"token": uniq, "id": pa.array(np.arange(1, len(uniq) + 1))})
    return np.asarray(pc.add(ids, 1).to_numpy(), dtype=np.int64), mapping


def _find_files(source: Path) -> tuple[Path, Path | None]:
    source = Path(source)
    if source.is_dir():
        inters = sorted(source.glob("*.inter"))
        if len(inters) != 1:
            raise UqaInputError(
                f"{source}: expected exactly one .inter file, found "
                f"{', '.join(p.name for p in inters) or 'none'}"
            )
        inter = inters[0]
    else:
        inter = source
        if inter.suffix != ".inter":
            raise UqaInputError(f"{source}: --format recbole expects a .inter file or a folder")
    item = inter.with_suffix(".item")
    return inter, item if item.is_file() else None


def import_recbole(source: Path, out_dir: Path, *, order_by_row: bool = False) -> dict[str, Any]:
    """Import RecBole atomic files from ``source`` (folder or ``.inter``) into ``out_dir/raw``.

    :param order_by_row: accept a ``.inter`` without ``timestamp``, ordering each
        user's clicks by their row in the file.
    """
    inter_path, item_path = _find_files(source)
    inter = read_atomic(inter_path)
    if inter.num_rows == 0:
        raise UqaInputError(f"{inter_path}: has a header but no rows; expected interactions")
    user_tokens = _need(inter, inter_path, "user_id")
    item_tokens = _need(inter, inter_path, "item_id")
    if "timestamp" not in inter.column_names and not order_by_row:
        raise UqaInputError(
            f"{inter_path}: no 'timestamp' field (fields: {', '.join(inter.column_names)}); "
            "clicks would be ordered by their row in the file: pass --order-by-row to accept "
            "that, or add a timestamp:float field"
        )
    item_tab = read_atomic(item_path) if item_path else None
    all_items = item_tokens
    if item_tab is not None:
        all_items = pa.chunked_array(
            item_tokens.chunks + _need(item_tab, item_path, "item_id").chunks, pa.string())
    user, user_map = _token_ids(user_tokens)
    all_ids, item_map = _token_ids(all_items)
    item = all_ids[: inter.num_rows]
    if "timestamp" in inter.column_names:
        col = inter.column("timestamp")
        try:
            as_float = pc.cast(col, pa.float64())
        except pa.ArrowInvalid as exc:
            raise UqaInputError(
                f"{inter_path}: field 'timestamp' is not numeric ({exc}); expected seconds"
            ) from exc
        if as_float.null_count:
            raise UqaInputError(
                f"{inter_path}: field 'timestamp' line {first_null(as_float) + 2} is empty")
        ts = np.floor(as_float.to_numpy()).astype(np.int64)
    else:
        ts = np.arange(inter.num_rows, dtype=np.int64)
    cols: dict[str, Any] = {}
    if item_tab is not None:
        ids = all_ids[inter.num_rows:]
        title = next((f for f in TITLE_FIELDS if f in item_tab.column_names), None)
        if title:
            cols["title"] = item_tab.column(title).combine_chunks()
        cate = next((f for f in CATEGORY_FIELDS if f in item_tab.column_names), None)
        if cate:
            first = pc.list_element(pc.split_pattern(
                pc.utf8_trim_whitespace(item_tab.column(cate)), " ", max_splits=1), 0)
            cols["cate_name"] = first.combine_chunks() if isinstance(first, pa.ChunkedArray) \
                else first
            cols["cate_id"] = _token_ids(cols["cate_name"])[0]
        if "brand" in item_tab.column_names:
            cols["brand_name"] = item_tab.column("brand").combine_chunks()
            cols["brand_id"] = _token_ids(cols["brand_name"])[0]
        table = items_from_columns(ids, cols, item_path)
        extra = np.setdiff1d(np.unique(item), ids)
        if extra.size:
            table = pa.concat_tables([table, items_from_columns(extra)])
    else:
        table = items_from_columns(np.unique(item))
    maps = {}
    if user_map is not None:
        maps["recbole_user_ids.arrow"] = user_map
    if item_map is not None:
        maps["recbole_item_ids.arrow"] = item_map
    summary = write_raw(out_dir, user, item, ts, table, extra=maps,
                        without_metadata=int(extra.size) if item_tab is not None else None)
    return {"source": str(inter_path), "item_file": str(item_path) if item_path else None,
            **summary, "token_maps": sorted(str(RunLayout(Path(out_dir)).raw / n) for n in maps),
            "order": "timestamp" if "timestamp" in inter.column_names else "row order"}
