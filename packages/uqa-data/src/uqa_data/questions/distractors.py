"""Plausible wrong options: values of the same kind with similar popularity."""

from __future__ import annotations

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
        seqs = list(sequences)
        self.order: dict[str, np.ndarray] = {}
        self.rank: dict[str, np.ndarray] = {}
        self.counts: dict[str, np.ndarray] = {}
        for attr in ("title", *catalog.attr_names):
            size = catalog.n_values(attr)
            counts = np.zeros(size, dtype=np.int64)
            for s in seqs:
                counts += np.bincount(s.attr_values(catalog, attr), minlength=size)[:size]
            valid = np.arange(1, size)
            order = valid[np.lexsort((valid, -counts[1:]))]
            rank = np.full(size, -1, dtype=np.int64)
            rank[order] = np.arange(len(order))
            self.order[attr], self.rank[attr], self.counts[attr] = order, rank, counts

    def neighbours(
        self, attribute: str, value: int, rng: np.random.Generator, width: int
    ) -> np.ndarray:
        """Values ranked within ``width`` of ``value`` (excluding it), in random order."""
        order, r = self.order[attribute], int(self.rank[attribute][value])
        lo, hi = max(0, r - width), min(len(order), r + width + 1)
        window = np.concatenate([order[lo:r], order[r + 1 : hi]])
        return window[rng.permutation(len(window))]

    def distractor_names(
        self,
        catalog: Catalog,
        attribute: str,
        value: int,
        rng: np.random.Generator,
        *,
        prefer: Iterable[int] = (),
        n: int = 3,
        exclude: Iterable[str] = (),
    ) -> list[str]:
        """``n`` distinct names, none equal to the answer's, preferred values first."""
        answer = catalog.name(attribute, value)
        seen = {answer, *exclude}
        out: list[str] = []

        def take(values: Iterable[int]) -> bool:
            for v in values:
                name = catalog.name(attribute, int(v))
                if int(v) == value or not name or name in seen:
                    continue
                seen.add(name)
                out.append(name)
                if len(out) == n:
                    return True
            return False

        if take(prefer):
            return out
        width = 4
        total = len(self.order[attribute])
        while True:
            if take(self.neighbours(attribute, value, rng, width)) or width >= total:
                return out
            width *= 2
