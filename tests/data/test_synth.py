"""The synthetic source: files, determinism, planted structure."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from uqa_data.errors import UnknownNameError
from uqa_data.io import read_table
from uqa_data.schemas import RAW_INTERACTIONS, RAW_ITEMS, TRUTH
from uqa_data.synth import synthesize


def test_writes_raw_files_with_design_schemas(tiny_run: Path) -> None:
    raw = tiny_run / "raw"
    assert read_table(raw / "interactions.arrow").schema.equals(RAW_INTERACTIONS)
    assert read_table(raw / "items.arrow").schema.equals(RAW_ITEMS)
    assert read_table(raw / "truth.arrow").schema.equals(TRUTH)
    assert (raw / "synth.json").is_file()


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    kw = {"preset": "tiny", "n_users": 60, "n_items": 120}
    synthesize(tmp_path / "a", seed=3, **kw)
    synthesize(tmp_path / "b", seed=3, **kw)
    synthesize(tmp_path / "c", seed=4, **kw)
    for name in ("interactions.arrow", "items.arrow", "truth.arrow", "synth.json"):
        a = (tmp_path / "a" / "raw" / name).read_bytes()
        assert a == (tmp_path / "b" / "raw" / name).read_bytes(), name
        assert a != (tmp_path / "c" / "raw" / name).read_bytes(), name


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_names_are_one_to_one_with_ids(tmp_path: Path, lang: str) -> None:
    synthesize(tmp_path, preset="tiny", seed=0, lang=lang, n_users=20)
    items = read_table(tmp_path / "raw" / "items.arrow").to_pandas()
    for key in ("cate", "brand", "shop", "seller"):
        pairs = items[[f"{key}_id", f"{key}_name"]].drop_duplicates()
        assert pairs[f"{key}_id"].is_unique and pairs[f"{key}_name"].is_unique, key
    has_cjk = items["title"].map(lambda t: any("\u4e00" <= ch <= "\u9fff" for ch in t))
    assert has_cjk.all() if lang == "zh" else not has_cjk.any()


def test_unknown_preset_and_lang_list_valid_names(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'tiny'"):
        synthesize(tmp_path, preset="tinyy")
    with pytest.raises(UnknownNameError, match="valid: en, zh"):
        synthesize(tmp_path, preset="tiny", lang="fr")
    assert not (tmp_path / "raw").exists()


def test_sequences_time_ordered_with_lengths_in_bounds(tiny_run: Path) -> None:
    log = read_table(tiny_run / "raw" / "interactions.arrow").to_pandas()
    assert (log.groupby("user_id", sort=False)["timestamp"].diff().dropna() >= 0).all()
    lengths = log.drop_duplicates().groupby("user_id").size()
    assert lengths.min() >= 14 and lengths.max() <= 90  # tiny: min_len 14, max_len 90
    assert lengths.std() > 5  # lengths spread, not one fixed value


def test_titles_use_category_and_brand_words(tiny_run: Path) -> None:
    items = read_table(tiny_run / "raw" / "items.arrow").to_pydict()
    for title, cate, brand in zip(items["title"], items["cate_name"], items["brand_name"],
                                  strict=True):
        assert cate in title and title.startswith(brand)
    # brands and shops belong to one category each; sellers follow shops
    for key in ("brand_id", "shop_id"):
        per = {}
        for k, c in zip(items[key], items["cate_id"], strict=True):
            assert per.setdefault(k, c) == c
    seller_of = {}
    for s, sel in zip(items["shop_id"], items["seller_id"], strict=True):
        assert seller_of.setdefault(s, sel) == sel


def test_planted_truth_matches_clicks(tiny_run: Path) -> None:
    raw = tiny_run / "raw"
    truth = read_table(raw / "truth.arrow").to_pylist()
    items = read_table(raw / "items.arrow").to_pandas().set_index("item_id")
    log = read_table(raw / "interactions.arrow").to_pandas()
    log["cate"] = items.loc[log["item_id"], "cate_id"].to_numpy()
    by_user = {u: g for u, g in log.groupby("user_id")}
    top_hits, drifted, drift_hits = 0, 0, 0
    for t in truth:
        assert np.isclose(sum(t["interest_weights"]), 1.0)
        assert t["interest_weights"] == sorted(t["interest_weights"], reverse=True)
        assert set(t["phase_cate_ids"]) <= set(t["interest_cate_ids"])
        assert len(t["pref_brand_ids"]) == len(t["interest_cate_ids"])
        g = by_user[t["user_id"]]
        assert set(t["phase_start_ts"]) <= set(g["timestamp"])
        top = Counter(g["cate"]).most_common(1)[0][0]
        top_hits += top in t["interest_cate_ids"][:2] or top in t["phase_cate_ids"]
        if len(t["phase_cate_ids"]) > 1:  # after the last drift, its category dominates
            drifted += 1
            tail = g[g["timestamp"] >= t["phase_start_ts"][-1]]
            drift_hits += Counter(tail["cate"]).most_common(1)[0][0] == t["phase_cate_ids"][-1]
    assert top_hits / len(truth) > 0.9
    assert drifted > 20 and drift_hits / drifted > 0.6  # chance is about 0.35


def test_repeats_and_noise_present(tiny_run: Path) -> None:
    log = read_table(tiny_run / "raw" / "interactions.arrow").to_pandas().drop_duplicates()
    repeat_share = 1 - log.groupby("user_id")["item_id"].nunique().sum() / len(log)
    assert 0.1 < repeat_share < 0.6
