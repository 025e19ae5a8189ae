"""Intervals and paired tests: every accuracy says how sure it is, every comparison with a
control says whether it is signal."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from uqa_data.io import write_table
from uqa_eval.report import build_report, compare_runs, comparison_markdown, report_markdown
from uqa_eval.significance import Z95, mcnemar_p, paired_difference, pooled_difference, wilson


def _wilson_reference(k: int, n: int) -> tuple[float, float]:
    """Solve |p - k/n| = z * sqrt(p (1 - p) / n) for p (the score interval's definition)."""
    z = 1.959963984540054
    phat = k / n

    def inside(p: float) -> bool:
        return (phat - p) ** 2 <= z * z * p * (1 - p) / n

    grid = np.linspace(0, 1, 200001)
    ok = grid[[inside(p) for p in grid]]
    return float(ok.min()), float(ok.max())


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (50, 100), (99, 100), (7, 7)])
def test_wilson_interval_is_the_score_interval(k: int, n: int) -> None:
    lo, hi = wilson(k, n)
    rlo, rhi = _wilson_reference(k, n)
    assert lo == pytest.approx(rlo, abs=2e-5) and hi == pytest.approx(rhi, abs=2e-5)
    assert wilson(0, 0) is None


def test_mcnemar_matches_the_binomial_tail() -> None:
    assert mcnemar_p(0, 0) == 1.0
    assert mcnemar_p(5, 5) == 1.0
    # 10 discordant questions all won by one side: 2 * 0.5**10
    assert mcnemar_p(10, 0) == pytest.approx(2 * 0.5**10)
    assert mcnemar_p(2, 8) == pytest.approx(2 * sum(math.comb(10, i) for i in range(3)) / 1024)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=80))
def test_paired_difference_brackets_the_difference(pairs: list[tuple[bool, bool]]) -> None:
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    d = paired_difference(a, b)
    assert d["diff"] == pytest.approx(np.mean(a) - np.mean(b))
    assert d["lo"] <= d["diff"] + 1e-12 and d["diff"] <= d["hi"] + 1e-12
    assert d["signal"] == (d["lo"] > 0 or d["hi"] < 0)
    assert paired_difference(a, b) == d  # deterministic
    flipped = paired_difference(b, a)
    assert flipped["diff"] == pytest.approx(-d["diff"]) and flipped["p"] == d["p"]


def test_a_large_gain_is_signal_and_noise_is_not() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(300) < 0.25
    better = base | (rng.random(300) < 0.3)  # about +22 points on the same questions
    noise = rng.random(300) < 0.25
    assert paired_difference(better, base)["signal"]
    assert paired_difference(better, base)["p"] < 1e-6
    same = paired_difference(noise, rng.random(300) < 0.25)
    assert not same["signal"] and same["p"] > 0.05


def _questions(n: int) -> pa.Table:
    tasks = ["li", "si", "ap", "mf"] * (n // 4)
    return pa.table({
        "question_id": [f"q{i}" for i in range(n)], "task": tasks,
        "attribute": ["category", "brand", "shop", "category"] * (n // 4),
        "answer": ["A"] * n,
    })


def _run(path: Path, correct: np.ndarray) -> Path:
    write_table(pa.table({"question_id": [f"q{i}" for i in range(len(correct))],
                          "correct": pa.array(correct.tolist(), pa.bool_())}),
                path / "predictions" / "eval.arrow")
    return path


def _seed(diff: float, se: float, n: int = 300) -> dict:
    return {"n": n, "diff": diff, "lo": diff - Z95 * se, "hi": diff + Z95 * se}


def test_pooled_difference_is_dersimonian_laird() -> None:
    """Worked by hand: three seeds, standard errors 0.03, 0.04, 0.05."""
    y, se = np.array([0.02, 0.10, 0.20]), np.array([0.03, 0.04, 0.05])
    w = 1 / se**2
    fixed = (w * y).sum() / w.sum()
    q = (w * (y - fixed) ** 2).sum()
    tau2 = (q - 2) / (w.sum() - (w**2).sum() / w.sum())
    ws = 1 / (se**2 + tau2)
    mean, half = (ws * y).sum() / ws.sum(), Z95 / math.sqrt(ws.sum())
    got = pooled_difference([_seed(a, b) for a, b in zip(y, se, strict=True)])
    assert got["tau2"] == pytest.approx(tau2) and tau2 > 0
    assert got["diff"] == pytest.approx(mean)
    assert (got["lo"], got["hi"]) == (pytest.approx(mean - half), pytest.approx(mean + half))
    assert got["i2"] == pytest.approx((q - 2) / q)
    assert got["seeds"] == 3 and got["signal"]


def test_seeds_that_agree_pool_to_a_narrower_interval_and_disagreeing_ones_widen_it() -> None:
    agree = pooled_difference([_seed(0.05, 0.03), _seed(0.05, 0.03)])
    assert agree["tau2"] == 0 and agree["i2"] == 0
    assert agree["diff"] == pytest.approx(0.05)
    assert agree["hi"] - agree["lo"] == pytest.approx(2 * Z95 * 0.03 / math.sqrt(2))
    assert agree["signal"]  # one seed alone (0.05 +- 0.059) is not
    apart = pooled_difference([_seed(-0.10, 0.03), _seed(0.20, 0.03)])
    assert apart["tau2"] > 0 and apart["i2"] > 0.9
    assert apart["hi"] - apart["lo"] > 4 * (agree["hi"] - agree["lo"])
    assert not apart["signal"]
    none = pooled_difference([{"n": 0, "diff": None}, None])
    assert none["diff"] is None and not none["signal"]


@given(st.lists(st.tuples(st.floats(-0.5, 0.5), st.floats(0.005, 0.2)), min_size=1,
                max_size=6))
@settings(max_examples=200, deadline=None)
def test_pooled_difference_lies_among_the_seeds(seeds: list[tuple[float, float]]) -> None:
    got = pooled_difference([_seed(d, se) for d, se in seeds])
    ds = [d for d, _ in seeds]
    assert min(ds) - 1e-9 <= got["diff"] <= max(ds) + 1e-9
    assert got["lo"] <= got["diff"] <= got["hi"]
    assert 0 <= got["i2"] <= 1 and got["tau2"] >= 0
    # never narrower than the fixed-effect interval of the same seeds
    fixed_half = Z95 / math.sqrt(sum(1 / max(se, 0.5 / 300) ** 2 for _, se in seeds))
    assert got["hi"] - got["diff"] >= fixed_half * (1 - 1e-9)


def test_reports_carry_intervals_and_comparisons_say_what_is_signal(tmp_path: Path) -> None:
    n = 400
    run = tmp_path / "run"
    write_table(_questions(n), run / "questions" / "eval.arrow")
    rng = np.random.default_rng(1)
    none = rng.random(n) < 0.25
    user = none | (np.arange(n) % 4 < 2) & (rng.random(n) < 0.6)  # gains on li and si only
    _run(run, user)
    _run(run / "baselines" / "none", none)
    _run(run / "baselines" / "shuffled", rng.random(n) < 0.25)

    report = build_report(run / "predictions" / "eval.arrow", run / "questions" / "eval.arrow")
    lo, hi = report["overall"]["ci"]
    assert lo < report["overall"]["acc"] < hi
    assert report["tasks"]["li"]["ci"] == list(wilson(int(user[::4].sum()), n // 4)) or \
        tuple(report["tasks"]["li"]["ci"]) == wilson(int(user[::4].sum()), n // 4)
    informs = report["subsets"]["oracle_informs"]
    assert informs["n"] == 3 * n // 4  # li, si, ap attribute questions; not mf
    assert "95% CI" in report_markdown(report)

    comparison = compare_runs([run, run / "baselines" / "none", run / "baselines" / "shuffled"])
    diffs = {(d["subject"], d["reference"]): d for d in comparison["differences"]
             if d["metric"] == "acc"}
    assert len(diffs) == 2  # the run against each control; controls are not subjects
    vs_none = next(d for (s, r), d in diffs.items() if r.startswith("None"))
    assert vs_none["n"] == n
    assert vs_none["columns"]["interest_perception"]["signal"]
    assert vs_none["columns"]["interest_perception"]["diff"] > 0.2
    assert not vs_none["columns"]["sequence_understanding"]["signal"]  # mf: no gain planted
    md = comparison_markdown(comparison)
    assert "Is it signal?" in md and " *" in md
    # what the interval does not cover is said beside it
    assert "covers the choice of questions only" in md and "align.seed" in md
    assert "uqa report --replicates" in md


def test_an_untrained_encoder_is_a_reference_compared_with_not_a_control(tmp_path) -> None:
    """random carries the user's clicks through random features: it is compared with the
    controls like any run, and every run is compared with it; the oracle is a reference
    too, never a control."""
    from uqa_eval.baselines import get_baseline

    assert not get_baseline("random").no_user and get_baseline("random").compared_with
    assert get_baseline("none").no_user and get_baseline("shuffled").compared_with
    assert not get_baseline("oracle").compared_with
    assert get_baseline("random").reads_run_encoder and get_baseline("shuffled").reads_run_encoder
    assert not any(get_baseline(n).reads_run_encoder for n in ("none", "oracle", "text20"))
    n = 200
    run = tmp_path / "run"
    write_table(_questions(n), run / "questions" / "eval.arrow")
    rng = np.random.default_rng(2)
    for where in ("", "baselines/none", "baselines/random", "baselines/oracle"):
        _run(run / where, rng.random(n) < 0.4)
    comparison = compare_runs([run, run / "baselines" / "none", run / "baselines" / "random",
                               run / "baselines" / "oracle"])
    groups = {r["label"]: r["group"] for r in comparison["runs"]}
    assert groups["Untrained encoder"] == groups["Oracle"] == "Reference"
    assert groups["None (no user)"] == "Control"
    pairs = {(d["subject"], d["reference"]) for d in comparison["differences"]
             if d["metric"] == "acc"}
    subject = next(r["label"] for r in comparison["runs"] if r["group"] == "Emb-based")
    assert pairs == {(subject, "None (no user)"), (subject, "Untrained encoder"),
                     ("Untrained encoder", "None (no user)"), ("Oracle", "None (no user)"),
                     ("Oracle", "Untrained encoder")}


def test_each_run_is_compared_with_its_own_shuffled_control(tmp_path: Path) -> None:
    """A study keeps ``shuffled`` beside every variant: each variant is paired with its
    own, not with another variant's; ``none`` (kept beside the first) serves every
    variant; the rich tables keep the bracketed names that tell the controls apart."""
    from rich.console import Console
    from uqa_eval.report.render import comparison_tables

    n = 200
    rng = np.random.default_rng(3)
    dirs = []
    for variant in ("gru", "sas"):
        run = tmp_path / variant
        write_table(_questions(n), run / "questions" / "eval.arrow")
        _run(run, rng.random(n) < 0.4)
        _run(run / "baselines" / "shuffled", rng.random(n) < 0.25)
        dirs += [run, run / "baselines" / "shuffled"]
    _run(tmp_path / "gru" / "baselines" / "none", rng.random(n) < 0.25)
    dirs.append(tmp_path / "gru" / "baselines" / "none")
    comparison = compare_runs(dirs)
    pairs = [(d["subject_run"], d["reference"]) for d in comparison["differences"]
             if d["metric"] == "acc"]
    assert sorted(pairs) == sorted([
        ("gru", "Shuffled emb. [gru/shuffled]"), ("sas", "Shuffled emb. [sas/shuffled]"),
        ("gru", "None (no user)"), ("sas", "None (no user)")])
    shuffled_of = {s: r for s, r in pairs if r.startswith("Shuffled")}
    console = Console(record=True, width=400)
    for table in comparison_tables(comparison):
        console.print(table)
    text = console.export_text()
    for label in shuffled_of.values():
        assert label in text


@given(st.lists(st.tuples(st.sampled_from(["li", "si", "ap", "mf", "df", "ip"]),
                          st.sampled_from(["category", "brand", "shop", "title", "length",
                                           None]),
                          st.booleans()), min_size=1, max_size=60))
@settings(max_examples=100, deadline=None)
def test_attribute_accuracies_count_each_attributes_questions(
        rows: list[tuple[str, str | None, bool]]) -> None:
    from uqa_eval.report import summarize

    tasks, attributes, correct = (list(x) for x in zip(*rows, strict=True))
    report = summarize(tasks, correct, attributes=attributes)
    assert set(report["attributes"]) == {"category", "brand", "shop", "title"}
    for name, entry in report["attributes"].items():
        mine = [ok for a, ok in zip(attributes, correct, strict=True) if a == name]
        assert entry["n"] == len(mine)
        if mine:
            assert entry["acc"] == pytest.approx(sum(mine) / len(mine))
            assert tuple(entry["ci"]) == pytest.approx(wilson(sum(mine), len(mine)))
        else:
            assert entry["acc"] is None


def test_the_comparison_says_which_attribute_a_gain_comes_from(tmp_path: Path) -> None:
    """A run that beats the control on brand questions only is signal there, and nowhere
    else by attribute; the Markdown and the rich table both carry the breakdown."""
    from uqa_eval.report import comparison_tables

    n = 800  # li category, si brand, ap shop, mf category
    run = tmp_path / "run"
    write_table(_questions(n), run / "questions" / "eval.arrow")
    rng = np.random.default_rng(3)
    none = rng.random(n) < 0.25
    user = none.copy()
    brand = np.arange(n) % 4 == 1
    user[brand] = rng.random(int(brand.sum())) < 0.7
    _run(run, user)
    _run(run / "baselines" / "none", none)
    comparison = compare_runs([run, run / "baselines" / "none"])
    d = next(d for d in comparison["differences"] if d["metric"] == "acc")
    cols = d["columns"]
    assert cols["brand"]["n"] == n // 4 and cols["brand"]["signal"]
    assert cols["brand"]["diff"] == pytest.approx(user[brand].mean() - none[brand].mean())
    assert cols["category"]["n"] == n // 2 and not cols["category"]["signal"]
    assert cols["shop"]["diff"] == 0 and cols["title"]["n"] == 0
    md = comparison_markdown(comparison)
    section = md.split("## What it carries: acc differences by attribute")[1].split("##")[0]
    assert "| Category | Brand | Shop |" in section and "Title" not in section
    row = next(line for line in section.splitlines() if line.startswith("| run | None"))
    assert [c.endswith("***") for c in row.rstrip(" |").split(" | ")[2:]] == [False, True, False]
    titles = [t.title for t in comparison_tables(comparison, "acc")]
    assert any(str(t).startswith("what it carries") for t in titles)
    assert "| By attribute | Category | Brand | Shop |" in report_markdown(
        build_report(run / "predictions" / "eval.arrow", run / "questions" / "eval.arrow"))


@settings(max_examples=200, deadline=None)
@given(st.floats(0.001, 0.999), st.floats(0.3, 1e5))
def test_student_t_quantile_matches_scipy(p: float, df: float) -> None:
    from scipy.stats import t
    from uqa_eval.significance import student_t_cdf, student_t_quantile

    ours = student_t_quantile(p, df)
    assert ours == pytest.approx(float(t.ppf(p, df)), rel=1e-7, abs=1e-7)
    assert student_t_cdf(ours, df) == pytest.approx(p, abs=1e-9)


def test_student_t_quantile_is_the_normal_one_without_limit_and_refuses_nonsense() -> None:
    from uqa_eval.significance import student_t_quantile

    assert student_t_quantile(0.975, math.inf) == pytest.approx(Z95, abs=1e-9)
    assert student_t_quantile(0.975, 1) == pytest.approx(12.7062047, abs=1e-6)
    for p, df in ((0.0, 3), (1.0, 3), (0.5, 0)):
        with pytest.raises(ValueError):
            student_t_quantile(p, df)
