"""bench/table2_seeds.py: its Kendall tau-b agrees with SciPy's, ties included."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def t2(bench_script):  # type: ignore[no-untyped-def]
    return bench_script("table2_seeds")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=2, max_size=7))
def test_kendall_tau_b_matches_scipy(t2, pairs: list[tuple[int, int]]) -> None:  # type: ignore[no-untyped-def]
    stats = pytest.importorskip("scipy.stats")
    a, b = [float(x) for x, _ in pairs], [float(y) for _, y in pairs]
    ours = t2.kendall_tau(a, b)
    theirs = stats.kendalltau(a, b, variant="b").statistic
    if math.isnan(theirs):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-12)


def test_kendall_tau_of_a_ranking_with_itself_and_its_reverse(t2) -> None:  # type: ignore[no-untyped-def]
    tau = t2.kendall_tau
    assert tau([5, 4, 3, 2, 1], [5, 4, 3, 2, 1]) == 1.0
    assert tau([5, 4, 3, 2, 1], [1, 2, 3, 4, 5]) == -1.0
    # numpy scores (accuracies read as array means) rank the same as Python floats
    assert tau(np.array([0.2, 0.4, 0.3]), np.array([0.1, 0.5, 0.4])) == 1.0


def _study(root: Path, seed: int, accuracy: dict[str, float], n: int = 280) -> Path:
    """A table2 study directory: each encoder right on the first ``accuracy * n`` of the
    shared questions, so a better encoder is right wherever a worse one is."""
    from uqa_data.io import write_json, write_table
    from uqa_data.layout import RunLayout

    ids = [f"q{i}" for i in range(n)]
    tasks = [("li", "si", "it", "ap", "df", "sd", "lt")[i % 7] for i in range(n)]
    for enc, acc in accuracy.items():
        run = RunLayout(root / enc)
        write_table(pa.table({"question_id": ids, "task": tasks}), run.questions("eval"))
        right = [i < round(acc * n) for i in range(n)]
        write_table(pa.table({"question_id": ids, "correct": right}), run.predictions)
    write_json({"study": "table2", "seed": seed}, root / "study.json")
    return root


def test_main_prints_the_rankings_tau_with_its_interval(t2, tmp_path, monkeypatch,
                                                         capsys) -> None:  # type: ignore[no-untyped-def]
    apart = {"gru4rec": 0.2, "sasrec": 0.4, "mamba4rec": 0.6, "hstu": 0.8, "trm_plus": 0.95}
    same = dict.fromkeys(apart, 0.5)
    studies = [_study(tmp_path / "a0", 0, apart), _study(tmp_path / "a1", 1, apart),
               _study(tmp_path / "s2", 2, same)]
    monkeypatch.setattr("sys.argv", ["table2_seeds.py", *map(str, studies)])
    t2.main()
    out = capsys.readouterr().out
    # the same clean ordering in both seeds: tau-b 1 on every resample of the questions
    assert ("Kendall tau-b, seeds 0 and 1, overall (5 runs): +1.00 [+1.00, +1.00]") in out
    # a seed where every encoder ties: tau-b undefined, and no interval to give
    assert "seeds 0 and 2, overall (5 runs): undefined" in out
    assert "seeds 0 and 2, overall (5 runs): undefined (a ranking with every score tied) [" \
        not in out
