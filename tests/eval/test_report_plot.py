"""The accuracy charts draw each bar's 95% Wilson interval as a whisker."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.container import BarContainer
from uqa_eval.report import summarize
from uqa_eval.report.aggregate import TASKS, columns
from uqa_eval.report.render import accuracy_figure, error_bars, interval, value


def _bars(ax: object) -> BarContainer:
    return next(c for c in ax.containers if isinstance(c, BarContainer))


def test_error_bars_are_distances_to_the_interval_ends() -> None:
    bars = error_bars([0.5, None, 0.2], [(0.3, 0.6), (0.1, 0.2), None])
    assert np.allclose(bars[:, 0], [20.0, 10.0])
    assert np.isnan(bars[:, 1:]).all()


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
def test_whiskers_span_the_wilson_interval(case: tuple[int, int]) -> None:
    """A report of n questions with k right: the Overall bar's whisker runs from the lower
    to the upper end of its Wilson interval, around the bar's height."""
    n, k = case
    tasks = [TASKS[i % len(TASKS)] for i in range(n)]
    report = summarize(tasks, [i < k for i in range(n)])
    cols = [c for c in columns(report) if c.kind in ("task", "overall")]
    overall = next(c for c in cols if c.kind == "overall")
    values = [value(report, c, "acc") for c in cols]
    cis = [interval(report, c, "acc") for c in cols]
    fig = accuracy_figure([("acc", [("run", values, cis)])], [c.label for c in cols], "t")
    ax = fig.axes[0]
    bars = _bars(ax)
    assert bars.errorbar is not None
    segments = bars.errorbar.lines[2][0].get_segments()
    j = cols.index(overall)
    lo, hi = sorted(segments[j][:, 1])
    ci = interval(report, overall, "acc")
    assert math.isclose(lo, 100 * ci[0], abs_tol=1e-6)
    assert math.isclose(hi, 100 * ci[1], abs_tol=1e-6)
    assert lo <= 100 * k / n + 1e-9 <= hi + 2e-9
    assert "95% CI" in ax.get_ylabel()


def test_series_without_intervals_draw_no_whiskers() -> None:
    fig = accuracy_figure([("acc", [("run", [0.5, 0.25])])], ["A", "B"], "t")
    ax = fig.axes[0]
    assert _bars(ax).errorbar is None
    assert "CI" not in ax.get_ylabel()
