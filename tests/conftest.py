"""Shared test settings: quiet progress bars, one thread per xdist worker, hypothesis profile."""

from __future__ import annotations

import os

os.environ.setdefault("UQA_PROGRESS", "0")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two workers on two cores: one thread each avoids oversubscription.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, "1")

from hypothesis import HealthCheck, settings

settings.register_profile(
    "uqa",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "uqa"))
