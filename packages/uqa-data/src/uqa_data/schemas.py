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

TASKS: tuple[str, ...] = ("df", "mf", "ip", "ap", "li", "si", "it")
"""The seven UQABench sub-tasks in the paper's column order."""

DIMENSIONS: tuple[str, ...] = ("sequence_understanding", "action_prediction",
                               "interest_perception")
"""The three dimensions in the paper's column order."""

TASK_DIMENSION: dict[str, str] = {
    "df": "sequence_understanding",
    "mf": "sequence_understanding",
    "ip": "action_prediction",
    "ap": "action_prediction",
    "li": "interest_perception",
    "si": "interest_perception",
    "it": "interest_perception",
}
"""The dimension of each of the paper's sub-tasks (a plugin task declares its own)."""

OPTION_LETTERS = "ABCDEFGHIJ"
"""Option letters in order; a question's ``answer`` is ``OPTION_LETTERS[i]`` of its
``options[i]`` (UQABench questions have four options)."""

QUESTIONS = pa.schema(
    [("question_id", pa.string()), ("user_id", pa.int64()), ("split", pa.string())]
    + [(c, pa.string()) for c in ("task", "dimension", "template_id", "lang", "question")]
    + [("options", pa.list_(pa.string())), ("answer", pa.string()),
       ("answer_text", pa.string()), ("history_len", pa.int64())]
    + [(c, pa.string()) for c in ("attribute", "params", "distractor_policy")]
)
"""questions/align.arrow and questions/eval.arrow. ``attribute``, ``params`` (JSON of the
facts that fix the answer) and ``distractor_policy`` (how the question's wrong options
were drawn: ``population`` or ``own-history``) are extras beyond the design's minimum;
imported questions leave them null. Generated files' schema metadata ``uqa.distractors``
holds the requested policy."""

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
