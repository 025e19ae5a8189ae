"""Pre-training's precision: ``auto`` (the default) trains in bf16 only where the device
computes bf16 natively and the encoder is wide enough to gain from it; the precision it
resolved to is recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from uqa_data import precision as precision_mod
from uqa_data.errors import UqaInputError
from uqa_encoders import pretrain as pretrain_mod
from uqa_encoders.pretrain import BF16_MIN_DIM, PretrainConfig, pretrain, resolve_precision


def test_auto_is_bf16_only_for_a_wide_encoder_on_native_bf16(monkeypatch) -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(precision_mod, "bf16_native", lambda device: True)
    assert resolve_precision("auto", cpu, BF16_MIN_DIM) == "bf16"
    assert resolve_precision("auto", cpu, BF16_MIN_DIM - 1) == "fp32"
    assert resolve_precision("auto", cuda, 64) == "bf16"
    monkeypatch.setattr(precision_mod, "bf16_native", lambda device: False)
    assert resolve_precision("auto", cpu, 512) == "fp32"
    assert resolve_precision("bf16", cpu, 64) == "bf16"
    assert resolve_precision("fp32", cpu, 512) == "fp32"


def test_bf16_by_name_on_a_cpu_without_it_warns(monkeypatch, caplog) -> None:
    cpu = torch.device("cpu")
    for native, warned in ((False, 1), (True, 0)):
        monkeypatch.setattr(precision_mod, "bf16_native", lambda device, n=native: n)
        caplog.clear()
        with caplog.at_level("WARNING", logger="uqa_data.precision"):
            assert resolve_precision("bf16", cpu, 512) == "bf16"
            assert resolve_precision("auto", cpu, 512) == ("bf16" if native else "fp32")
        assert len(caplog.records) == warned
        assert all(r.getMessage().startswith("pre-training: precision bf16 on a CPU without")
                   for r in caplog.records)


def test_default_is_auto_and_bad_values_name_the_flag() -> None:
    assert PretrainConfig().precision == "auto"
    assert PretrainConfig.from_preset("full").precision == "auto"
    with pytest.raises(UqaInputError, match=r"--precision.*did you mean 'bf16'"):
        PretrainConfig.from_preset("tiny", precision="bf61").validate()


@pytest.mark.parametrize("native", [True, False])
def test_the_resolved_precision_is_recorded(data_dir: Path, tmp_path: Path, monkeypatch,
                                            native: bool) -> None:
    """The tiny encoder (d < BF16_MIN_DIM) trains in fp32 under auto on any CPU; forced
    to count as wide, it trains in bf16 where bf16 is native."""
    monkeypatch.setattr(precision_mod, "bf16_native", lambda device: native)
    monkeypatch.setattr(pretrain_mod, "BF16_MIN_DIM", 1)
    config = PretrainConfig.from_preset("tiny", epochs=1, eval_users=20)
    summary = pretrain(data_dir, tmp_path / "enc", config)
    expected = "bf16" if native else "fp32"
    assert summary["precision"] == expected
    metrics = json.loads((tmp_path / "enc/metrics.json").read_text())
    assert metrics["precision"] == expected
    assert json.loads((tmp_path / "enc/config.json").read_text())["pretrain"]["precision"] == "auto"
