"""The same runs over several alignments (uqa_eval.report.alignments): averaged verdicts,
intervals widened by the alignments' spread."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from uqa_data.errors import UqaInputError
from uqa_eval.report.alignments import (
    alignment_agreement,
    alignments_markdown,
    alignments_tables,
    disagreement,
    replicate_difference,
    write_alignment_agreement,
)
from uqa_eval.report.seeds import Control

from tests.eval.test_report_seeds import N, interest, make_run


def slow_difference(sides: list[tuple[float, np.ndarray]]) -> tuple[float, float, float]:
    """Reference: ``(diff, question variance, alignment variance)`` by explicit loops."""
    q = sides[0][1].shape[1]
    scores = []
    for j in range(q):
        s = 0.0
        for sign, m in sides:
            s += sign * sum(m[k][j] for k in range(m.shape[0])) / m.shape[0]
        scores.append(s)
    mean = sum(scores) / q
    question = sum((x - mean) ** 2 for x in scores) / (q - 1) / q if q > 1 else 0.0
    alignment = 0.0
    for _, m in sides:
        k = m.shape[0]
        if k < 2:
            continue
        accs = [sum(m[i]) / q for i in range(k)]
        centre = sum(accs) / k
        alignment += sum((a - centre) ** 2 for a in accs) / (k - 1) / k
    return mean, question, alignment


@settings(max_examples=120, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 40), st.integers(0, 2**16))
def test_difference_matches_a_slow_reference(k_a: int, k_b: int, q: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = (rng.random((k_a, q)) < rng.random()).astype(float)
    b = (rng.random((k_b, q)) < rng.random()).astype(float)
    from scipy.stats import t

    ours = replicate_difference([(1.0, a), (-1.0, b)])
    diff, question, alignment = slow_difference([(1.0, a), (-1.0, b)])
    parts = [(question, q - 1)] + [(float(np.var(m.mean(1), ddof=1)) / m.shape[0],
                                    m.shape[0] - 1) for m in (a, b) if m.shape[0] > 1]
    total = question + alignment
    df = total ** 2 / sum(v ** 2 / k for v, k in parts if v > 0) if total > 0 else math.inf
    half = float(t.ppf(0.975, df)) * math.sqrt(total) if total > 0 else 0.0
    assert ours["df"] == (None if math.isinf(df) else pytest.approx(df, rel=1e-9))
    assert ours["n"] == q
    assert ours["diff"] == pytest.approx(diff, abs=1e-12)
    assert ours["lo"] == pytest.approx(diff - half, abs=1e-9)
    assert ours["hi"] == pytest.approx(diff + half, abs=1e-9)
    if abs(abs(diff) - half) > 1e-9:
        assert ours["signal"] == (half < abs(diff))
    assert ours["alignment_share"] == pytest.approx(alignment / total if total else 0.0,
                                                    abs=1e-12)
    # b - a is the mirror image
    back = replicate_difference([(1.0, b), (-1.0, a)])
    assert back["diff"] == pytest.approx(-ours["diff"], abs=1e-12)
    assert back["lo"] == pytest.approx(-ours["hi"], abs=1e-12)


def test_alignments_that_agree_add_nothing_and_ones_that_disagree_widen() -> None:
    rng = np.random.default_rng(0)
    row = rng.random(300) < 0.5
    other = rng.random(300) < 0.3
    agreeing = replicate_difference([(1.0, np.stack([row, row]).astype(float)),
                                     (-1.0, np.stack([other, other]).astype(float))])
    single = replicate_difference([(1.0, row[None].astype(float)),
                                   (-1.0, other[None].astype(float))])
    assert agreeing["alignment_share"] == 0.0
    assert (agreeing["lo"], agreeing["hi"]) == pytest.approx((single["lo"], single["hi"]))
    assert agreeing["df"] == 299  # the questions' alone
    apart = rng.random(300) < 0.8  # a second alignment 30 points above the first
    spread = replicate_difference([(1.0, np.stack([row, apart]).astype(float)),
                                   (-1.0, np.stack([other, other]).astype(float))])
    assert spread["hi"] - spread["lo"] > 2 * (agreeing["hi"] - agreeing["lo"])
    assert spread["alignment_share"] > 0.5 and spread["df"] < 3  # two alignments: rough
    # a third alignment between the two: the spread is known better, the interval narrows
    middle = rng.random(300) < 0.65
    three = replicate_difference([(1.0, np.stack([row, apart, middle]).astype(float)),
                                  (-1.0, np.stack([other, other, other]).astype(float))])
    assert three["df"] > spread["df"]
    assert three["hi"] - three["lo"] < spread["hi"] - spread["lo"]
    assert replicate_difference([(1.0, np.zeros((2, 0)))])["diff"] is None


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 5), st.integers(0, 30), st.integers(0, 2**16))
def test_disagreement_is_the_mean_share_over_every_two(k: int, q: int, seed: int) -> None:
    m = np.random.default_rng(seed).random((k, q)) < 0.5
    ours = disagreement(m)
    if k < 2 or q == 0:
        assert ours is None
        return
    pairs = list(itertools.combinations(range(k), 2))
    ref = sum(sum(m[i][j] != m[h][j] for j in range(q)) / q for i, h in pairs) / len(pairs)
    assert ours == pytest.approx(ref, abs=1e-12)


def right_at(acc: float) -> np.ndarray:
    """Right on the first ``acc`` of each dimension block's questions (as the seeds tests)."""
    right = np.zeros(N, dtype=bool)
    for keep in (np.array([interest(i) for i in range(N)]),
                 np.array([not interest(i) for i in range(N)])):
        idx = np.flatnonzero(keep)
        right[idx[: round(acc * len(idx))]] = True
    return right


def replicate(root: Path, accuracy: dict[str, float]) -> dict[str, Path]:
    return {label: make_run(root, label, right_at(acc)) for label, acc in accuracy.items()}


def test_a_gap_that_one_alignment_calls_signal_is_not_once_they_disagree(
        tmp_path: Path) -> None:
    """Run a answers alike in both alignments; run b's two alignments are 20 points apart.
    Each alignment alone puts a well above b; averaged, with their spread, the gap is not
    told from the alignment; a against ``none`` is."""
    first = replicate(tmp_path / "align-0", {"a": 0.6, "b": 0.35, "none": 0.25})
    second = replicate(tmp_path / "align-1", {"a": 0.6, "b": 0.55, "none": 0.25})
    runs = [{k: r[k] for k in ("a", "b")} for r in (first, second)]
    controls = [{"none": Control(r["none"])} for r in (first, second)]
    agreement = alignment_agreement(runs, controls, names=["seed 0", "seed 1"],
                                    align_seeds=[0, 1])
    assert agreement["replicates"] == [{"name": "seed 0", "align_seed": 0},
                                       {"name": "seed 1", "align_seed": 1}]
    assert agreement["labels"] == ["a", "b"] and agreement["metrics"] == ["acc"]
    res = agreement["results"]["acc"]["overall"]
    b = res["accuracy"]["b"]
    assert b["per_replicate"] == pytest.approx([0.35, 0.55], abs=0.01)
    assert b["acc"] == pytest.approx(0.45, abs=0.01)
    assert b["spread"] == pytest.approx(np.std([0.35, 0.55], ddof=1), abs=0.01)
    assert b["disagree"] == pytest.approx(0.2, abs=0.01)
    assert res["accuracy"]["a"]["spread"] == 0 and res["accuracy"]["a"]["disagree"] == 0
    assert res["rank"] == {"a": 1, "b": 2}
    pairs = {(p["a"], p["b"]): p for p in res["pairs"]}
    assert set(pairs) == {("a", "b"), ("a", "none"), ("b", "none")}
    ab = pairs["a", "b"]
    assert ab["per_replicate"] == pytest.approx([0.25, 0.05], abs=0.01)
    assert not ab["signal"] and ab["alignment_share"] > 0.5
    # one alignment alone, with the same formula: the gap is signal
    from uqa_data.layout import RunLayout
    from uqa_eval.report.aggregate import paired_differences
    from uqa_eval.report.compare import run_verdicts

    alone = paired_differences(run_verdicts(first["a"]), run_verdicts(first["b"]))
    assert alone["columns"]["overall"]["signal"]
    assert pairs["a", "none"]["signal"] and pairs["a", "none"]["control"]
    md = alignments_markdown(agreement)
    assert "# The same runs over 2 alignments" in md
    assert "Alignments: seed 0 (align.seed 0), seed 1 (align.seed 1)." in md
    assert "| b | 35.0 | 55.0 | 45.0 [" in md
    assert "Pairs of runs apart beyond question sampling and the alignments' spread: 0 of 1" \
        in md
    # b's alignments disagree by 20 points: even 20 points over none is not told from them
    assert "Runs against their controls apart beyond question sampling and the alignments' " \
        "spread: 1 of 2: a > none\n" in md
    assert "Kendall tau-b between alignments 1 and 2, Overall (2 runs): +1.00" in md
    paths = write_alignment_agreement(agreement, tmp_path / "report")
    assert Path(paths["md"]).read_text() == md
    assert json.loads(Path(paths["json"]).read_text())["schema"] == "uqa-alignments/1"
    assert len(alignments_tables(agreement)) == 4  # two columns, accuracies and differences
    assert RunLayout(first["a"]).report_json.is_file()


def test_replicates_need_the_same_runs_and_questions(tmp_path: Path) -> None:
    first = replicate(tmp_path / "r0", {"a": 0.5, "b": 0.4})
    second = replicate(tmp_path / "r1", {"a": 0.5, "c": 0.4})
    with pytest.raises(UqaInputError, match="replicate 2: runs b, c differ from replicate 1's"):
        alignment_agreement([first, second])
    with pytest.raises(UqaInputError, match="at least two"):
        alignment_agreement([first])
    with pytest.raises(UqaInputError, match="at least two runs, or a run and a control"):
        alignment_agreement([{"a": first["a"]}, {"a": second["a"]}])
    # other questions (another data seed): refused, naming the run
    from uqa_data.io import read_table, write_table
    from uqa_data.layout import RunLayout

    other = RunLayout(second["a"])
    table = read_table(other.questions("eval"))
    ids = [f"x{i}" for i in range(table.num_rows)]
    write_table(table.set_column(0, "question_id", [ids]), other.questions("eval"))
    preds = read_table(other.predictions)
    write_table(preds.set_column(0, "question_id", [ids]), other.predictions)
    third = replicate(tmp_path / "r2", {"b": 0.4})
    with pytest.raises(UqaInputError, match=r"r1/a: answered other questions than .*"
                       r"same data and questions"):
        alignment_agreement([first, {"a": second["a"], "b": third["b"]}])


def test_seeds_each_read_over_their_alignments(tmp_path: Path) -> None:
    """Two seeds, two alignments each: a is above b by 25+ points in every alignment of
    both seeds (held); c's alignments disagree by 20 points in seed 1 (not held against
    b); the seeds' ranks and tau-b come from the alignment-averaged accuracies."""
    from uqa_eval.report.alignments import seed_alignment_agreement
    from uqa_eval.report.seeds import seeds_markdown, seeds_tables

    levels = {0: ({"a": 0.7, "b": 0.4, "c": 0.55, "none": 0.25},
                  {"a": 0.7, "b": 0.4, "c": 0.55, "none": 0.25}),
              1: ({"a": 0.75, "b": 0.45, "c": 0.35, "none": 0.25},
                  {"a": 0.75, "b": 0.45, "c": 0.55, "none": 0.25})}
    per_seed = {}
    for seed, reps in levels.items():
        made = [replicate(tmp_path / f"s{seed}" / f"a{k}", acc) for k, acc in enumerate(reps)]
        per_seed[seed] = alignment_agreement(
            [{lab: m[lab] for lab in ("a", "b", "c")} for m in made],
            [{"none": Control(m["none"])} for m in made], align_seeds=[0, 1])
    agreement = seed_alignment_agreement(per_seed)
    assert agreement["seeds"] == [0, 1] and agreement["labels"] == ["a", "b", "c"]
    res = agreement["results"]["acc"]["overall"]
    assert res["accuracy"]["c"]["1"]["acc"] == pytest.approx(0.45, abs=0.01)
    assert res["rank"] == {"a": {"0": 1, "1": 1}, "b": {"0": 3, "1": 2.5},
                           "c": {"0": 2, "1": 2.5}}  # seed 1: b 45, c (35 + 55) / 2
    pairs = {(p["a"], p["b"]): p for p in res["pairs"]}
    assert pairs["a", "b"]["held"] and pairs["a", "none"]["held"]
    assert not pairs["b", "c"]["held"]  # seed 1: c's alignments 20 points apart
    assert pairs["a", "b"]["pooled"]["diff"] == pytest.approx(0.3, abs=0.01)
    assert pairs["a", "b"]["per_seed"]["1"] == per_seed[1]["results"]["acc"]["overall"][
        "pairs"][0]
    assert res["tau"][0]["seeds"] == [0, 1] and res["tau"][0]["lo"] is None
    md = seeds_markdown(agreement)
    assert "each seed's averaged over its alignments (2, 2 per seed)" in md
    assert "Wilson" not in md
    assert "(%, 95% over questions and alignments)" in str(
        [t.title for t in seeds_tables(agreement)])
    other = dict(per_seed[1], labels=["a", "b"])
    with pytest.raises(UqaInputError, match="seed 1: its runs and controls differ"):
        seed_alignment_agreement({0: per_seed[0], 1: other})
    with pytest.raises(UqaInputError, match="at least two seeds"):
        seed_alignment_agreement({0: per_seed[0]})
