"""Arrow schemas of the data stage's files, and the column checks used to read them.

``raw/`` holds the log as a source wrote it (raw ids, any int64 >= 0);
``data/`` holds the prepared files (dense ids, 0 reserved for padding).

raw/truth.arrow (synthetic source only): one row per user, raw ids throughout.

- ``user_id``: the raw user id (``data/*.arrow`` keep raw user ids, so it joins directly).
- ``interest_cate_ids`` / ``interest_weights``: the long-term interest mixture over
  raw category ids, heaviest first (weights sum to 1).
- ``pref_brand_ids`` / ``pref_shop_ids``: one preferred raw brand / shop id per
  interest category, aligned with ``interest_cate_ids``.
- ``phase_cate_ids``: the planted trajectory of the dominant category, one per
  phase; ``phase_start_pos``: the index of each phase's first click in the user's
  raw time-ordered sequence (duplicated log rows counted once);
  ``phase_start_ts``: that click's timestamp. A drift point is every phase start
  after the first. Prepared sequences lose filtered clicks, so locate a phase in
  ``data/`` by timestamp: its first click with ``timestamp >= phase_start_ts``.
- ``noise_rate``, ``repeat_rate``: the user's planted shares of noise and repeat clicks.
- ``n_clicks``: planted clicks (before duplicates are logged).

To map raw ids to the dense ids of ``data/items.arrow``, use its ``raw_item_id``,
``raw_cate_id``, ``raw_brand_id``, ``raw_shop_id`` and ``raw_seller_id`` columns
(or the names, e.g. ``cate_name``, which the synthetic source makes unique).
"""

from __future__ import annotations

import pyarrow as pa

from uqa_data.io import INT, STRING, ColumnCheck, list_of

ID_COLUMNS: tuple[str, ...] = ("cate_id", "brand_id", "shop_id", "seller_id")
NAME_COLUMNS: tuple[str, ...] = ("title", "cate_name", "brand_name", "shop_name", "seller_name")

RAW_INTERACTIONS = pa.schema(
    [("user_id", pa.int64()), ("item_id", pa.int64()), ("timestamp", pa.int64())]
)
RAW_ITEMS = pa.schema(
    [("item_id", pa.int64())]
    + [(c, pa.int64()) for c in ID_COLUMNS]
    + [(c, pa.string()) for c in NAME_COLUMNS]
)
TRUTH = pa.schema(
    [
        ("user_id", pa.int64()),
        ("interest_cate_ids", pa.list_(pa.int64())),
        ("interest_weights", pa.list_(pa.float64())),
        ("pref_brand_ids", pa.list_(pa.int64())),
        ("pref_shop_ids", pa.list_(pa.int64())),
        ("phase_cate_ids", pa.list_(pa.int64())),
        ("phase_start_pos", pa.list_(pa.int64())),
        ("phase_start_ts", pa.list_(pa.int64())),
        ("noise_rate", pa.float64()),
        ("repeat_rate", pa.float64()),
        ("n_clicks", pa.int64()),
    ]
)
ITEMS = pa.schema(
    [("item_id", pa.int64())]
    + [(c, pa.int64()) for c in ID_COLUMNS]
    + [(c, pa.string()) for c in NAME_COLUMNS]
    + [("raw_item_id", pa.int64())]
    + [(f"raw_{c}", pa.int64()) for c in ID_COLUMNS]
)
SEQUENCES = pa.schema(
    [
        ("user_id", pa.int64()),
        ("item_ids", pa.list_(pa.int64())),
        ("timestamps", pa.list_(pa.int64())),
        ("train_len", pa.int64()),
    ]
)
"""data/train.arrow and data/test.arrow. With ``--split temporal`` test.arrow holds
each user's whole sequence and train.arrow its first clicks; ``train_len`` (int64,
both files) says how many leading clicks of the row are also in train.arrow."""

Checks = dict[str, tuple[ColumnCheck, str]]

RAW_INTERACTION_CHECKS: Checks = {
    "user_id": (INT, "integer user ids"),
    "item_id": (INT, "integer item ids"),
    "timestamp": (INT, "integer timestamps (seconds)"),
}
RAW_ITEM_CHECKS: Checks = {
    "item_id": (INT, "integer item ids"),
    **{c: (INT, f"integer {c.removesuffix('_id')} ids") for c in ID_COLUMNS},
    **{c: (STRING, "strings") for c in NAME_COLUMNS},
}
ITEM_CHECKS: Checks = {
    "item_id": (INT, "dense integer item ids 1..N"),
    **{c: (INT, "dense integer ids 1..K") for c in ID_COLUMNS},
    **{c: (STRING, "strings") for c in NAME_COLUMNS},
}
SEQUENCE_CHECKS: Checks = {
    "user_id": (INT, "integer user ids"),
    "item_ids": (list_of(INT), "list<int64> of dense item ids"),
    "timestamps": (list_of(INT), "list<int64> of timestamps"),
}
