"""The encoders on uqa-data's own ``tiny`` synthetic preset (synthesize -> prepare -> pretrain)."""

from __future__ import annotations

from pathlib import Path

import pytest
from uqa_encoders.embed import export_embeddings
from uqa_encoders.pretrain import PretrainConfig, pretrain


@pytest.fixture(scope="module")
def synth_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    synth = pytest.importorskip("uqa_data.synth")
    prep = pytest.importorskip("uqa_data.prepare")
    run = tmp_path_factory.mktemp("synth")
    synth.synthesize(run, preset="tiny", seed=0)
    prep.prepare(run / "raw", run / "data", prep.PrepareConfig.from_preset("tiny"))
    return run / "data"


@pytest.mark.parametrize("encoder", ["hstu"])  # time-aware: uses the real timestamps
def test_pretrain_and_embed_on_synthetic_tiny(synth_data: Path, tmp_path: Path, encoder: str
                                              ) -> None:
    summary = pretrain(synth_data, tmp_path / "enc",
                       PretrainConfig.from_preset("tiny", encoder=encoder, epochs=2))
    assert summary["hr@10"] > summary["most_popular"]["hr@10"], summary
    out = export_embeddings(tmp_path / "enc", synth_data, "test", tmp_path / "test.arrow")
    assert out["users"] > 0 and out["dim"] == 32
