"""A stage command run alone after `uqa run` (uqa eval --mode letters): the next run does
not take the rewritten outputs for its own, and reports say how the predictions were
answered and compare them only with controls answered the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
from uqa_data.io import write_table
from uqa_data.layout import RunLayout, RunState
from uqa_eval.pipeline import Pipeline, Stage
from uqa_eval.report import build_report, compare_runs
from uqa_eval.report.aggregate import no_user_predictions, predictions_facts


def test_a_stage_whose_outputs_were_rewritten_runs_again(tmp_path: Path) -> None:
    run = tmp_path / "run"
    out = run / "predictions" / "eval.arrow"
    calls: list[int] = []

    def stage() -> Stage:
        def write() -> None:
            calls.append(1)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("loglik answers")
        return Stage("eval", write, {"mode": "loglik"}, [out])

    Pipeline(run, {}).execute(stage())
    stamps = json.loads((run / "run.json").read_text())["stages"]["eval"]["stamps"]
    assert list(stamps) == ["predictions/eval.arrow"]
    assert stamps["predictions/eval.arrow"][0] == len("loglik answers")
    Pipeline(run, {}).execute(stage())
    assert len(calls) == 1  # unchanged: skipped
    import shutil

    shutil.copytree(run, tmp_path / "copy", copy_function=shutil.copy)  # new mtimes
    copied = Pipeline(tmp_path / "copy", {})
    copied.execute(stage())
    assert copied.skipped == ["eval"]  # a copied run is still done
    out.write_text("letters answers, written by `uqa eval --mode letters`")
    pipeline = Pipeline(run, {})
    pipeline.execute(stage())
    assert len(calls) == 2 and pipeline.ran == ["eval"]
    assert out.read_text() == "loglik answers"


def _predictions(path: Path, mode: str, correct: list[bool],
                 scores: list[list[float]] | None = None) -> Path:
    n = len(correct)
    table = pa.table({"question_id": [f"q{i}" for i in range(n)], "correct": correct,
                      "option_scores": pa.array(scores or [[0.0, -1.0, -2.0, -3.0]] * n,
                                                pa.list_(pa.float64()))})
    table = table.replace_schema_metadata({"uqa.mode": mode, "uqa.llm": "smollm2"})
    return write_table(table, path)


def _run(root: Path, mode: str, none_mode: str) -> RunLayout:
    layout = RunLayout(root)
    write_table(pa.table({"question_id": [f"q{i}" for i in range(4)], "task": ["si"] * 4,
                          "options": [["w", "x", "y", "z"]] * 4, "answer": list("AABB")}),
                layout.questions("eval"))
    state = RunState.load(layout)
    state.data.update({"name": root.name, "settings": {"llm": "smollm2", "mode": "loglik"}})
    state.done("eval", config={"baseline": None, "mode": "loglik"}, seconds=1.0)
    _predictions(layout.predictions, mode, [True, True, False, False],
                 [[0.0, -1.0, -2.0, -3.0]] * 2 + [[-3.0, -2.0, -1.0, 0.0]] * 2)
    _predictions(layout.baseline("none").predictions, none_mode, [False] * 4,
                 [[-5.0, 0.0, 0.0, 0.0]] * 4)
    return layout


def test_the_predictions_say_how_they_were_answered(tmp_path: Path) -> None:
    layout = _run(tmp_path / "run", "letters", "loglik")
    assert predictions_facts(layout.predictions) == {"mode": "letters", "llm": "smollm2"}
    report = build_report(layout.predictions, layout.questions("eval"), layout.facts(),
                          no_user_predictions(layout))
    assert layout.facts()["mode"] == "loglik"  # run.json, not updated by `uqa eval`
    assert report["meta"]["mode"] == "letters"
    assert no_user_predictions(layout) is None  # a loglik none is no letters control
    assert report["overall"].get("acc_pmi") is None
    same = _run(tmp_path / "same", "loglik", "loglik")
    assert no_user_predictions(same) == same.baseline("none").predictions
    assert predictions_facts(tmp_path / "missing.arrow") == {}


def test_controls_answered_another_way_are_not_compared(tmp_path: Path) -> None:
    letters = _run(tmp_path / "letters", "letters", "loglik")
    comparison = compare_runs([letters.root, letters.baseline("none").root])
    assert comparison["differences"] == []
    loglik = _run(tmp_path / "loglik", "loglik", "loglik")
    comparison = compare_runs([loglik.root, loglik.baseline("none").root])
    assert {d["reference_dir"] for d in comparison["differences"]} == {
        str(loglik.baseline("none").root)}


def test_controls_of_other_questions_are_not_compared(tmp_path: Path) -> None:
    """Two runs whose question files share ids but not questions (two seeds of a study):
    neither is compared with the other's controls."""
    first = _run(tmp_path / "a", "loglik", "loglik")
    second = _run(tmp_path / "b", "loglik", "loglik")
    write_table(pa.table({"question_id": [f"q{i}" for i in range(4)], "task": ["li"] * 4,
                          "options": [["p", "q", "r", "s"]] * 4, "answer": list("CCDD")}),
                second.questions("eval"))
    comparison = compare_runs([first.root, first.baseline("none").root, second.root,
                               second.baseline("none").root])
    pairs = {(d["subject_dir"], d["reference_dir"]) for d in comparison["differences"]}
    assert pairs == {(str(first.root), str(first.baseline("none").root)),
                     (str(second.root), str(second.baseline("none").root))}

