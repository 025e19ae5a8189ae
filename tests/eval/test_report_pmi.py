"""acc_pmi: each option's score minus its score without the user (the `none` baseline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from uqa_data.errors import UqaInputError
from uqa_data.io import write_table
from uqa_data.layout import RunLayout
from uqa_eval.report import build_report, compare_runs, comparison_markdown
from uqa_eval.report.aggregate import no_user_predictions, read_verdicts

LETTERS = "ABCD"


def write_questions(path: Path, answers: list[str], tasks: list[str] | None = None) -> Path:
    n = len(answers)
    return write_table(pa.table({
        "question_id": [f"q{i}" for i in range(n)],
        "task": tasks or ["si"] * n,
        "options": [["w", "x", "y", "z"]] * n,
        "answer": answers,
    }), path)


def write_scores(path: Path, scores: list[list[float]], answers: list[str],
                 ids: list[str] | None = None, **extra: list) -> Path:
    """Predictions as the eval stage writes them: verdicts of the plain argmax, and scores."""
    picks = [LETTERS[int(np.argmax(s))] for s in scores]
    return write_table(pa.table({
        "question_id": ids or [f"q{i}" for i in range(len(scores))],
        "prediction": picks,
        "correct": [p == a for p, a in zip(picks, answers, strict=True)],
        "option_scores": pa.array(scores, pa.list_(pa.float64())),
        **extra,
    }), path)


def slow_pmi(subject: list[list[float]], none: list[list[float]], answers: list[str]
             ) -> list[bool]:
    """Reference: the first option with the largest rise, one question at a time."""
    out = []
    for s, n, a in zip(subject, none, answers, strict=True):
        rises = [x - y for x, y in zip(s, n, strict=True)]
        best = 0
        for i, r in enumerate(rises):
            if r > rises[best]:
                best = i
        out.append(LETTERS[best] == a)
    return out


score = st.floats(-30.0, 0.0, allow_nan=False).map(lambda x: round(x, 3))
question = st.tuples(st.lists(score, min_size=4, max_size=4),
                     st.lists(score, min_size=4, max_size=4), st.sampled_from(LETTERS))


@settings(max_examples=40, deadline=None)
@given(st.lists(question, min_size=1, max_size=30))
def test_pmi_verdicts_match_a_slow_reference(tmp_path_factory: pytest.TempPathFactory,
                                             rows: list) -> None:
    tmp = tmp_path_factory.mktemp("pmi")
    subject, none, answers = (list(c) for c in zip(*rows, strict=True))
    q = write_questions(tmp / "q.arrow", answers)
    p = write_scores(tmp / "p.arrow", subject, answers)
    n = write_scores(tmp / "n.arrow", none, answers, ids=[f"q{i}" for i in
                                                         reversed(range(len(none)))])
    # the no-user file lists the questions in another order: joined on question_id
    n_rows = write_scores(tmp / "n2.arrow", list(reversed(none)), answers,
                          ids=[f"q{i}" for i in reversed(range(len(none)))])
    v = read_verdicts(p, q, n_rows)
    assert v.correct_pmi is not None
    assert v.correct_pmi.tolist() == slow_pmi(subject, none, answers)
    assert read_verdicts(p, q, n).correct_pmi is not None  # any order reads


def test_a_prior_the_user_cannot_move_is_taken_out(tmp_path: Path) -> None:
    """The LLM prefers option A whatever the user; the user's context raises the gold
    option by one nat: acc misses every question, acc_pmi gets them all."""
    answers = ["B", "C", "D", "B"]
    none = [[-1.0, -9.0, -9.0, -9.0] for _ in answers]
    subject = [[s + (1.0 if LETTERS[i] == a else 0.0) for i, s in enumerate(row)]
               for row, a in zip(none, answers, strict=True)]
    q = write_questions(tmp_path / "q.arrow", answers)
    p = write_scores(tmp_path / "p.arrow", subject, answers)
    n = write_scores(tmp_path / "n.arrow", none, answers)
    r = build_report(p, q, no_user=n)
    assert r["overall"]["acc"] == 0.0
    assert r["overall"]["acc_pmi"] == 1.0
    assert r["overall"]["ci_pmi"][0] > 0.4 and r["tasks"]["si"]["acc_pmi"] == 1.0
    assert "acc_pmi" in r["metrics"] and r["overall"]["macro_acc_pmi"] == 1.0
    # none itself: every rise is zero, so it keeps its own verdicts
    own = build_report(n, q, no_user=n)
    assert own["overall"]["acc_pmi"] == own["overall"]["acc"] == 0.0
    # without a no-user file there is no acc_pmi at all (older reports read the same)
    assert "acc_pmi" not in build_report(p, q)["overall"]


def test_no_pmi_without_scores_for_every_question(tmp_path: Path) -> None:
    answers = ["A", "B"]
    q = write_questions(tmp_path / "q.arrow", answers)
    p = write_scores(tmp_path / "p.arrow", [[0.0, -1, -2, -3]] * 2, answers)
    partial = write_scores(tmp_path / "n.arrow", [[0.0, -1, -2, -3]], ["A"])
    assert read_verdicts(p, q, partial).correct_pmi is None
    generated = write_scores(tmp_path / "g.arrow", [[0.0, -1, -2, -3]] * 2, answers,
                             generated=["A", "B"])
    assert read_verdicts(generated, q, p).correct_pmi is None  # generation: no option scores
    three = write_scores(tmp_path / "n3.arrow", [[0.0, -1, -2]] * 2, answers)
    with pytest.raises(UqaInputError, match=r"n3\.arrow: question_id 'q0' has 3 option scores"):
        read_verdicts(p, q, three)


def test_a_run_beside_its_none_baseline_reports_pmi_differences(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    answers = [LETTERS[i % 4] for i in range(40)]
    none = rng.normal(-5, 1, size=(40, 4)).tolist()
    # the run's user context adds two nats to the gold option: a clear signal under acc_pmi
    subject = [[s + (2.0 if LETTERS[i] == a else 0.0) for i, s in enumerate(row)]
               for row, a in zip(none, answers, strict=True)]
    run = RunLayout(tmp_path / "run")
    write_questions(run.questions("eval"), answers)
    write_scores(run.predictions, subject, answers)
    write_scores(run.baseline("none").predictions, none, answers)
    assert no_user_predictions(run) == run.baseline("none").predictions
    assert no_user_predictions(RunLayout(tmp_path / "other")) is None
    comparison = compare_runs([run.root, run.baseline("none").root])
    pmi = [d for d in comparison["differences"] if d["metric"] == "acc_pmi"]
    assert len(pmi) == 1 and pmi[0]["reference"] == "None (no user)"
    overall = pmi[0]["columns"]["overall"]
    ours = next(r for r in comparison["runs"] if r["run_dir"] == str(run.root))
    none_acc = comparison["runs"][0]["report"]["overall"]["acc"]
    assert overall["diff"] == pytest.approx(ours["report"]["overall"]["acc_pmi"] - none_acc)
    assert ours["report"]["overall"]["acc_pmi"] == 1.0 and overall["signal"]
    md = comparison_markdown(comparison)
    assert "## Is it signal? acc_pmi differences from the controls" in md
    assert "## acc_pmi: option whose summed log-probability rises most" in md


def test_none_answers_first_so_every_later_report_has_its_scores() -> None:
    from uqa_eval.baselines import in_answer_order

    assert in_answer_order(["shuffled", "oracle", "none", "random"]) == [
        "none", "shuffled", "oracle", "random"]
    assert in_answer_order(["shuffled"]) == ["shuffled"]


def test_rebuilding_a_report_keeps_its_facts_and_adds_pmi(tmp_path: Path) -> None:
    """`uqa report RUN --rebuild` on a baseline written before acc_pmi existed: the new
    report has acc_pmi and still says which LLM and mode answered."""
    import json

    from typer.testing import CliRunner
    from uqa_cli.main import app
    from uqa_eval.report import write_report

    answers = ["A", "B", "C", "D"]
    run = RunLayout(tmp_path / "run")
    write_questions(run.questions("eval"), answers)
    none = [[-1.0, -2.0, -3.0, -4.0]] * 4
    write_scores(run.baseline("none").predictions, none, answers)
    shuffled = run.baseline("shuffled")
    write_scores(shuffled.predictions, none, answers)
    old = build_report(shuffled.predictions, run.questions("eval"),
                       {"llm": "smollm2", "mode": "loglik", "baseline": "shuffled"})
    write_report(old, shuffled.report)
    assert "acc_pmi" not in old["overall"]
    result = CliRunner().invoke(app, ["report", str(shuffled.root), "--rebuild"])
    assert result.exit_code == 0, result.output
    new = json.loads(shuffled.report_json.read_text())
    assert new["overall"]["acc_pmi"] == 0.25  # every rise is zero: the first option wins
    assert new["meta"]["llm"] == "smollm2" and new["meta"]["mode"] == "loglik"
