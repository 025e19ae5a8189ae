"""The seeded synthetic Taobao-like source (``uqa data synth``).

:func:`synthesize` writes ``raw/interactions.arrow`` (user_id, item_id,
timestamp: raw int64 ids, rows grouped by user in time order, with a small share
of exactly duplicated log rows), ``raw/items.arrow`` (see
:data:`uqa_data.schemas.RAW_ITEMS`), ``raw/truth.arrow`` (the planted interests
and drift, see :mod:`uqa_data.schemas`) and ``raw/synth.json``. The same preset,
seed and language give byte-identical files.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from uqa_data import io
from uqa_data.errors import UnknownNameError, UqaInputError
from uqa_data.layout import RunLayout
from uqa_data.presets import SynthConfig, check_preset, synth_config
from uqa_data.progress import stage_progress
from uqa_data.registry import unknown_name_message
from uqa_data.schemas import RAW_INTERACTIONS, TRUTH
from uqa_data.settings import check_seed

LANGS: tuple[str, ...] = ("en", "zh")
T0 = 1_700_000_000
"""Earliest synthetic timestamp (2023-11-14, seconds since the epoch)."""
BATCH_ROWS = 1 << 20
"""Rows per record batch of ``raw/interactions.arrow`` (readers stream batches)."""


def draw_lengths(cfg: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """Sequence lengths ``min_len + lognormal`` clipped to ``max_len``, mean ``mean_len``."""
    z = rng.standard_normal(cfg.n_users)
    target = max(cfg.mean_len - cfg.min_len, 1.0)
    mu = np.log(target) - cfg.len_sigma**2 / 2
    lengths = np.full(cfg.n_users, cfg.min_len, dtype=np.int64)
    for _ in range(8):  # solve the location for the mean of the floored, clipped lengths
        lengths = np.clip(cfg.min_len + np.floor(np.exp(mu + cfg.len_sigma * z)),
                          cfg.min_len, cfg.max_len).astype(np.int64)
        mu += np.log(target / max(lengths.mean() - cfg.min_len, 1e-9))
    return lengths


def _ragged(values: np.ndarray, counts: np.ndarray) -> pa.ListArray:
    """Row-major ``[U, W]`` values, ``counts[u]`` leading entries per row, as a list array."""
    mask = np.arange(values.shape[1])[None, :] < counts[:, None]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values[mask]))


def check_synth_args(preset: str, seed: int, lang: str, **overrides: Any) -> SynthConfig:
    """The preset's config with ``overrides``; raise naming the flag when the preset, seed
    or language is not one synthesize takes, or naming the setting an override breaks."""
    check_preset(preset)
    if lang not in LANGS:
        raise UnknownNameError(unknown_name_message("language", lang, list(LANGS), flag="--lang"))
    check_seed(seed)
    return synth_config(preset, **overrides)


def synthesize(
    out_dir: Path, *, preset: str = "default", seed: int = 0, lang: str = "en",
    **overrides: Any,
) -> dict[str, Any]:
    """Write a synthetic click log under ``out_dir/raw/``; return a summary.

    :param preset: ``tiny``, ``small``, ``default`` or ``full``.
    :param seed: the seed of every random choice.
    :param lang: ``en`` or ``zh`` (names and titles).
    :param overrides: fields of :class:`~uqa_data.presets.SynthConfig` to change.
    """
    from uqa_data.synth.catalog import build_catalog
    from uqa_data.synth.users import MAX_INTERESTS, MAX_PHASES, build_csr, generate_users

    cfg = check_synth_args(preset, seed, lang, **overrides)
    raw_dir = RunLayout(Path(out_dir)).raw
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    U = cfg.n_users
    with stage_progress(f"synth {preset}", total=4) as bar:
        cat = build_catalog(cfg, rng, lang)
        bar.advance(step="catalog")
        lengths = draw_lengths(cfg, rng)
        dups = rng.binomial(lengths, cfg.duplicate_rate).astype(np.int64)
        row_off = np.concatenate([[0], np.cumsum(lengths + dups)]).astype(np.int64)
        start_ts = T0 + rng.integers(0, 60 * 86400, U).astype(np.int64)
        raw_user = (10_000_000 + rng.choice(4 * U, size=U, replace=False)).astype(np.int64)

        C = cfg.n_categories
        cate_cum = np.cumsum(cat.cate_weight) / cat.cate_weight.sum()
        cate_cum[-1] = 1.0
        cat_csr = build_csr(cat.item_cate, C, cat.item_pop)
        brand_csr = build_csr(cat.item_brand, C * cfg.brands_per_category, cat.item_pop)
        shop_csr = build_csr(cat.item_shop, C * cfg.shops_per_category, cat.item_pop)
        glob_items = np.argsort(-cat.item_pop, kind="stable").astype(np.int64)
        glob_cum = np.cumsum(cat.item_pop[glob_items])

        n_rows = int(row_off[-1])
        out_item = np.empty(n_rows, dtype=np.int64)
        out_ts = np.empty(n_rows, dtype=np.int64)
        t_k = np.zeros(U, dtype=np.int64)
        t_cate = np.full((U, MAX_INTERESTS), -1, dtype=np.int64)
        t_w = np.zeros((U, MAX_INTERESTS), dtype=np.float64)
        t_brand = np.zeros((U, MAX_INTERESTS), dtype=np.int64)
        t_shop = np.zeros((U, MAX_INTERESTS), dtype=np.int64)
        t_np = np.zeros(U, dtype=np.int64)
        t_pcate = np.zeros((U, MAX_PHASES), dtype=np.int64)
        t_ppos = np.zeros((U, MAX_PHASES), dtype=np.int64)
        t_pts = np.zeros((U, MAX_PHASES), dtype=np.int64)
        t_noise = np.zeros(U, dtype=np.float64)
        t_rep = np.zeros(U, dtype=np.float64)
        lo_n, hi_n = cfg.noise_range
        lo_r, hi_r = cfg.repeat_range
        generate_users(
            np.int64(seed), lengths, dups, row_off, start_ts, cate_cum,
            *cat_csr, *brand_csr, *shop_csr, glob_items, glob_cum,
            cat.item_brand, cat.item_shop, lo_n, hi_n, lo_r, hi_r, cfg.session_mean,
            out_item, out_ts, t_k, t_cate, t_w, t_brand, t_shop, t_np, t_pcate, t_ppos,
            t_pts, t_noise, t_rep,
        )
        bar.advance(step="users")

        interactions = pa.Table.from_arrays(
            [
                pa.array(np.repeat(raw_user, lengths + dups)),
                pa.array(cat.raw_item[out_item]),
                pa.array(out_ts),
            ],
            schema=RAW_INTERACTIONS,
        )
        interactions = pa.Table.from_batches(
            interactions.to_batches(max_chunksize=BATCH_ROWS), schema=RAW_INTERACTIONS
        )
        k_mask = np.maximum(t_cate, 0)
        truth = pa.Table.from_arrays(
            [
                pa.array(raw_user),
                _ragged(cat.raw_cate[k_mask], t_k),
                _ragged(t_w, t_k),
                _ragged(cat.raw_brand[t_brand], t_k),
                _ragged(cat.raw_shop[t_shop], t_k),
                _ragged(cat.raw_cate[t_pcate], t_np),
                _ragged(t_ppos, t_np),
                _ragged(t_pts, t_np),
                pa.array(t_noise),
                pa.array(t_rep),
                pa.array(lengths),
            ],
            schema=TRUTH,
        )
        bar.advance(step="tables")
        io.write_table(cat.items_table, raw_dir / "items.arrow")
        io.write_table(interactions, raw_dir / "interactions.arrow")
        io.write_table(truth, raw_dir / "truth.arrow")
        summary: dict[str, Any] = {
            "source": "synthetic",
            "preset": preset,
            "seed": seed,
            "lang": lang,
            "config": {k: v for k, v in cfg.__dict__.items()},
            "users": U,
            "items": cfg.n_items,
            "rows": n_rows,
            "duplicate_rows": int(dups.sum()),
            "mean_len": float(lengths.mean()),
            "max_len": int(lengths.max()),
            "categories": C,
            "brands": C * cfg.brands_per_category,
            "shops": C * cfg.shops_per_category,
            "sellers": int(cat.item_seller.max()) + 1,
        }
        io.write_json(summary, raw_dir / "synth.json")
        bar.advance(step="written")
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return summary


def synthetic_source(
    source: Path | None, out_dir: Path, *, preset: str = "default", seed: int = 0,
    lang: str = "en", **overrides: Any,
) -> dict[str, Any]:
    """The ``synthetic`` dataset component: :func:`synthesize` (``source`` must be None)."""
    if source is not None:
        raise UqaInputError(f"the synthetic source reads no input; got {source}")
    return synthesize(out_dir, preset=preset, seed=seed, lang=lang, **overrides)
