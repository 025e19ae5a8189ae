"""Plausible wrong options: values of the same kind with similar popularity."""

from __future__ import annotations

import random
from collections.abc import Iterable

import numpy as np

from uqa_data.questions.source import Catalog, Sequences


class Popularity:
    """Click counts of every attribute value (and item) over all given sequences.

    Values are ranked by count (ties by id); a distractor for a value is drawn
    from the values ranked near it, so a wrong option is neither obviously
    obscure nor obviously popular compared with the answer.
    """

    def __init__(self, catalog: Catalog, sequences: Iterable[Sequences]) -> None:
        size = catalog.n_values("title")
        item_counts = np.zeros(size, dtype=np.int64)
        for s in sequences:
            item_counts += np.bincount(s.items, minlength=size)[:size]
        self.order: dict[str, np.ndarray] = {}
        self.order_list: dict[str, list[int]] = {}
        self.rank: dict[str, np.ndarray] = {}
        self.counts: dict[str, np.ndarray] = {}
        for attr in ("title", *catalog.attr_names):
            n = catalog.n_values(attr)
            if attr == "title":
                counts = item_counts
            else:  # clicks per value = sum of its items' clicks
                counts = np.bincount(
                    catalog.attr_ids[attr], weights=item_counts, minlength=n
                ).astype(np.int64)[:n]
            valid = np.arange(1, n)
            order = valid[np.lexsort((valid, -counts[1:]))]
            rank = np.full(n, -1, dtype=np.int64)
            rank[order] = np.arange(len(order))
            self.order[attr], self.rank[attr], self.counts[attr] = order, rank, counts
            self.order_list[attr] = order.tolist()

    def neighbours(
        self, attribute: str, value: int, rnd: random.Random, count: int, width: int = 4
    ) -> list[int]:
        """Up to ``count`` distinct values ranked within ``width`` of ``value`` (not it)."""
        order = self.order_list[attribute]
        r = int(self.rank[attribute][value])
        lo, hi = max(0, r - width), min(len(order), r + width + 1)
        available = hi - lo - 1
        if available <= count:
            return [order[j] for j in rnd.sample(range(lo, hi), hi - lo) if j != r]
        picked: dict[int, None] = {}
        while len(picked) < count:
            j = lo + int(rnd.random() * (hi - lo))
            if j != r:
                picked[order[j]] = None
        return list(picked)

    def distractor_names(
        self,
        catalog: Catalog,
        attribute: str,
        value: int,
        rnd: random.Random,
        *,
        prefer: Iterable[int] = (),
        n: int = 3,
    ) -> list[str]:
        """``n`` distinct names, none equal to the answer's, preferred values first.

        Then values ranked near ``value`` by popularity: random draws from a
        window of ranks that doubles until enough distinct names are found.
        """
        names = catalog.name_list(attribute)
        seen = {names[value]}
        out: list[str] = []
        for v in prefer:
            name = names[v]
            if v != value and name and name not in seen:
                seen.add(name)
                out.append(name)
                if len(out) == n:
                    return out
        order = self.order_list[attribute]
        r = int(self.rank[attribute][value])
        total, width = len(order), 4
        while width < total:
            lo, hi = max(0, r - width), min(total, r + width + 1)
            for _ in range(2 * (n - len(out)) + 2):
                j = lo + int(rnd.random() * (hi - lo))
                name = names[order[j]]
                if j != r and name and name not in seen:
                    seen.add(name)
                    out.append(name)
                    if len(out) == n:
                        return out
            width *= 2
        for j in rnd.sample(range(total), total):  # last resort: every value, randomly
            name = names[order[j]]
            if j != r and name and name not in seen:
                seen.add(name)
                out.append(name)
                if len(out) == n:
                    break
        return out
