"""Text renderings of a user's history (``text20``/``text50`` baselines) and prompt token counts.

``render_history(items, item_ids, k)`` lists the last ``k`` clicks, oldest
first, one line each with title, category, brand and shop::

    1. red shoes 17 (category: Shoes; brand: Acme; shop: North Store)

``count_tokens(tokenizer, text)`` measures a prompt with any tokenizer that has
an ``encode`` method (Hugging Face, tiktoken, sentencepiece wrappers...), so
the efficiency comparison of embeddings vs. text histories is measured.
"""

from __future__ import annotations

import inspect
import os
import statistics
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from uqa_data.errors import UqaInputError
from uqa_data.questions.source import Catalog

LINE_FORMATS: dict[str, str] = {
    "en": "{i}. {title} (category: {category}; brand: {brand}; shop: {shop})",
    "zh": "{i}. 标题：{title}；类目：{category}；品牌：{brand}；店铺：{shop}",
}
"""One click per line, per language."""

_CATALOGS: dict[int, tuple[weakref.ref[pa.Table], Catalog]] = {}
"""id(table) -> (weak reference to it, its catalog); tables are unhashable."""


def catalog_of(items: pa.Table | Catalog | str | os.PathLike[str]) -> Catalog:
    """A :class:`Catalog` from an items table (cached per table), a catalog, or a path."""
    if isinstance(items, Catalog):
        return items
    if isinstance(items, (str, os.PathLike)):
        return Catalog.load(Path(items))
    if isinstance(items, pa.Table):
        key = id(items)
        hit = _CATALOGS.get(key)
        if hit is not None and hit[0]() is items:
            return hit[1]
        catalog = Catalog.from_table(items)
        _CATALOGS[key] = (weakref.ref(items, lambda _ref, k=key: _CATALOGS.pop(k, None)), catalog)
        return catalog
    raise TypeError(f"items must be a pyarrow Table, Catalog or path, not {type(items).__name__}")


def render_history(
    items: pa.Table | Catalog | str | os.PathLike[str],
    item_ids: Sequence[int] | Iterable[int],
    k: int,
    lang: str = "en",
) -> str:
    """The last ``k`` of ``item_ids`` as numbered lines, oldest first.

    :param items: ``data/items.arrow`` as a table (or a :class:`Catalog` or its path).
    :param item_ids: the user's dense item ids, oldest first; pass only the
        clicks the question may see (``item_ids[:history_len]``).
    :param k: how many of the last clicks to render (all when fewer).
    :param lang: ``en`` or ``zh`` field labels.
    """
    if lang not in LINE_FORMATS:
        raise UqaInputError(f"render_history: lang '{lang}' not supported; expected en or zh")
    if k < 0:
        raise UqaInputError(f"render_history: k must be >= 0, got {k}")
    catalog = catalog_of(items)
    ids = [int(i) for i in item_ids]
    shown = ids[max(0, len(ids) - k) :] if k else []
    fmt = LINE_FORMATS[lang]
    lines = []
    for n, item in enumerate(shown, start=1):
        if not 1 <= item <= catalog.n_items:
            raise UqaInputError(
                f"render_history: item id {item} is not in the item table (1..{catalog.n_items})"
            )
        lines.append(
            fmt.format(
                i=n,
                title=catalog.name("title", item),
                category=catalog.name("category", int(catalog.attr_ids["category"][item])),
                brand=catalog.name("brand", int(catalog.attr_ids["brand"][item])),
                shop=catalog.name("shop", int(catalog.attr_ids["shop"][item])),
            )
        )
    return "\n".join(lines)


class Tokenizer(Protocol):
    """Anything with ``encode(text) -> list of token ids``."""

    def encode(self, text: str, *args: Any, **kwargs: Any) -> Sequence[int]: ...


def count_tokens(tokenizer: Tokenizer, text: str) -> int:
    """Tokens of ``text`` under ``tokenizer`` (without BOS/EOS when the tokenizer allows it)."""
    encode = tokenizer.encode
    try:
        params = inspect.signature(encode).parameters
    except (TypeError, ValueError):
        params = {}
    if "add_special_tokens" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    ):
        try:
            return len(encode(text, add_special_tokens=False))
        except TypeError:
            pass
    return len(encode(text))


def token_stats(tokenizer: Tokenizer, texts: Iterable[str]) -> dict[str, float]:
    """Count, mean, median, min and max tokens over ``texts``."""
    counts = [count_tokens(tokenizer, t) for t in texts]
    if not counts:
        return {"n": 0, "mean": 0.0, "median": 0.0, "min": 0, "max": 0}
    return {
        "n": len(counts),
        "mean": statistics.fmean(counts),
        "median": float(statistics.median(counts)),
        "min": min(counts),
        "max": max(counts),
    }
