"""Reading ``data/items.arrow`` and ``data/<split>.arrow`` into arrays the encoders use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from uqa_data.errors import UqaInputError
from uqa_data.io import INT, STRING, list_of, read_table

from uqa_encoders.text import token_bags

SIDE_COLUMNS: tuple[str, ...] = ("cate_id", "brand_id", "shop_id", "seller_id")
TEXT_COLUMNS: tuple[str, ...] = ("title", "cate_name", "brand_name", "shop_name", "seller_name")

ITEM_COLUMNS = {
    "item_id": (INT, "int64 dense item id 1..N"),
    **{c: (INT, "int64 dense id 1..K") for c in SIDE_COLUMNS},
    **{c: (STRING, "string") for c in TEXT_COLUMNS},
}
SEQ_COLUMNS = {
    "user_id": (INT, "int64"),
    "item_ids": (list_of(INT), "list<int64> of item ids"),
}


@dataclass
class ItemFeatures:
    """Per-item features indexed by item id (row 0 is padding).

    :param side: ``[N+1, 4]`` int64 cate/brand/shop/seller ids (0 = padding).
    :param side_sizes: embedding table size of each side column (max id + 1).
    :param tokens: ``[N+1, T]`` hashed text token ids (0 = padding).
    """

    num_items: int
    side: np.ndarray
    side_sizes: tuple[int, ...]
    tokens: np.ndarray
    text_vocab: int


def load_items(data_dir: Path, *, text_vocab: int, max_tokens: int) -> ItemFeatures:
    """Read ``data_dir/items.arrow``; item ids must be dense ``1..N``."""
    path = Path(data_dir) / "items.arrow"
    table = read_table(path, ITEM_COLUMNS, what="item table", allow_empty=False)
    ids = table.column("item_id").to_numpy().astype(np.int64)
    n = len(ids)
    if ids.min() < 1 or ids.max() != n or len(np.unique(ids)) != n:
        bad = int(np.flatnonzero((ids < 1) | (ids > n))[0]) if (ids < 1).any() or (
            ids > n).any() else 0
        raise UqaInputError(
            f"{path}: column 'item_id' must hold the dense ids 1..{n} once each "
            f"(0 is padding); first suspicious row {bad} has {int(ids[bad])}"
        )
    order = np.argsort(ids)
    side = np.zeros((n + 1, len(SIDE_COLUMNS)), dtype=np.int64)
    sizes = []
    for j, col in enumerate(SIDE_COLUMNS):
        values = pc.fill_null(table.column(col), 0).to_numpy().astype(np.int64)[order]
        if values.min() < 0:
            row = int(np.flatnonzero(values < 0)[0])
            raise UqaInputError(f"{path}: column '{col}' row {row} is negative; expected 1..K")
        side[1:, j] = values
        sizes.append(int(values.max()) + 1)
    texts_cols = [table.column(c).to_pylist() for c in TEXT_COLUMNS]
    rows = [[texts_cols[c][i] for c in range(len(TEXT_COLUMNS))] for i in order]
    tokens = np.zeros((n + 1, max_tokens), dtype=np.int64)
    tokens[1:] = token_bags(rows, text_vocab, max_tokens)
    return ItemFeatures(n, side, tuple(sizes), tokens, text_vocab)


@dataclass
class Sequences:
    """Click sequences of one split, as offsets into one flat array."""

    path: Path
    user_ids: np.ndarray
    offsets: np.ndarray  # [U+1]
    items: np.ndarray  # flat int64
    times: np.ndarray | None = None  # flat int64 timestamps, aligned with items

    def __len__(self) -> int:
        return len(self.user_ids)

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def get(self, i: int) -> np.ndarray:
        return self.items[self.offsets[i] : self.offsets[i + 1]]

    def get_times(self, i: int) -> np.ndarray | None:
        if self.times is None:
            return None
        return self.times[self.offsets[i] : self.offsets[i + 1]]


def load_sequences(data_dir: Path, split: str, *, num_items: int) -> Sequences:
    """Read ``data_dir/<split>.arrow``; every sequence non-empty, ids in ``1..num_items``."""
    path = Path(data_dir) / f"{split}.arrow"
    table = read_table(path, SEQ_COLUMNS, what=f"{split} split", allow_empty=False)
    col = table.column("item_ids").combine_chunks()
    if isinstance(col, pa.ChunkedArray):  # pragma: no cover - pyarrow versions
        col = col.chunk(0)
    if col.null_count:
        row = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
        raise UqaInputError(f"{path}: column 'item_ids' row {row} is null; expected a list")
    offsets = col.offsets.to_numpy().astype(np.int64)
    offsets = offsets - offsets[0]
    items = pc.fill_null(col.flatten(), -1).to_numpy().astype(np.int64)
    lengths = np.diff(offsets)
    if (lengths == 0).any():
        row = int(np.flatnonzero(lengths == 0)[0])
        raise UqaInputError(
            f"{path}: column 'item_ids' row {row} (user_id "
            f"{table.column('user_id')[row].as_py()}) is an empty sequence; "
            "expected at least one click"
        )
    bad = (items < 1) | (items > num_items)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        row = int(np.searchsorted(offsets, pos, side="right") - 1)
        raise UqaInputError(
            f"{path}: column 'item_ids' row {row} holds item id {int(items[pos])}, "
            f"beyond the item vocabulary 1..{num_items} of items.arrow"
        )
    user_ids = table.column("user_id").to_numpy().astype(np.int64)
    times = None
    if "timestamps" in table.column_names:
        tcol = table.column("timestamps").combine_chunks()
        t_offsets = tcol.offsets.to_numpy().astype(np.int64)
        t_offsets = t_offsets - t_offsets[0]
        if tcol.null_count == 0 and np.array_equal(t_offsets, offsets):
            times = pc.fill_null(tcol.flatten(), 0).to_numpy().astype(np.int64)
        else:
            lens = np.diff(t_offsets)
            bad = np.flatnonzero(lens != lengths)
            row = int(bad[0]) if len(bad) else 0
            raise UqaInputError(
                f"{path}: column 'timestamps' row {row} has {int(lens[row])} values but "
                f"'item_ids' has {int(lengths[row])}; expected one timestamp per click"
            )
    return Sequences(path, user_ids, offsets, items, times)
