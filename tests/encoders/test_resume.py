"""``--resume`` gives the same encoder as an uninterrupted run; divergence keeps the checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from uqa_data.errors import TrainingDivergedError, UqaInputError
from uqa_encoders.pretrain import PretrainConfig, pretrain


class _Stop(Exception):
    pass


def _config(**kw: object) -> PretrainConfig:
    return PretrainConfig.from_preset(
        "tiny", epochs=2, checkpoint_every=3, eval_users=20, **kw  # type: ignore[arg-type]
    )


def test_resume_equals_uninterrupted(data_dir: Path, tmp_path: Path) -> None:
    config = _config()
    whole = pretrain(data_dir, tmp_path / "whole", config)

    def stop_at_5(step: int) -> None:
        if step == 5:  # after the step-3 checkpoint, mid-epoch 2
            raise _Stop

    with pytest.raises(_Stop):
        pretrain(data_dir, tmp_path / "cut", config, callback=stop_at_5)
    assert (tmp_path / "cut" / "checkpoint" / "state.pt").is_file()
    assert not (tmp_path / "cut" / "model.safetensors").exists()
    resumed = pretrain(data_dir, tmp_path / "cut", config, resume=True)
    assert resumed["steps"] == whole["steps"]
    a = load_file(str(tmp_path / "whole" / "model.safetensors"))
    b = load_file(str(tmp_path / "cut" / "model.safetensors"))
    assert a.keys() == b.keys()
    # Equal up to float summation order (CPU kernels may reduce in another order between runs;
    # two uninterrupted runs differ by ~1e-6 as well).
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=2e-5, rtol=1e-4, msg=k)
    assert resumed["hr@10"] == pytest.approx(whole["hr@10"], abs=0.051)
    assert [h["loss"] for h in resumed["history"]] == pytest.approx(
        [h["loss"] for h in whole["history"]], rel=1e-4
    )
    assert [h["step"] for h in resumed["history"]] == [4, 8]


def test_resume_from_another_encoder_is_refused(data_dir: Path, tmp_path: Path) -> None:
    def stop(step: int) -> None:
        if step == 3:
            raise _Stop

    with pytest.raises(_Stop):
        pretrain(data_dir, tmp_path / "enc", _config(), callback=stop)
    with pytest.raises(UqaInputError, match=r"checkpoint was made with encoder='sasrec'.*gru4rec"):
        pretrain(data_dir, tmp_path / "enc", _config(encoder="gru4rec"), resume=True)
    with pytest.raises(UqaInputError, match=r"encoder_config=.*'dim': 32"):
        pretrain(data_dir, tmp_path / "enc", _config(size="small"), resume=True)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(data_dir: Path, tmp_path: Path) -> None:
    import uqa_encoders.pretrain as pt

    real = pt.full_softmax
    calls = {"n": 0}

    def poisoned(h, target, features):
        calls["n"] += 1
        loss = real(h, target, features)
        return loss * float("nan") if calls["n"] == 5 else loss

    pt.full_softmax = poisoned
    try:
        with pytest.raises(TrainingDivergedError, match=r"loss is nan at step 5 \(epoch 2\)"):
            pretrain(data_dir, tmp_path / "enc", _config())
    finally:
        pt.full_softmax = real
    ckpt = tmp_path / "enc" / "checkpoint"
    weights = load_file(str(ckpt / "model.safetensors"))
    assert all(torch.isfinite(v).all() for v in weights.values())
    state = torch.load(ckpt / "state.pt", weights_only=True)
    assert state["global_step"] == 4  # end of epoch 1 (4 steps), the last good state
    assert not (tmp_path / "enc" / "model.safetensors").exists()
