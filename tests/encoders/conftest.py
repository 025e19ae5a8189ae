"""Fixtures for encoder tests: a seeded tiny data/ directory and a pre-trained sasrec."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakedata import write_data


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``data/`` with 300 users (240 train, 60 test) over 200 items."""
    return write_data(tmp_path_factory.mktemp("encdata") / "data")


def TRAINED_CONFIG():
    from uqa_encoders.pretrain import PretrainConfig

    return PretrainConfig.from_preset("tiny", seed=0, checkpoint_every=3)


@pytest.fixture(scope="session")
def trained(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A tiny sasrec pre-trained on ``data_dir`` (3 epochs of 4 steps, checkpoint every 3
    steps): (encoder_dir, summary)."""
    from uqa_encoders.pretrain import pretrain

    out = tmp_path_factory.mktemp("enc") / "encoder"
    summary = pretrain(data_dir, out, TRAINED_CONFIG())
    return out, summary
