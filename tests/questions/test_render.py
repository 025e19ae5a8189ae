"""render_history and token counting."""

from __future__ import annotations

from pathlib import Path

import pytest
from uqa_data.errors import UqaInputError
from uqa_data.io import read_table
from uqa_data.render import count_tokens, render_history, token_stats


def test_last_k_oldest_first_with_all_fields(data_dir: Path) -> None:
    items = read_table(data_dir / "items.arrow")
    rows = {r["item_id"]: r for r in items.to_pylist()}
    seq = [5, 9, 2, 7]
    text = render_history(items, seq, 3)
    lines = text.splitlines()
    assert len(lines) == 3
    for n, (line, item) in enumerate(zip(lines, seq[1:], strict=True), start=1):
        r = rows[item]
        assert line == (
            f"{n}. {r['title']} (category: {r['cate_name']}; brand: {r['brand_name']}; "
            f"shop: {r['shop_name']})"
        )
    assert render_history(items, seq, 50).count("\n") == 3
    # fewer clicks than k but more than k / 2: every click, not the last 2 * len - k
    assert render_history(items, seq, 6).count("\n") == 3
    assert render_history(items, seq, 0) == ""
    zh = render_history(data_dir / "items.arrow", seq, 1, lang="zh")
    assert zh.startswith("1. 标题：") and "类目：" in zh and "店铺：" in zh
    with pytest.raises(UqaInputError, match="item id 9999"):
        render_history(items, [9999], 1)


class WordTokenizer:
    """A tokenizer with the plain ``encode(text)`` interface."""

    def encode(self, text: str) -> list[int]:
        return [hash(w) % 1000 for w in text.split()]


class SpecialTokenizer:
    """A Hugging Face-like tokenizer that adds a BOS unless told not to."""

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        ids = [len(w) for w in text.split()]
        return [1, *ids] if add_special_tokens else ids


def test_count_tokens_any_encode() -> None:
    assert count_tokens(WordTokenizer(), "a b c") == 3
    assert count_tokens(SpecialTokenizer(), "a b c") == 3
    stats = token_stats(SpecialTokenizer(), ["a", "a b c", "a b"])
    assert stats == {"n": 3, "mean": 2.0, "median": 2.0, "min": 1, "max": 3}
