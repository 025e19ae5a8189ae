"""The inputs of question generation as flat numpy arrays: item catalog and click sequences."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from uqa_data.errors import UqaInputError
from uqa_data.io import INT, STRING, list_of, read_table

ATTRIBUTES: dict[str, tuple[str, str]] = {
    "category": ("cate_id", "cate_name"),
    "brand": ("brand_id", "brand_name"),
    "shop": ("shop_id", "shop_name"),
}
"""Attribute a question may ask about -> (id column, name column) of ``data/items.arrow``."""

ITEM_COLUMNS = {
    "item_id": (INT, "int64 dense item id 1..N"),
    "title": (STRING, "string"),
    **{c: (INT, "int64 dense id 1..K") for c, _ in ATTRIBUTES.values()},
    **{n: (STRING, "string") for _, n in ATTRIBUTES.values()},
}
SEQUENCE_COLUMNS = {
    "user_id": (INT, "int64"),
    "item_ids": (list_of(INT), "list<int64> of dense item ids, oldest first"),
}


def _strings(table: pa.Table, column: str) -> np.ndarray:
    """A string column as an object array (nulls become empty strings)."""
    col = table.column(column).fill_null("")
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=object)


@dataclass
class Catalog:
    """Item facts indexed by dense item id (row 0 is padding).

    :param titles: item id -> title.
    :param attr_ids: attribute -> (item id -> dense attribute id).
    :param attr_names: attribute -> (attribute id -> name).
    """

    titles: np.ndarray
    attr_ids: dict[str, np.ndarray]
    attr_names: dict[str, np.ndarray]

    @property
    def n_items(self) -> int:
        return len(self.titles) - 1

    def __post_init__(self) -> None:
        self.names: dict[str, list[str]] = {
            "title": [str(x) for x in self.titles.tolist()],
            **{a: [str(x) for x in v.tolist()] for a, v in self.attr_names.items()},
        }
        """Attribute -> value id -> display text, as Python lists (fast scalar look-ups)."""

    def name(self, attribute: str, value: int) -> str:
        """Display text of attribute id ``value`` (``title`` takes an item id)."""
        return self.names[attribute][value]

    def name_list(self, attribute: str) -> list[str]:
        """Value id -> display text for ``attribute`` (``title``: item id -> title)."""
        return self.names[attribute]

    def lookup(self, attribute: str) -> np.ndarray:
        """Item id -> value id of ``attribute`` (``title``: the identity), for the kernels."""
        if attribute != "title":
            return self.attr_ids[attribute]
        if "_identity" not in self.__dict__:
            self.__dict__["_identity"] = np.arange(len(self.titles), dtype=np.int64)
        return self.__dict__["_identity"]

    def values_of(self, attribute: str, items: np.ndarray) -> np.ndarray:
        """Attribute ids of ``items`` (for ``title``, the item ids themselves)."""
        if attribute == "title":
            return items
        return self.attr_ids[attribute][items]

    def n_values(self, attribute: str) -> int:
        """Largest id + 1 of ``attribute`` (item count + 1 for ``title``)."""
        return len(self.titles) if attribute == "title" else len(self.attr_names[attribute])

    @classmethod
    def from_table(cls, table: pa.Table, path: str | Path = "items table") -> Catalog:
        """Build from an ``items.arrow`` table; item ids must be dense 1..N."""
        from uqa_data.io import check_columns

        check_columns(table, ITEM_COLUMNS, path)
        ids = table.column("item_id").to_numpy().astype(np.int64)
        n = len(ids)
        if n == 0:
            raise UqaInputError(f"{path}: has no rows; expected one row per item")
        if ids.min() < 1 or ids.max() != n or np.bincount(ids, minlength=n + 1).max() != 1:
            raise UqaInputError(
                f"{path}: column 'item_id' must hold the dense ids 1..{n} once each "
                f"(got min {ids.min()}, max {ids.max()})"
            )
        titles = np.empty(n + 1, dtype=object)
        titles[0] = ""
        titles[ids] = _strings(table, "title")
        attr_ids: dict[str, np.ndarray] = {}
        attr_names: dict[str, np.ndarray] = {}
        for attr, (id_col, name_col) in ATTRIBUTES.items():
            vals = table.column(id_col).to_numpy().astype(np.int64)
            if vals.min() < 1:
                row = int(np.argmax(vals < 1))
                raise UqaInputError(
                    f"{path}: column '{id_col}' row {row} is {vals[row]}; expected dense ids >= 1"
                )
            per_item = np.zeros(n + 1, dtype=np.int64)
            per_item[ids] = vals
            names = np.empty(int(vals.max()) + 1, dtype=object)
            names[:] = ""
            # the name on each id's first row (only those rows become Python strings)
            uniq, first = np.unique(vals, return_index=True)
            names[uniq] = _strings(table.select([name_col]).take(pa.array(first)), name_col)
            attr_ids[attr] = per_item
            attr_names[attr] = names
        return cls(titles=titles, attr_ids=attr_ids, attr_names=attr_names)

    @classmethod
    def load(cls, path: str | Path) -> Catalog:
        """Read ``data/items.arrow``."""
        return cls.from_table(read_table(path, ITEM_COLUMNS, what="item table"), path)


@dataclass
class Sequences:
    """One split's click sequences, flattened.

    User row ``u`` clicked ``items[offsets[u]:offsets[u+1]]``, oldest first.
    """

    split: str
    user_ids: np.ndarray
    offsets: np.ndarray
    items: np.ndarray
    _attr_cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def lengths(self) -> np.ndarray:
        """Clicks per user row."""
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.user_ids)

    def sequence(self, u: int) -> np.ndarray:
        return self.items[self.offsets[u] : self.offsets[u + 1]]

    def attr_values(self, catalog: Catalog, attribute: str) -> np.ndarray:
        """``items`` mapped to attribute ids (materialised once per attribute and cached;
        the built-in tasks use :meth:`Catalog.lookup` with the kernels instead)."""
        if attribute not in self._attr_cache:
            self._attr_cache[attribute] = np.ascontiguousarray(
                catalog.values_of(attribute, self.items)
            )
        return self._attr_cache[attribute]

    @classmethod
    def load(cls, path: str | Path, split: str, n_items: int) -> Sequences:
        """Read ``data/train.arrow`` or ``data/test.arrow`` and check ids against the catalog."""
        table = read_table(path, SEQUENCE_COLUMNS, what=f"{split} sequences")
        col = table.column("item_ids").combine_chunks()
        if pa.types.is_large_list(col.type) or pa.types.is_fixed_size_list(col.type):
            col = col.cast(pa.list_(pa.int64()))
        if col.null_count:
            row = int(np.argmax(col.is_null().to_numpy(zero_copy_only=False)))
            raise UqaInputError(f"{path}: column 'item_ids' row {row} is null; expected a list")
        offsets = np.asarray(col.offsets.to_numpy(), dtype=np.int64)
        offsets = offsets - offsets[0]
        items = np.asarray(pc.cast(col.flatten(), pa.int64()).to_numpy(), dtype=np.int64)
        if len(items) and (items.min() < 1 or items.max() > n_items):
            bad = int(np.argmax((items < 1) | (items > n_items)))
            row = int(np.searchsorted(offsets, bad, side="right") - 1)
            raise UqaInputError(
                f"{path}: column 'item_ids' row {row} holds item id {items[bad]}; "
                f"expected ids 1..{n_items} of data/items.arrow"
            )
        user_ids = np.asarray(table.column("user_id").to_numpy(), dtype=np.int64)
        return cls(split=split, user_ids=user_ids, offsets=offsets, items=items)
