"""Fixtures: a tiny seeded data/ folder and question sets generated from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from .synthetic import make_data


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("qdata") / "data"
    make_data(out, seed=3)
    return out


@pytest.fixture(scope="session")
def truth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A cleaner log (strong planted signal) and its planted truth."""
    out = tmp_path_factory.mktemp("qtruth") / "data"
    return out, make_data(out, seed=11, n_train=10, n_test=80, min_len=30, max_len=60, focus=0.9)


@pytest.fixture(scope="session")
def generated(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from uqa_data.questions import QuestionConfig, generate

    out = tmp_path_factory.mktemp("qout") / "questions"
    summary = generate(data_dir, out, QuestionConfig.from_preset("tiny", seed=1))
    return out, summary
