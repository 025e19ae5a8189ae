"""Seed agreement: does a ranking of runs hold across seeds (uqa_eval.report.seeds)?"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from uqa_data.errors import UqaInputError
from uqa_data.io import write_json, write_table
from uqa_data.layout import RunLayout
from uqa_eval.report import build_report
from uqa_eval.report.seeds import (
    Control,
    kendall_tau_b,
    ranks,
    seed_agreement,
    seeds_markdown,
    seeds_tables,
    tau_b_interval,
    write_seed_agreement,
)

TASKS = ("df", "mf", "ip", "ap", "li", "si", "it")
N = 140  # 20 questions a sub-task, 60 of interest perception


def slow_tau_b(a: list[float], b: list[float]) -> float:
    """Reference: tau-b from its definition, (P - Q) / sqrt((P + Q + T_a)(P + Q + T_b)),
    T_a: pairs tied in a only."""
    p = q = ta = tb = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            x, y = a[i] - a[j], b[i] - b[j]
            if x == 0 and y == 0:
                continue
            if x == 0:
                ta += 1
            elif y == 0:
                tb += 1
            elif (x > 0) == (y > 0):
                p += 1
            else:
                q += 1
    denom = math.sqrt((p + q + ta) * (p + q + tb))
    return (p - q) / denom if denom else math.nan


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=8))
def test_tau_b_matches_its_definition_and_scipy(pairs: list[tuple[int, int]]) -> None:
    from scipy.stats import kendalltau

    a = [float(x) for x, _ in pairs]
    b = [float(y) for _, y in pairs]
    ours, ref = kendall_tau_b(a, b), slow_tau_b(a, b)
    if math.isnan(ref):
        assert math.isnan(ours)
        return
    assert ours == pytest.approx(ref, abs=1e-12)
    assert ours == pytest.approx(kendalltau(a, b, variant="b").statistic, abs=1e-9)


def slow_tau_interval(first: np.ndarray, second: np.ndarray, resamples: int,
                      seed: int) -> tuple[float, float] | None:
    """Reference: the same draws, each resample's accuracies ranked by the slow tau-b."""
    rng = np.random.default_rng(seed)
    draws = [rng.multinomial(c.shape[1], np.full(c.shape[1], 1 / c.shape[1]), size=resamples)
             for c in (first, second)]
    taus = []
    for r in range(resamples):
        acc = [[float((w[r] * row).sum()) for row in c]
               for w, c in zip(draws, (first, second), strict=True)]
        t = slow_tau_b(*acc)
        if not math.isnan(t):
            taus.append(t)
    if len(taus) * 2 <= resamples:
        return None
    lo, hi = np.quantile(taus, [0.025, 0.975])
    return float(lo), float(hi)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.integers(1, 30), st.integers(1, 30), st.integers(0, 2**16))
def test_tau_interval_matches_a_slow_reference(runs: int, n_a: int, n_b: int,
                                               seed: int) -> None:
    rng = np.random.default_rng(seed)
    first, second = rng.random((runs, n_a)) < 0.5, rng.random((runs, n_b)) < 0.5
    ours = tau_b_interval(first, second, resamples=60, seed=seed)
    ref = slow_tau_interval(first, second, 60, seed)
    assert (ours is None) == (ref is None)
    if ours is not None:
        assert ours == pytest.approx(ref, abs=1e-12)


def test_tau_interval_tells_a_ranking_from_question_noise() -> None:
    rng = np.random.default_rng(0)
    levels = np.array([[0.3], [0.5], [0.7], [0.9]])
    # four runs 20 points apart, ranked the same in both seeds: tau-b 1 on nearly every draw
    lo, hi = tau_b_interval(rng.random((4, 300)) < levels, rng.random((4, 300)) < levels)
    assert lo == 1.0 and hi == 1.0
    # four runs of the same skill: any ordering is question noise, the interval spans zero
    same = np.full((4, 1), 0.4)
    lo, hi = tau_b_interval(rng.random((4, 300)) < same, rng.random((4, 300)) < same)
    assert lo < -0.3 and hi > 0.3
    assert tau_b_interval(rng.random((1, 50)) < 0.5, rng.random((1, 50)) < 0.5) is None


def test_ranks_share_ties() -> None:
    assert ranks({"a": 0.5, "b": 0.7, "c": 0.5, "d": 0.1}) == {"b": 1, "a": 2.5, "c": 2.5,
                                                               "d": 4}


def make_run(root: Path, label: str, right: np.ndarray) -> Path:
    """A run that answered the shared questions, right where ``right`` says."""
    run = RunLayout(root / label)
    ids = [f"q{i}" for i in range(N)]
    write_table(pa.table({"question_id": ids, "task": [TASKS[i % 7] for i in range(N)]}),
                run.questions("eval"))
    write_table(pa.table({"question_id": ids, "correct": right.tolist()}), run.predictions)
    report = build_report(run.predictions, run.questions("eval"), {"run": label})
    from uqa_eval.report import write_report

    write_report(report, run.report)
    return run.root


def interest(i: int) -> bool:
    return TASKS[i % 7] in ("li", "si", "it")


def study_of(root: Path, seed: int, accuracy: dict[str, float]) -> dict[str, Path]:
    """Each run right on the first ``accuracy * n`` questions of each dimension block, so
    a run with a higher accuracy is right wherever a lower one is (a clean ordering)."""
    out = {}
    for label, acc in accuracy.items():
        right = np.zeros(N, dtype=bool)
        for keep in (np.array([interest(i) for i in range(N)]),
                     np.array([not interest(i) for i in range(N)])):
            idx = np.flatnonzero(keep)
            right[idx[: round(acc * len(idx))]] = True
        out[label] = make_run(root / f"seed-{seed}", label, right)
    write_json({"study": "t", "seed": seed}, root / f"seed-{seed}" / "study.json")
    return out


def test_agreement_ranks_taus_and_held_pairs(tmp_path: Path) -> None:
    first = study_of(tmp_path, 0, {"gru4rec": 0.2, "sasrec": 0.7, "hstu": 0.5})
    second = study_of(tmp_path, 1, {"gru4rec": 0.25, "sasrec": 0.75, "hstu": 0.2})
    agreement = seed_agreement({0: first, 1: second})
    assert agreement["metrics"] == ["acc"]  # no none: no acc_pmi
    res = agreement["results"]["acc"]["interest_perception"]
    assert res["accuracy"]["sasrec"]["0"]["n"] == 60
    assert res["accuracy"]["sasrec"]["0"]["acc"] == pytest.approx(42 / 60)
    lo, hi = res["accuracy"]["sasrec"]["0"]["lo"], res["accuracy"]["sasrec"]["0"]["hi"]
    assert lo < 42 / 60 < hi
    assert res["rank"] == {"gru4rec": {"0": 3, "1": 2}, "sasrec": {"0": 1, "1": 1},
                           "hstu": {"0": 2, "1": 3}}
    orders = ([0.2, 0.7, 0.5], [0.25, 0.75, 0.2])
    assert res["tau"][0]["tau_b"] == pytest.approx(slow_tau_b(*orders))
    assert res["tau"][0]["seeds"] == [0, 1]
    held = {(p["a"], p["b"]) for p in res["pairs"] if p["held"]}
    # sasrec beats both by 25+ points everywhere; gru4rec vs hstu flips between seeds
    assert held == {("gru4rec", "sasrec"), ("sasrec", "hstu")}
    md = seeds_markdown(agreement)
    assert "Kendall tau-b, seeds 0 and 1, Int. Avg. (3 runs): +0.33 [" in md
    # nested right answers keep each seed's order on every draw that separates the runs
    assert res["tau"][0]["lo"] <= res["tau"][0]["tau_b"] <= res["tau"][0]["hi"]
    assert "Pairs of runs apart beyond noise in all 2 seeds: 2 of 3: sasrec > gru4rec (+" in md
    assert "against their controls" not in md  # none given
    assert "| sasrec | 70.0 [" in md and "| 72.5 | 1 | 1 |" in md
    paths = write_seed_agreement(agreement, tmp_path / "report")
    assert json.loads(Path(paths["json"]).read_text())["results"]["acc"]["overall"]["tau"]
    assert Path(paths["md"]).read_text() == md
    # acc: interest perception and overall, each an accuracy table and a differences table
    assert len(seeds_tables(agreement)) == 4
    pooled = {(p["a"], p["b"]): p["pooled"] for p in res["pairs"]}
    same = pooled["gru4rec", "sasrec"]  # -50 points in both seeds
    assert same["diff"] == pytest.approx(-0.5, abs=1e-3) and same["signal"]
    assert same["tau2"] == 0 and same["i2"] == 0
    flips = pooled["gru4rec", "hstu"]  # -30 then +5 points: the seeds disagree
    assert flips["i2"] > 0.5 and not flips["signal"]
    assert "| gru4rec | hstu | -30.0 [" in md and "| Run | Compared with | seed 0 | seed 1 | "\
        "over the seeds | I2 |" in md


def test_every_seed_needs_the_same_runs(tmp_path: Path) -> None:
    first = study_of(tmp_path, 0, {"a": 0.2, "b": 0.4})
    second = study_of(tmp_path, 1, {"a": 0.2, "c": 0.4})
    with pytest.raises(UqaInputError, match="seed 1: runs b, c differ from seed 0's"):
        seed_agreement({0: first, 1: second})
    with pytest.raises(UqaInputError, match="at least two seeds"):
        seed_agreement({0: first})
    with pytest.raises(UqaInputError, match="at least two runs, or a run and a control"):
        seed_agreement({0: {"a": first["a"]}, 1: {"a": second["a"]}})


def test_controls_are_shown_and_compared_with_the_runs_they_stand_for(tmp_path: Path) -> None:
    """``none`` stands for every run, a run's own ``shuffled`` for that run only; neither is
    ranked; a control missing in one seed is left out."""
    runs, controls = {}, {}
    for seed in (0, 1):
        made = study_of(tmp_path, seed, {"a": 0.6, "b": 0.5, "none": 0.25, "a-shuffled": 0.2,
                                         "extra": 0.3})
        runs[seed] = {"a": made["a"], "b": made["b"]}
        controls[seed] = {"none": Control(made["none"]),
                          "a/shuffled": Control(made["a-shuffled"], owner="a")}
        if seed == 0:
            controls[seed]["oracle"] = Control(made["extra"])
    agreement = seed_agreement(runs, controls)
    assert agreement["controls"] == [{"label": "none", "owner": None},
                                     {"label": "a/shuffled", "owner": "a"}]
    res = agreement["results"]["acc"]["overall"]
    assert set(res["rank"]) == {"a", "b"} and res["tau"][0]["n"] == 2
    assert {(p["a"], p["b"], p["control"]) for p in res["pairs"]} == {
        ("a", "b", False), ("a", "none", True), ("b", "none", True), ("a", "a/shuffled", True)}
    assert all(p["held"] for p in res["pairs"] if p["control"])
    md = seeds_markdown(agreement)
    assert "Runs against their controls apart beyond noise in all 2 seeds: 3 of 3: a > none" in md
    assert "| none | 25.0 [" in md and "| 25.0 | - | - |" in md
    with pytest.raises(UqaInputError, match="at least two runs"):
        seed_agreement({0: {}, 1: {}}, {0: {"none": Control(runs[0]["a"])}})


def test_references_are_compared_with_the_controls_too(tmp_path: Path) -> None:
    """The oracle and an untrained encoder know the user: beside each run's own comparison
    with them, each is compared with the controls that stand for its run, as a single run's
    report does (the headline's "oracle over shuffled and none", over the seeds)."""
    runs, controls = {}, {}
    for seed in (0, 1):
        made = study_of(tmp_path, seed, {"a": 0.6, "b": 0.5, "none": 0.25, "a-shuffled": 0.2,
                                         "b-shuffled": 0.22, "a-random": 0.4, "oracle": 0.7})
        runs[seed] = {"a": made["a"], "b": made["b"]}
        controls[seed] = {
            "none": Control(made["none"]),
            "a/shuffled": Control(made["a-shuffled"], owner="a"),
            "b/shuffled": Control(made["b-shuffled"], owner="b"),
            "a/random": Control(made["a-random"], owner="a", reference=True),
            "oracle": Control(made["oracle"], reference=True, home="a")}
    agreement = seed_agreement(runs, controls)
    assert {"label": "oracle", "owner": None, "reference": True} in agreement["controls"]
    pairs = {(p["a"], p["b"]) for p in agreement["results"]["acc"]["overall"]["pairs"]}
    assert pairs == {("a", "b"), ("a", "none"), ("b", "none"), ("a", "a/shuffled"),
                     ("b", "b/shuffled"), ("a", "a/random"), ("a", "oracle"), ("b", "oracle"),
                     ("a/random", "none"), ("a/random", "a/shuffled"), ("oracle", "none"),
                     ("oracle", "a/shuffled")}
    pooled = {(p["a"], p["b"]): p["pooled"]
              for p in agreement["results"]["acc"]["overall"]["pairs"]}
    assert pooled["oracle", "none"]["diff"] == pytest.approx(0.45, abs=0.02)
    assert "| oracle | none | +" in seeds_markdown(agreement)


def test_a_constant_ranking_has_no_tau(tmp_path: Path) -> None:
    first = study_of(tmp_path, 0, {"a": 0.5, "b": 0.5})
    second = study_of(tmp_path, 1, {"a": 0.2, "b": 0.6})
    res = seed_agreement({0: first, 1: second})["results"]["acc"]["overall"]
    assert res["tau"][0]["tau_b"] is None
    assert "undefined" in seeds_markdown(seed_agreement({0: first, 1: second}))


@pytest.mark.parametrize(("llm", "expected"), [("smollm2", True), ("other", False)])
def test_study_variants_share_their_siblings_none(tmp_path: Path, llm: str,
                                                  expected: bool) -> None:
    """In a study ``none`` answers beside the first variant only; a sibling that answered
    the same question file with the same LLM reads it for acc_pmi; another LLM's does not."""
    from uqa_data.layout import RunState
    from uqa_eval.report.aggregate import no_user_predictions

    study = tmp_path / "study"
    write_json({"study": "table2"}, study / "study.json")
    first, second = RunLayout(study / "a"), RunLayout(study / "b")
    ids = [f"q{i}" for i in range(4)]
    write_table(pa.table({"question_id": ids, "task": ["si"] * 4,
                          "options": [["w", "x", "y", "z"]] * 4, "answer": list("ABCD")}),
                first.questions("eval"))
    second.questions("eval").parent.mkdir(parents=True)
    second.questions("eval").hardlink_to(first.questions("eval"))
    scores = pa.array([[0.0, -1.0, -2.0, -3.0]] * 4, pa.list_(pa.float64()))
    for run, name in ((first, "smollm2"), (second, llm)):
        state = RunState.load(run)
        state.data.update({"name": run.root.name, "settings": {"llm": name}})
        state.done("eval", config={"baseline": None}, seconds=1.0)
        write_table(pa.table({"question_id": ids, "correct": [True] * 4,
                              "option_scores": scores}), run.predictions)
    write_table(pa.table({"question_id": ids, "correct": [True] * 4,
                          "option_scores": scores}), first.baseline("none").predictions)
    assert no_user_predictions(first) == first.baseline("none").predictions
    found = no_user_predictions(second)
    assert (found == first.baseline("none").predictions) if expected else found is None
    (study / "study.json").unlink()  # not a study: runs side by side share nothing
    assert no_user_predictions(second) is None


def test_pairs_apart_in_one_seed_only_are_not_held(tmp_path: Path) -> None:
    first = study_of(tmp_path, 0, {"a": 0.1, "b": 0.9})
    second = study_of(tmp_path, 1, {"a": 0.5, "b": 0.5})
    res = seed_agreement({0: first, 1: second})["results"]["acc"]["overall"]
    (pair,) = res["pairs"]
    assert pair["per_seed"]["0"]["signal"] and not pair["per_seed"]["1"]["signal"]
    assert not pair["held"]


def test_what_each_run_carries_is_pooled_over_the_seeds_by_attribute(tmp_path: Path) -> None:
    """A run right on every brand question and at the control's level elsewhere gains on
    brands in each seed and over them, nowhere else; run pairs are not tabled by attribute."""
    attrs = ["category", "brand", "shop", None]
    ids = [f"q{i}" for i in range(N)]
    rng = np.random.default_rng(5)

    def run(root: Path, right: np.ndarray) -> Path:
        layout = RunLayout(root)
        write_table(pa.table({"question_id": ids, "task": [TASKS[i % 7] for i in range(N)],
                              "attribute": [attrs[i % 4] for i in range(N)]}),
                    layout.questions("eval"))
        write_table(pa.table({"question_id": ids, "correct": right.tolist()}),
                    layout.predictions)
        return layout.root

    runs, controls, brand = {}, {}, np.arange(N) % 4 == 1
    for seed in (0, 1):
        none = rng.random(N) < 0.25
        runs[seed] = {"a": run(tmp_path / f"s{seed}" / "a", none | brand),
                      "b": run(tmp_path / f"s{seed}" / "b", none)}
        controls[seed] = {"none": Control(run(tmp_path / f"s{seed}" / "none", none))}
    agreement = seed_agreement(runs, controls)
    rows = {(p["a"], p["b"]): p["columns"] for p in agreement["attributes"]["acc"]}
    assert set(rows) == {("a", "none"), ("b", "none")}
    gain = rows["a", "none"]
    assert set(gain) == {"category", "brand", "shop"}  # no title question
    for s, d in gain["brand"]["per_seed"].items():
        assert d["n"] == N // 4 and d["signal"], s
    assert gain["brand"]["pooled"]["signal"] and gain["brand"]["pooled"]["diff"] > 0.5
    assert not gain["category"]["pooled"]["signal"] and gain["shop"]["pooled"]["diff"] == 0
    assert not any(c["pooled"]["signal"] for c in rows["b", "none"].values())
    md = seeds_markdown(agreement)
    section = md.split("## `acc`, what it carries over the seeds, by attribute")[1]
    assert "| Run | Compared with | Category | Brand | Shop |" in section
    assert "| a | none | +0.0 [" in section
    assert any(t.title.startswith("what it carries over the seeds: acc")
               for t in seeds_tables(agreement))
