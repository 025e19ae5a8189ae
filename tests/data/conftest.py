"""Fixtures of the data tests: one tiny synthetic run shared by the session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory holding the tiny preset's raw/ and data/ (seed 0)."""
    from uqa_data.prepare import PrepareConfig, prepare
    from uqa_data.synth import synthesize

    run = tmp_path_factory.mktemp("tiny_run")
    synthesize(run, preset="tiny", seed=0)
    prepare(run / "raw", run / "data", PrepareConfig.from_preset("tiny"))
    return run
