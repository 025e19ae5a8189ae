"""A slow, plain-Python preprocessing written from the declared semantics alone.

It shares no code with :mod:`uqa_data.prepare` (only the split rule, a seeded
``numpy`` permutation of the users in ascending id order, is part of the contract).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Reference:
    removed: dict[str, dict[str, int]] = field(default_factory=dict)
    rounds: int = 0
    sequences: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    """user -> [(timestamp, raw item)] in order."""
    item_ids: dict[int, int] = field(default_factory=dict)
    """raw item -> dense id."""
    test_users: set[int] = field(default_factory=set)


def _step(rows: list[tuple[int, int, int]], drop: list[bool], name_of: list[str],
          removed: dict[str, dict[str, int]]) -> list[tuple[int, int, int]]:
    """Remove rows flagged in ``drop`` (attributed to ``name_of[row]``), counting the
    users and items whose last row went, in row order."""
    users_left = Counter(r[0] for r in rows)
    items_left = Counter(r[1] for r in rows)
    kept = []
    for row, gone, name in zip(rows, drop, name_of, strict=True):
        if not gone:
            kept.append(row)
            continue
        c = removed[name]
        c["rows"] += 1
        users_left[row[0]] -= 1
        items_left[row[1]] -= 1
        c["users"] += users_left[row[0]] == 0
        c["items"] += items_left[row[1]] == 0
    return kept


def reference_prepare(
    rows: list[tuple[int, int, int]], known_items: set[int], min_item_count: int,
    min_user_len: int, max_user_len: int, split: str, test_fraction: float, seed: int,
) -> Reference:
    names = ("unknown_item", "duplicate_rows", "user_too_short", "user_too_long",
             "item_min_count")
    ref = Reference(removed={n: {"rows": 0, "users": 0, "items": 0} for n in names})
    # Rows ordered by user then (time, item) so "last row of a user/item" is well defined
    # the way a per-user pass sees it.
    rows = sorted(rows, key=lambda r: (r[0], r[2], r[1]))
    rows = _step(rows, [r[1] not in known_items for r in rows], ["unknown_item"] * len(rows),
                 ref.removed)
    seen: set[tuple[int, int, int]] = set()
    dup = []
    for r in rows:
        dup.append(r in seen)
        seen.add(r)
    rows = _step(rows, dup, ["duplicate_rows"] * len(rows), ref.removed)
    while True:
        before = len(rows)
        length = Counter(r[0] for r in rows)
        name_of = ["user_too_short" if length[r[0]] < min_user_len else "user_too_long"
                   for r in rows]
        gone = [not (min_user_len <= length[r[0]] <= max_user_len) for r in rows]
        rows = _step(rows, gone, name_of, ref.removed)
        count = Counter(r[1] for r in rows)
        rows = _step(rows, [count[r[1]] < min_item_count for r in rows],
                     ["item_min_count"] * len(rows), ref.removed)
        if len(rows) == before:
            break
        ref.rounds += 1
    for u, i, t in rows:
        ref.sequences.setdefault(u, []).append((t, i))
    for u in ref.sequences:
        ref.sequences[u].sort()
    ref.item_ids = {raw: k + 1 for k, raw in enumerate(sorted({r[1] for r in rows}))}
    users = sorted(ref.sequences)
    if split == "user":
        n_test = round(len(users) * test_fraction)
        if test_fraction > 0 and len(users) >= 2:
            n_test = min(max(n_test, 1), len(users) - 1)
        perm = np.random.default_rng(seed).permutation(len(users))
        ref.test_users = {users[k] for k in perm[:n_test]}
    return ref
