"""Whether an accuracy, or a difference of two, is signal: intervals and paired tests.

- :func:`wilson`: the 95% Wilson score interval of ``k`` correct out of ``n``.
- :func:`paired_difference`: two methods answered the same questions; their
  accuracy difference with a 95% paired-bootstrap interval (questions resampled,
  both methods' answers kept together) and the exact two-sided McNemar p-value
  (a binomial test on the questions only one of them got right).
- :func:`pooled_difference`: the same difference over several seeds, with a
  random-effects interval that widens when the seeds disagree.

A difference is *signal* when its interval excludes zero. All functions are
deterministic: the bootstrap has a fixed seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""

BOOTSTRAP = 2000
"""Bootstrap resamples of a paired difference."""


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``k`` successes in ``n`` trials (None when n = 0)."""
    if n <= 0:
        return None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def mcnemar_p(b: int, c: int) -> float:
    """Exact two-sided McNemar p-value: ``b`` questions only the first method got right,
    ``c`` only the second (binomial with p = 1/2 on the ``b + c`` discordant ones)."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n
    return min(1.0, 2.0 * tail)


def paired_difference(
    first: Sequence[bool] | np.ndarray,
    second: Sequence[bool] | np.ndarray,
    *,
    resamples: int = BOOTSTRAP,
    seed: int = 0,
) -> dict[str, Any]:
    """``first`` minus ``second`` accuracy over the same questions (aligned arrays).

    :returns: ``{"n", "diff", "lo", "hi", "p", "signal"}``: the difference in
        accuracy (fraction), its 95% paired-bootstrap interval, the McNemar
        p-value and whether the interval excludes zero. ``diff`` is None for n = 0.
    """
    a = np.asarray(first, dtype=bool).reshape(-1)
    b = np.asarray(second, dtype=bool).reshape(-1)
    if len(a) != len(b):
        raise ValueError(f"{len(a)} and {len(b)} answers: a paired difference needs both "
                         "methods on the same questions")
    n = len(a)
    if n == 0:
        return {"n": 0, "diff": None, "lo": None, "hi": None, "p": None, "signal": False}
    d = a.astype(np.int8) - b.astype(np.int8)  # -1, 0, +1 per question
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(resamples, n))
    means = d[picks].mean(axis=1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    p = mcnemar_p(int((d > 0).sum()), int((d < 0).sum()))
    return {"n": n, "diff": float(d.mean()), "lo": float(lo), "hi": float(hi), "p": p,
            "signal": bool(lo > 0 or hi < 0)}


def pooled_difference(per_seed: Sequence[dict[str, Any]], z: float = Z95) -> dict[str, Any]:
    """The mean of several seeds' paired differences (:func:`paired_difference`), each seed
    a fresh draw of users, questions and training, with a 95% random-effects interval.

    Each seed's standard error is read off its bootstrap interval (``(hi - lo) / 2z``,
    at least ``1 / (2n)``); the spread between seeds beyond those errors is estimated by
    DerSimonian and Laird's moment estimator ``tau2`` and added to every seed's variance,
    so seeds that disagree widen the interval. ``i2`` is the share of the spread between
    seeds not explained by question sampling (Higgins' I-squared).

    :returns: ``{"seeds", "diff", "lo", "hi", "tau2", "i2", "signal"}``; ``diff`` is None
        when no seed has a difference.
    """
    got = [d for d in per_seed if d and d.get("diff") is not None and d.get("n")]
    k = len(got)
    if k == 0:
        return {"seeds": 0, "diff": None, "lo": None, "hi": None, "tau2": None, "i2": None,
                "signal": False}
    y = np.asarray([d["diff"] for d in got], dtype=np.float64)
    se = np.asarray([max((d["hi"] - d["lo"]) / (2 * z), 0.5 / d["n"]) for d in got])
    w = 1.0 / se**2
    fixed = float((w * y).sum() / w.sum())
    q = float((w * (y - fixed) ** 2).sum())
    c = float(w.sum() - (w**2).sum() / w.sum())
    tau2 = max(0.0, (q - (k - 1)) / c) if k > 1 and c > 0 else 0.0
    i2 = max(0.0, (q - (k - 1)) / q) if k > 1 and q > 0 else 0.0
    ws = 1.0 / (se**2 + tau2)
    mean = float((ws * y).sum() / ws.sum())
    half = z * math.sqrt(1.0 / float(ws.sum()))
    lo, hi = mean - half, mean + half
    return {"seeds": k, "diff": mean, "lo": lo, "hi": hi, "tau2": tau2, "i2": i2,
            "signal": bool(lo > 0 or hi < 0)}


def student_t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df > 0`` degrees of freedom (a real number:
    a Welch-Satterthwaite count), by bisection on its distribution function; the normal
    quantile for ``df = inf``."""
    if not 0.0 < p < 1.0 or not df > 0:
        raise ValueError(f"p {p} must be in (0, 1) and df {df} > 0")
    if math.isinf(df):
        return _bisect(lambda x: 0.5 * math.erfc(-x / math.sqrt(2.0)), p)
    return _bisect(lambda x: student_t_cdf(x, df), p)


def student_t_cdf(x: float, df: float) -> float:
    """Student's t distribution function: ``1 - I_{df/(df+x^2)}(df/2, 1/2) / 2`` for x > 0
    (near zero, ``1/2 + I_{x^2/(df+x^2)}(1/2, df/2) / 2``, which keeps its precision)."""
    if x * x < df:
        half = 0.5 * _incomplete_beta(0.5, df / 2.0, x * x / (df + x * x))
        return 0.5 + half if x > 0 else 0.5 - half
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + x * x))
    return 1.0 - tail if x > 0 else tail


def _bisect(cdf: Any, p: float) -> float:
    lo, hi = -1.0, 1.0
    while cdf(lo) > p:
        lo *= 2.0
    while cdf(hi) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if cdf(mid) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * max(1.0, abs(mid)):
            break
    return 0.5 * (lo + hi)


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function ``I_x(a, b)`` (Lentz's continued fraction)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x > (a + 1.0) / (a + b + 2.0):  # the fraction converges fast on this side only
        return 1.0 - _incomplete_beta(b, a, 1.0 - x)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return front * f / a


def fmt_interval(lo: float | None, hi: float | None) -> str:
    """``[33.1, 43.6]`` in percent; ``-`` when missing."""
    if lo is None or hi is None:
        return "-"
    return f"[{100 * lo:.1f}, {100 * hi:.1f}]"


def fmt_difference(d: dict[str, Any]) -> str:
    """``+12.3 [+5.1, +19.0]`` in points, ``-`` when there is nothing to compare."""
    if not d or d.get("diff") is None:
        return "-"
    return f"{100 * d['diff']:+.1f} [{100 * d['lo']:+.1f}, {100 * d['hi']:+.1f}]"
