"""The synthetic item catalogue: categories, brands, shops, sellers, titles, popularity.

Brands and shops belong to one category each; every seller owns a few shops
(possibly across categories); an item has one category, brand, shop (and so
seller). Category sizes and item popularity within a category are Zipf-like.
Raw ids are scattered over a wider range, as in a real log, so that prepare's
dense re-numbering is exercised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from uqa_data.errors import UqaInputError
from uqa_data.presets import SynthConfig
from uqa_data.synth import words


@dataclass
class Catalog:
    """Arrays over item / category / brand / shop / seller indices (0-based)."""

    item_cate: np.ndarray
    item_brand: np.ndarray
    item_shop: np.ndarray
    item_seller: np.ndarray
    item_pop: np.ndarray
    """Relative click popularity of each item (global: category weight x within-category)."""
    cate_weight: np.ndarray
    raw_item: np.ndarray
    raw_cate: np.ndarray
    raw_brand: np.ndarray
    raw_shop: np.ndarray
    raw_seller: np.ndarray
    items_table: pa.Table


def _raw_ids(rng: np.random.Generator, n: int, base: int) -> np.ndarray:
    """``n`` distinct ids scattered over ``[base, base + 4n)``."""
    return (base + rng.choice(4 * n, size=n, replace=False)).astype(np.int64)


def _zipf(n: int, alpha: float) -> np.ndarray:
    return 1.0 / np.power(np.arange(1, n + 1, dtype=np.float64), alpha)


def _sample_ranks(rng: np.random.Generator, n_draws: int, n_ranks: int, alpha: float) -> np.ndarray:
    cum = np.cumsum(_zipf(n_ranks, alpha))
    return np.searchsorted(cum, rng.random(n_draws) * cum[-1], side="right").clip(0, n_ranks - 1)


def _name_codes(rng: np.random.Generator, n: int, alphabet: int) -> list[list[int]]:
    """``n`` distinct symbol strings (2 to 4 symbols) over ``alphabet`` symbols."""
    sizes = [alphabet**k for k in (2, 3, 4)]
    if n > sum(sizes):
        raise UqaInputError(f"synthetic catalogue needs {n} names; at most {sum(sizes)} available")
    # Prefer short names: fill from the 2-symbol space, then 3, then 4.
    codes: list[list[int]] = []
    remaining = n
    for k, size in zip((2, 3, 4), sizes, strict=True):
        take = min(remaining, size if k < 4 else remaining)
        if take <= 0:
            break
        for flat in rng.choice(size, size=take, replace=False).tolist():
            digits = []
            for _ in range(k):
                flat, d = divmod(flat, alphabet)
                digits.append(d)
            codes.append(digits)
        remaining -= take
    order = rng.permutation(len(codes))
    return [codes[i] for i in order]


def _names(rng: np.random.Generator, n: int, lang: str) -> list[str]:
    """``n`` distinct pronounceable names (different codes can spell the same string,
    e.g. ``ka+lo`` and ``kal+o``, so extra codes are drawn and repeats dropped)."""
    if lang == "zh":
        symbols, joiner = words.CHARS_ZH, str
    else:
        symbols, joiner = words.SYLLABLES_EN, str.capitalize
    codes = _name_codes(rng, n + n // 10 + 16, len(symbols))
    names = list(dict.fromkeys(joiner("".join(symbols[d] for d in code)) for code in codes))
    if len(names) < n:
        raise UqaInputError(f"synthetic catalogue needs {n} distinct names; drew {len(names)}")
    return names[:n]


def _pick(pairs: tuple[tuple[str, str], ...], lang: str) -> list[str]:
    return [zh if lang == "zh" else en for en, zh in pairs]


def category_pairs() -> list[tuple[int, int]]:
    """The (noun, modifier) index pairs that name a category, minus those repeating a word
    ("Smart Smart Speakers"): ``n_categories`` can be at most their number."""
    return [
        (n, m)
        for n, (noun_en, _) in enumerate(words.CATEGORY_NOUNS)
        for m, (mod_en, _) in enumerate(words.CATEGORY_MODIFIERS)
        if not mod_en or mod_en.lower().rstrip("'s") not in noun_en.lower()
    ]


def build_catalog(cfg: SynthConfig, rng: np.random.Generator, lang: str) -> Catalog:
    """Draw the item catalogue of ``cfg`` (validated: :meth:`SynthConfig.validate`) from
    ``rng``."""
    C, N = cfg.n_categories, cfg.n_items
    nouns, mods = _pick(words.CATEGORY_NOUNS, lang), _pick(words.CATEGORY_MODIFIERS, lang)
    pairs = category_pairs()
    sep = "" if lang == "zh" else " "
    cate_names = [
        (mods[pairs[k][1]] + sep + nouns[pairs[k][0]]).strip()
        for k in rng.choice(len(pairs), size=C, replace=False).tolist()
    ]

    cate_weight = _zipf(C, cfg.category_zipf)[rng.permutation(C)]
    item_cate = np.concatenate(
        [np.arange(C), rng.choice(C, size=N - C, p=cate_weight / cate_weight.sum())]
    ).astype(np.int64)
    rng.shuffle(item_cate)

    B, S = cfg.brands_per_category, cfg.shops_per_category
    item_brand = item_cate * B + _sample_ranks(rng, N, B, 1.0)
    item_shop = item_cate * S + _sample_ranks(rng, N, S, 0.8)
    n_brands, n_shops = C * B, C * S
    n_sellers = -(-n_shops // cfg.shops_per_seller)
    seller_of_shop = (rng.permutation(n_shops) // cfg.shops_per_seller).astype(np.int64)
    item_seller = seller_of_shop[item_shop]

    # Popularity: Zipf over a random rank within the item's category.
    order = np.lexsort((rng.random(N), item_cate))
    counts = np.bincount(item_cate, minlength=C)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(N, dtype=np.int64)
    rank[order] = np.arange(N) - np.repeat(starts, counts)
    within = 1.0 / np.power(rank + 1.0, cfg.item_zipf)
    within_sum = np.bincount(item_cate, weights=within, minlength=C)
    item_pop = cate_weight[item_cate] * within / within_sum[item_cate]

    pool = _names(rng, n_brands + n_shops + n_sellers, lang)
    brand_names = pool[:n_brands]
    suffixes = _pick(words.SHOP_SUFFIXES, lang)
    kinds = _pick(words.SELLER_KINDS, lang)
    shop_suffix = rng.integers(0, len(suffixes), n_shops)
    shop_names = [
        pool[n_brands + s] + sep + suffixes[k] for s, k in enumerate(shop_suffix.tolist())
    ]
    seller_kind = rng.integers(0, len(kinds), n_sellers)
    seller_names = [
        pool[n_brands + n_shops + s] + sep + kinds[k] for s, k in enumerate(seller_kind.tolist())
    ]

    adjectives = _pick(words.ADJECTIVES, lang)
    item_adj = rng.integers(0, len(adjectives), N)
    model_no = rng.integers(100, 1000, N)
    model_letter = rng.integers(0, 26, N)
    letters = pa.array([chr(65 + i) for i in range(26)])
    model = pc.binary_join_element_wise(
        letters.take(pa.array(model_letter)), pc.cast(pa.array(model_no), pa.string()), "-"
    )
    cate_arr, brand_arr = pa.array(cate_names), pa.array(brand_names)
    title_parts = [
        brand_arr.take(pa.array(item_brand)),
        pa.array(adjectives).take(pa.array(item_adj)),
        cate_arr.take(pa.array(item_cate)),
    ]
    if lang == "zh":
        title = pc.binary_join_element_wise(*title_parts, "")
        title = pc.binary_join_element_wise(title, model, " ")
    else:
        title = pc.binary_join_element_wise(*title_parts, model, " ")

    raw_item = _raw_ids(rng, N, 1_000_000)
    raw_cate = _raw_ids(rng, C, 50_000)
    raw_brand = _raw_ids(rng, n_brands, 200_000)
    raw_shop = _raw_ids(rng, n_shops, 3_000_000)
    raw_seller = _raw_ids(rng, n_sellers, 7_000_000)
    items_table = pa.table(
        {
            "item_id": raw_item,
            "cate_id": raw_cate[item_cate],
            "brand_id": raw_brand[item_brand],
            "shop_id": raw_shop[item_shop],
            "seller_id": raw_seller[item_seller],
            "title": title,
            "cate_name": cate_arr.take(pa.array(item_cate)),
            "brand_name": brand_arr.take(pa.array(item_brand)),
            "shop_name": pa.array(shop_names).take(pa.array(item_shop)),
            "seller_name": pa.array(seller_names).take(pa.array(item_seller)),
        }
    )
    return Catalog(
        item_cate=item_cate,
        item_brand=item_brand,
        item_shop=item_shop,
        item_seller=item_seller,
        item_pop=item_pop,
        cate_weight=cate_weight,
        raw_item=raw_item,
        raw_cate=raw_cate,
        raw_brand=raw_brand,
        raw_shop=raw_shop,
        raw_seller=raw_seller,
        items_table=items_table,
    )
