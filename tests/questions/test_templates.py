"""Templates: coverage per task/variant/language, official Chinese phrasings, official layout."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from uqa_data.io import read_table
from uqa_data.questions.official import official_task
from uqa_data.questions.templates import BUILTIN_TEMPLATES

VARIANTS = {
    "df": {"attr", "title", "last_k"},
    "mf": {"attr", "length"},
    "ip": {"title"},
    "ap": {"attr"},
    "li": {"attr"},
    "si": {"attr"},
    "it": {"attr"},
}


def test_several_templates_per_variant_in_both_languages() -> None:
    by = defaultdict(list)
    for t in BUILTIN_TEMPLATES:
        by[(t.task, t.variant)].append(t)
        assert set(t.text) == {"en", "zh"}
    assert {k: v for k, v in VARIANTS.items()} == {
        task: {v for (tk, v) in by if tk == task} for task in VARIANTS
    }
    assert all(len(ts) >= 2 for ts in by.values())
    assert len({t.template_id for t in BUILTIN_TEMPLATES}) == len(BUILTIN_TEMPLATES)


def test_chinese_stems_carry_the_official_phrasings() -> None:
    try:
        from uqa_eval.official import classify
    except ImportError:  # uqa-eval not installed: our own copy of the rule still applies
        classify = official_task
    for t in BUILTIN_TEMPLATES:
        stem = t.text["zh"].format(attr="品牌", attrs="品牌", n=2, k=3, value="某", ordinal="")
        assert official_task(stem) == t.task, t.template_id
        assert classify(stem) == t.task, t.template_id


def test_official_format_zh(data_dir: Path, tmp_path: Path) -> None:
    from uqa_data.questions import QuestionConfig, generate

    config = QuestionConfig.from_preset("tiny", lang="zh", formats=("arrow", "official"))
    generate(data_dir, tmp_path, config)
    rows = read_table(tmp_path / "eval.arrow").to_pylist()
    lines = (tmp_path / "official" / "eval.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(rows) == 56
    for row, line in zip(rows, lines, strict=True):
        obj = json.loads(line)
        assert obj["answer"] == row["answer"] and obj["id"] == row["question_id"]
        assert obj["question"].startswith(row["question"] + "\n选项：A. ")
        assert f"{row['answer']}. {row['answer_text']}" in obj["question"]
        assert official_task(obj["question"]) == row["task"]


def test_english_stems_are_told_apart() -> None:
    from uqa_data.questions.official import english_task

    values = {"attr": "brand", "attrs": "brands", "n": 2, "k": 3, "value": "Acme Co",
              "ordinal": "2nd-to-last"}
    for t in BUILTIN_TEMPLATES:
        stem = t.text["en"].format(**values)
        assert english_task(stem) == t.task, t.template_id
        assert english_task(stem + "\nOptions: A. x B. y C. z D. w") == t.task, t.template_id
    assert english_task("What is the weather like?") is None


def test_official_format_en_is_scoreable(data_dir: Path, tmp_path: Path) -> None:
    """Every English question uqa exports in the official layout is classified to its own
    sub-task, so ``uqa-eval score-predictions`` scores English sets as well."""
    from uqa_data.questions import QuestionConfig, generate
    from uqa_data.questions.official import english_task

    config = QuestionConfig.from_preset("tiny", lang="en", formats=("arrow", "official"))
    generate(data_dir, tmp_path, config)
    for split in ("eval", "align"):
        rows = read_table(tmp_path / f"{split}.arrow").to_pylist()
        lines = (tmp_path / "official" / f"{split}.jsonl").read_text("utf-8").splitlines()
        assert len(lines) == len(rows) > 0
        for row, line in zip(rows, lines, strict=True):
            obj = json.loads(line)
            assert english_task(obj["question"]) == row["task"], obj["question"]
