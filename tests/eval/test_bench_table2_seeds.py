"""bench/table2_seeds.py: its Kendall tau-b agrees with SciPy's, ties included."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "table2_seeds.py"


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("table2_seeds", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=2, max_size=7))
def test_kendall_tau_b_matches_scipy(pairs: list[tuple[int, int]]) -> None:
    stats = pytest.importorskip("scipy.stats")
    a, b = [float(x) for x, _ in pairs], [float(y) for _, y in pairs]
    ours = _script().kendall_tau(a, b)
    theirs = stats.kendalltau(a, b, variant="b").statistic
    if math.isnan(theirs):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-12)


def test_kendall_tau_of_a_ranking_with_itself_and_its_reverse() -> None:
    tau = _script().kendall_tau
    assert tau([5, 4, 3, 2, 1], [5, 4, 3, 2, 1]) == 1.0
    assert tau([5, 4, 3, 2, 1], [1, 2, 3, 4, 5]) == -1.0
