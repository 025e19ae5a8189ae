"""``--resume`` gives the same encoder as an uninterrupted run; divergence keeps the checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import TRAINED_CONFIG
from safetensors.torch import load_file
from uqa_data.errors import TrainingDivergedError, UqaInputError
from uqa_encoders.pretrain import pretrain


class _Stop(Exception):
    pass


def test_resume_equals_uninterrupted(
    trained: tuple[Path, dict], data_dir: Path, tmp_path: Path
) -> None:
    whole_dir, whole = trained
    config = TRAINED_CONFIG()

    def stop_at_8(step: int) -> None:
        if step == 8:  # the last checkpoint is step 6: mid-epoch 2 (4 steps per epoch)
            raise _Stop

    with pytest.raises(_Stop):
        pretrain(data_dir, tmp_path / "cut", config, callback=stop_at_8)
    state = torch.load(tmp_path / "cut" / "checkpoint" / "state.pt", weights_only=True)
    assert (state["global_step"], state["epoch"], state["step_in_epoch"]) == (6, 1, 2)
    assert not (tmp_path / "cut" / "model.safetensors").exists()
    resumed = pretrain(data_dir, tmp_path / "cut", config, resume=True)
    assert resumed["steps"] == whole["steps"] == 12
    a = load_file(str(whole_dir / "model.safetensors"))
    b = load_file(str(tmp_path / "cut" / "model.safetensors"))
    assert a.keys() == b.keys()
    # Equal up to float summation order (CPU kernels may reduce in another order between runs;
    # two uninterrupted runs differ by ~1e-6 as well).
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=2e-5, rtol=1e-4, msg=k)
    assert [h["step"] for h in resumed["history"]] == [4, 8, 12]
    assert [h["loss"] for h in resumed["history"]] == pytest.approx(
        [h["loss"] for h in whole["history"]], rel=1e-4
    )
    assert resumed["hr@10"] == pytest.approx(whole["hr@10"], abs=0.034)


def test_resume_from_another_encoder_or_shape_is_refused(
    trained: tuple[Path, dict], data_dir: Path, tmp_path: Path
) -> None:
    enc = tmp_path / "enc"
    config = TRAINED_CONFIG()

    def stop_at_4(step: int) -> None:
        if step == 4:
            raise _Stop

    with pytest.raises(_Stop):  # leaves encoder/checkpoint (a finished run drops it)
        pretrain(data_dir, enc, config, callback=stop_at_4)
    with pytest.raises(UqaInputError, match=r"checkpoint was made with encoder='sasrec'.*gru4rec"):
        pretrain(data_dir, enc, config.__class__(**{**config.to_dict(), "encoder": "gru4rec"}),
                 resume=True)
    with pytest.raises(UqaInputError, match=r"encoder_config=.*'dim': 32"):
        pretrain(data_dir, enc, config.__class__(**{**config.to_dict(), "size": "small"}),
                 resume=True)


def test_resume_with_other_training_settings_is_refused(
    trained: tuple[Path, dict], data_dir: Path, tmp_path: Path
) -> None:
    """The checkpoint's optimizer keeps its own learning rate: another one would be recorded
    but not used. Only what changes no number trained may differ."""
    enc = tmp_path / "enc"
    config = TRAINED_CONFIG()

    def stop_at_4(step: int) -> None:
        if step == 4:
            raise _Stop

    with pytest.raises(_Stop):
        pretrain(data_dir, enc, config, callback=stop_at_4)
    other = {**config.to_dict(), "lr": config.lr * 10, "seed": config.seed + 1}
    with pytest.raises(UqaInputError, match=r"--resume: the checkpoint was made with lr=.* "
                       r"\(now .*\), seed=0 \(now 1\); resume with the settings it was made "
                       r"with, or drop --resume"):
        pretrain(data_dir, enc, config.__class__(**other), resume=True)
    spaced = {**config.to_dict(), "checkpoint_every": config.checkpoint_every + 1}
    resumed = pretrain(data_dir, enc, config.__class__(**spaced), resume=True)
    assert resumed["steps"] == 12


def test_nan_loss_stops_and_keeps_last_good_checkpoint(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uqa_encoders.pretrain as pt

    real = pt.full_softmax
    calls = {"n": 0}

    def poisoned(h, target, features):
        calls["n"] += 1
        loss = real(h, target, features)
        return loss * float("nan") if calls["n"] == 3 else loss

    monkeypatch.setattr(pt, "full_softmax", poisoned)
    config = TRAINED_CONFIG()
    config.epochs, config.eval_users, config.checkpoint_every = 1, 20, 2
    with pytest.raises(TrainingDivergedError, match=r"loss is nan at step 3 \(epoch 1\)"):
        pretrain(data_dir, tmp_path / "enc", config)
    ckpt = tmp_path / "enc" / "checkpoint"
    weights = load_file(str(ckpt / "model.safetensors"))
    assert all(torch.isfinite(v).all() for v in weights.values())
    state = torch.load(ckpt / "state.pt", weights_only=True)
    assert state["global_step"] == 2  # the last good state
    assert not (tmp_path / "enc" / "model.safetensors").exists()
