"""Scoring the official UQABench generation output (JSONL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from uqa_data.errors import UqaInputError
from uqa_eval.official import PHRASINGS, classify, is_correct, score_lines, score_predictions

# One question per official phrasing (the wording around the phrase is ours).
EXAMPLES = {
    "df": ["用户倒数第2次浏览的商品的类目是什么？", "用户第3次（从1开始计数）浏览的商品是什么？"],
    "mf": ["用户浏览序列的长度是多少？", "用户浏览过的品牌为A的商品有多少个"],
    "ip": ["用户下一个可能点击的商品的标题是什么？"],
    "ap": ["用户下一个可能点击的商品的品牌是什么？"],
    "li": ["用户最感兴趣的3个类目是什么？"],
    "si": ["用户近期最感兴趣的类目是什么？"],
    "it": ["用户对类目偏好的转移路径是什么？"],
}


def line(question: str, prediction: str, answer: object) -> str:
    return json.dumps({"question": question, "prediction": prediction, "answer": answer},
                      ensure_ascii=False)


@pytest.mark.parametrize(("task", "question"),
                         [(t, q) for t, qs in EXAMPLES.items() for q in qs])
def test_each_official_phrasing_is_classified(task: str, question: str) -> None:
    assert classify(question) == task


def test_ip_is_checked_before_ap() -> None:
    # The ip question contains the ap phrase too; the official order decides.
    question = EXAMPLES["ip"][0]
    assert "用户下一个可能点击的商品的" in question
    assert classify(question) == "ip"
    assert [t for t, _ in PHRASINGS] == ["df", "mf", "ip", "ap", "li", "si", "it"]


def test_correct_when_stripped_prediction_starts_with_answer() -> None:
    assert is_correct("  B. 连衣裙\n", "B")
    assert is_correct("B", " B ")
    assert not is_correct("The answer is B", "B")
    assert not is_correct("A", "B")


def test_report_per_task_dimension_and_all(tmp_path: Path) -> None:
    rows = [
        line(EXAMPLES["df"][0], "A", "A"),          # df right
        line(EXAMPLES["df"][1], "B", ["A"]),        # df wrong, answer as a list
        line(EXAMPLES["ip"][0], " C", ["C"]),       # ip right
        line(EXAMPLES["ap"][0], "D", "C"),          # ap wrong
        "",                                         # blank lines are skipped
        line(EXAMPLES["si"][0], "A)", "A"),         # si right
    ]
    path = tmp_path / "generation.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = score_predictions(path)
    assert report["n_questions"] == 5
    assert report["overall"]["acc"] == pytest.approx(3 / 5)
    assert report["overall"]["acc_norm"] is None
    assert report["tasks"]["df"]["acc"] == 0.5 and report["tasks"]["df"]["n"] == 2
    assert report["tasks"]["ip"]["acc"] == 1.0 and report["tasks"]["ap"]["acc"] == 0.0
    assert report["tasks"]["mf"]["n"] == 0 and report["tasks"]["mf"]["acc"] is None
    assert report["dimensions"]["action_prediction"]["acc"] == 0.5
    assert report["dimensions"]["interest_perception"]["acc"] == 1.0
    assert report["meta"]["mode"] == "generate"


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ("{not json", r"line 3: not valid JSON"),
        ('["a list"]', r"line 3: expected a JSON object"),
        (json.dumps({"question": EXAMPLES["li"][0], "answer": "A"}), r"line 3: missing key\(s\) "
                                                                      r"prediction"),
        (line("今天天气怎么样？", "A", "A"), r"line 3: the question matches no UQABench phrasing"),
        (line(EXAMPLES["li"][0], "A", ["A", "B"]), r"line 3: 'answer' is a list of 2"),
        (line(EXAMPLES["li"][0], "A", ""), r"line 3: 'answer' must be a non-empty string"),
        (line(EXAMPLES["li"][0], 3, "A"), r"line 3: 'prediction' must be a string"),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, bad: str, match: str) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join([line(EXAMPLES["li"][0], "A", "A"), "", bad]), encoding="utf-8")
    with pytest.raises(UqaInputError, match=match) as info:
        score_predictions(path)
    assert str(path) in str(info.value)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(UqaInputError, match="not found"):
        score_predictions(tmp_path / "absent.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(UqaInputError, match="has no predictions"):
        score_predictions(tmp_path / "empty.jsonl")


@given(st.lists(st.tuples(st.sampled_from(sorted(EXAMPLES)), st.sampled_from("ABCD"),
                          st.sampled_from("ABCD")), min_size=1, max_size=40))
def test_matches_a_direct_count(rows: list[tuple[str, str, str]]) -> None:
    scored = score_lines([line(EXAMPLES[t][0], p, a) for t, p, a in rows])
    assert [s.task for s in scored] == [t for t, _, _ in rows]
    assert [s.correct for s in scored] == [p == a for _, p, a in rows]
    assert [s.line for s in scored] == list(range(1, len(rows) + 1))


def test_english_sets_exported_by_uqa_are_scored() -> None:
    lines = [line("What is the user's recent favourite brand?\nOptions: A. a B. b C. c D. d",
                  "B", "B"),
             line("Which 3 categories does the user like most, in order?", "A", "C")]
    assert [(s.task, s.correct) for s in score_lines(lines)] == [("si", True), ("li", False)]
