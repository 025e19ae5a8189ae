"""bench/table2_seeds.py: its Kendall tau-b agrees with SciPy's, ties included."""

from __future__ import annotations

import math

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
