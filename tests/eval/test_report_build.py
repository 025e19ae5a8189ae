"""uqa_eval.report: building one run's report from predictions + questions, and rendering it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from uqa_data.errors import UqaInputError
from uqa_data.io import write_table
from uqa_eval.report import (
    TASK_DIMENSION,
    TASKS,
    build_report,
    columns,
    load_report,
    report_markdown,
    report_table,
    summarize,
    write_report,
)
from uqa_eval.significance import wilson

PAPER_COLUMNS = ["DF", "MF", "Seq. Avg.", "IP", "AP", "Act. Avg.", "LI", "SI", "IT",
                 "Int. Avg.", "Overall"]


def write_questions(path: Path, tasks: list[str], answers: list[str] | None = None) -> Path:
    n = len(tasks)
    table = pa.table({
        "question_id": [f"q{i}" for i in range(n)],
        "user_id": pa.array(range(n), pa.int64()),
        "task": tasks,
        "dimension": [TASK_DIMENSION.get(t, "interest_perception") for t in tasks],
        "options": [["w", "x", "y", "z"]] * n,
        "answer": answers or ["A"] * n,
    })
    return write_table(table, path)


def write_predictions(path: Path, **columns: list) -> Path:
    return write_table(pa.table(columns), path)


def test_micro_and_macro_by_hand(tmp_path: Path) -> None:
    # df: 3 questions, 2 right; mf: 1 question, 0 right; li: 2 questions, 2 right.
    tasks = ["df", "df", "df", "mf", "li", "li"]
    q = write_questions(tmp_path / "q.arrow", tasks)
    p = write_predictions(
        tmp_path / "p.arrow",
        question_id=[f"q{i}" for i in range(6)],
        correct=[True, True, False, False, True, True],
        correct_norm=[False, False, False, True, True, False],
        input_tokens=pa.array([10, 20, 30, 40, 50, 60], pa.int64()),
    )
    r = build_report(p, q, {"run": "hand", "reference_tokens": {"text20": 350.0}})
    assert r["n_questions"] == 6 and r["n_unanswered"] == 0
    assert r["tasks"]["df"] == {"dimension": "sequence_understanding", "n": 3,
                                "acc": pytest.approx(2 / 3), "acc_norm": 0.0,
                                "ci": wilson(2, 3), "ci_norm": (0.0, wilson(0, 3)[1])}
    assert r["tasks"]["ap"]["ci"] is None  # no questions, no interval
    assert r["tasks"]["ap"]["n"] == 0 and r["tasks"]["ap"]["acc"] is None
    su = r["dimensions"]["sequence_understanding"]
    assert su["n"] == 4 and su["acc"] == pytest.approx(0.5)  # micro: 2 of 4
    assert su["macro_acc"] == pytest.approx((2 / 3 + 0) / 2)
    assert r["dimensions"]["action_prediction"]["acc"] is None
    assert r["overall"]["acc"] == pytest.approx(4 / 6)
    assert r["overall"]["acc_norm"] == pytest.approx(2 / 6)
    assert r["overall"]["macro_acc"] == pytest.approx((2 / 3 + 0 + 1) / 3)
    assert r["avg_input_tokens"] == pytest.approx(35.0)
    assert r["token_ratio"] == {"text20": pytest.approx(0.1)}
    assert r["meta"]["run"] == "hand"


def test_letters_scored_against_answers_and_unanswered_counted(tmp_path: Path) -> None:
    q = write_questions(tmp_path / "q.arrow", ["si", "si", "it"], answers=["B", "C", "A"])
    p = write_predictions(tmp_path / "p.arrow", question_id=["q0", "q1"],
                          prediction=["B", "A"], prediction_norm=["A", "C"])
    r = build_report(p, q, {})
    assert r["tasks"]["si"]["acc"] == 0.5 and r["tasks"]["si"]["acc_norm"] == 0.5
    assert r["tasks"]["it"]["n"] == 0
    assert r["n_unanswered"] == 1


@pytest.mark.parametrize(
    ("columns_", "match"),
    [
        ({"question_id": ["q0", "q9"], "correct": [True, False]}, r"row 1: question_id 'q9'"),
        ({"question_id": ["q0", "q0"], "correct": [True, False]}, r"predicted twice"),
        ({"question_id": ["q0"], "correct": pa.array([None], pa.bool_())}, r"row 0: 'correct'"),
        ({"question_id": ["q0"], "correct": [1]}, r"'correct' has type int64; expected bool"),
        ({"question_id": ["q0"], "prediction": ["E"]}, r"row 0: prediction 'E' is not an option"),
        ({"question_id": ["q0"], "score": [1.0]}, r"neither a 'correct'"),
        ({"qid": ["q0"], "correct": [True]}, r"missing column 'question_id'"),
    ],
)
def test_bad_predictions_name_file_and_row(tmp_path: Path, columns_: dict, match: str) -> None:
    q = write_questions(tmp_path / "q.arrow", ["df", "mf"])
    p = write_predictions(tmp_path / "pred.arrow", **columns_)
    with pytest.raises(UqaInputError, match=match) as info:
        build_report(p, q, {})
    assert "pred.arrow" in str(info.value)


def test_missing_files_and_dimension_mismatch(tmp_path: Path) -> None:
    with pytest.raises(UqaInputError, match="predictions file not found"):
        build_report(tmp_path / "nope.arrow", tmp_path / "q.arrow", {})
    table = pa.table({"question_id": ["q0"], "task": ["df"], "dimension": ["action_prediction"]})
    q = write_table(table, tmp_path / "q.arrow")
    p = write_predictions(tmp_path / "p.arrow", question_id=["q0"], correct=[True])
    with pytest.raises(UqaInputError, match="sub-task 'df' is listed under dimension"):
        build_report(p, q, {})


def test_columns_in_paper_order_and_empty_task_dash(tmp_path: Path) -> None:
    r = summarize(["df", "li", "li"], [True, False, True], correct_norm=[True, True, True],
                  meta={"run": "x"})
    assert [c.label for c in columns(r)] == PAPER_COLUMNS
    md = report_markdown(r)
    header = next(line for line in md.splitlines() if line.startswith("| Metric"))
    assert header == "| Metric | " + " | ".join(PAPER_COLUMNS) + " |"
    acc_row = next(line for line in md.splitlines() if line.startswith("| acc |"))
    cells = [c.strip() for c in acc_row.strip("|").split("|")][1:]
    assert cells == ["100.00", "-", "100.00", "-", "-", "-", "50.00", "-", "-", "50.00", "66.67"]
    console = Console(width=250, record=True)
    console.print(report_table(r))
    text = console.export_text()
    assert "66.67" in text and "Seq. Avg." in text and "Overall" in text


def test_plugin_task_goes_into_its_dimension_group() -> None:
    r = summarize(["df", "xq"], [True, False],
                  dimensions=["sequence_understanding", "sequence_understanding"])
    labels = [c.label for c in columns(r)]
    assert labels[:4] == ["DF", "MF", "XQ", "Seq. Avg."]
    assert r["dimensions"]["sequence_understanding"]["acc"] == 0.5
    with pytest.raises(UqaInputError, match="xq"):
        summarize(["xq"], [True])  # unknown task without a dimension column


def test_write_report_files_atomic_and_reloadable(tmp_path: Path) -> None:
    r = summarize(list(TASKS), [True] * 7, meta={"run": "w", "wall_time_s": 1.5})
    written = write_report(r, tmp_path / "report")
    assert set(written) == {"json", "md", "png"}
    assert Path(written["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert load_report(tmp_path / "report" / "report.json") == json.loads(json.dumps(r))
    assert "wall time: 1.5 s" in Path(written["md"]).read_text()
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [
        "accuracy.png", "report.json", "report.md"]  # no temp files left behind
    (tmp_path / "bad.json").write_text('{"schema": "other"}')
    with pytest.raises(UqaInputError, match="not a uqa report"):
        load_report(tmp_path / "bad.json")


@given(
    st.lists(st.tuples(st.sampled_from(TASKS), st.booleans(), st.booleans()),
             min_size=1, max_size=60)
)
def test_aggregates_are_consistent(rows: list[tuple[str, bool, bool]]) -> None:
    tasks = [t for t, _, _ in rows]
    acc = np.array([a for _, a, _ in rows])
    norm = np.array([b for _, _, b in rows])
    r = summarize(tasks, acc, correct_norm=norm)
    assert r["overall"]["n"] == len(rows) == sum(v["n"] for v in r["tasks"].values())
    assert r["overall"]["acc"] == pytest.approx(acc.mean())
    assert r["overall"]["acc_norm"] == pytest.approx(norm.mean())
    for d, entry in r["dimensions"].items():
        members = [r["tasks"][t] for t in entry["tasks"] if r["tasks"][t]["n"]]
        assert entry["n"] == sum(m["n"] for m in members)
        if members:
            weighted = sum(m["acc"] * m["n"] for m in members) / entry["n"]
            assert entry["acc"] == pytest.approx(weighted)
            lo, hi = min(m["acc"] for m in members), max(m["acc"] for m in members)
            assert lo - 1e-12 <= entry["macro_acc"] <= hi + 1e-12
        else:
            assert entry["acc"] is None and entry["macro_acc"] is None
        assert all(TASK_DIMENSION[t] == d for t in entry["tasks"])
    json.dumps(r)  # JSON-able as is


def test_answer_outside_options_names_questions_file(tmp_path: Path) -> None:
    q = write_questions(tmp_path / "qs.arrow", ["df", "li"], answers=["A", "F"])
    p = write_predictions(tmp_path / "p.arrow", question_id=["q0", "q1"], prediction=["A", "B"])
    with pytest.raises(UqaInputError, match=r"qs.arrow: row 1 \(question_id q1\): answer 'F'"):
        build_report(p, q, {})
    table = pa.table({"question_id": ["q0"], "task": ["si"], "dimension": pa.array([None],
                                                                                   pa.string())})
    q2 = write_table(table, tmp_path / "q2.arrow")
    p2 = write_predictions(tmp_path / "p2.arrow", question_id=["q0"], correct=[True])
    assert build_report(p2, q2, {})["dimensions"]["interest_perception"]["acc"] == 1.0
