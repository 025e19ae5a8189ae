"""An independent plain-Python recomputation of every stored answer.

Written from the task definitions, not from uqa_data's kernels: it reads the
raw Arrow files with ``to_pylist`` and counts with ``collections.Counter``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

ATTR_COLUMNS = {"category": "cate", "brand": "brand", "shop": "shop"}
SEPARATORS = {"en": (", ", "; "), "zh": ("、", "；")}
PATHS = {
    "en": ("{}, then {}", "{0}, then {0}"),
    "zh": ("从{}转向{}", "一直是{}"),
}


def _read(path: Path) -> list[dict[str, Any]]:
    with pa.memory_map(str(path), "r") as src:
        return ipc.open_file(src).read_all().to_pylist()


class Reference:
    """Items and sequences of one data/ folder, as Python dicts and lists."""

    def __init__(self, data_dir: Path) -> None:
        self.items = {r["item_id"]: r for r in _read(data_dir / "items.arrow")}
        self.seqs = {
            split: {r["user_id"]: list(r["item_ids"]) for r in _read(data_dir / f"{split}.arrow")}
            for split in ("train", "test")
        }

    def value(self, attribute: str, item: int) -> int:
        return self.items[item][f"{ATTR_COLUMNS[attribute]}_id"]

    def name_of_value(self, attribute: str, value: int) -> str:
        col = ATTR_COLUMNS[attribute]
        for row in self.items.values():
            if row[f"{col}_id"] == value:
                return row[f"{col}_name"]
        raise KeyError(value)

    def item_name(self, attribute: str, item: int) -> str:
        if attribute == "title":
            return self.items[item]["title"]
        return self.items[item][f"{ATTR_COLUMNS[attribute]}_name"]

    def ranking(self, attribute: str, clicks: list[int]) -> list[tuple[int, int]]:
        """(value, count) by count desc, then most recent last click first."""
        values = [self.value(attribute, i) for i in clicks]
        counts = Counter(values)
        last = {v: p for p, v in enumerate(values)}
        order = sorted(counts, key=lambda v: (-counts[v], -last[v]))
        return [(v, counts[v]) for v in order]

    def check(self, row: dict[str, Any], recent_window: int) -> str:
        """Recompute ``row``'s answer text; assert the task's preconditions hold."""
        seq = self.seqs[row["split"]][row["user_id"]]
        h, task, attr, lang = row["history_len"], row["task"], row["attribute"], row["lang"]
        p = json.loads(row["params"])
        names_sep, titles_sep = SEPARATORS[lang]
        assert 1 <= h <= len(seq)
        seen = seq[:h]
        if task == "df":
            assert h == len(seq)
            if "k" in p:
                assert str(p["k"]) in row["question"] and p["k"] < 4
                return titles_sep.join(self.items[i]["title"] for i in seen[-p["k"] :])
            assert str(p["back"]) in row["question"] or (lang == "en" and p["back"] == 1)
            return self.item_name(attr, seen[-p["back"]])
        if task == "mf":
            assert h == len(seq)
            if attr == "length":
                return str(len(seen))
            assert self.name_of_value(attr, p["target"]) in row["question"]
            count = sum(1 for i in seen if self.value(attr, i) == p["target"])
            assert count > 0
            return str(count)
        if task in ("ip", "ap"):
            assert h < len(seq)
            if row["split"] == "test":
                assert h == len(seq) - 1
            return self.item_name(attr, seq[h])
        if task == "li":
            ranked = self.ranking(attr, seen)
            assert len(ranked) >= 3
            if len(ranked) > 3:
                assert ranked[2][1] > ranked[3][1]
            return names_sep.join(self.name_of_value(attr, v) for v, _ in ranked[:3])
        if task == "si":
            w = min(recent_window, h)
            ranked = self.ranking(attr, seen[h - w :])
            assert ranked[0][1] >= 2 and (len(ranked) == 1 or ranked[0][1] > ranked[1][1])
            return self.name_of_value(attr, ranked[0][0])
        if task == "it":
            w = min(recent_window, h // 2)
            early = self.ranking(attr, seen[h - 2 * w : h - w])
            late = self.ranking(attr, seen[h - w :])
            for ranked in (early, late):
                assert len(ranked) == 1 or ranked[0][1] > ranked[1][1]
            a, b = (self.name_of_value(attr, r[0][0]) for r in (early, late))
            changed, stayed = PATHS[lang]
            return stayed.format(a) if early[0][0] == late[0][0] else changed.format(a, b)
        raise AssertionError(f"unknown task {task}")

    def li_counts(self, row: dict[str, Any]) -> dict[str, int]:
        seq = self.seqs[row["split"]][row["user_id"]][: row["history_len"]]
        return {
            self.name_of_value(row["attribute"], v): c
            for v, c in self.ranking(row["attribute"], seq)
        }
