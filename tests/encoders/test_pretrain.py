"""Pre-training on the tiny preset: files, metrics, quality against most-popular, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from uqa_data.errors import UnknownNameError, UqaInputError
from uqa_encoders.pretrain import PretrainConfig


def test_pretrain_writes_encoder_files(trained: tuple[Path, dict]) -> None:
    out, summary = trained
    for name in ("model.safetensors", "config.json", "metrics.json"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())
    assert config["encoder"] == "sasrec"
    assert config["pretrain"]["seed"] == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["hr@10"] == summary["hr@10"]
    assert len(metrics["history"]) == 3
    assert all(0.0 <= h["hr@10"] <= 1.0 for h in metrics["history"])
    assert not list(out.parent.glob("**/*.tmp"))


def test_pretrain_beats_most_popular(trained: tuple[Path, dict]) -> None:
    _, summary = trained
    assert summary["hr@10"] > summary["most_popular"]["hr@10"] + 0.15


def test_unknown_names_list_close_matches() -> None:
    with pytest.raises(UnknownNameError, match=r"did you mean 'sasrec'.*valid: gru4rec"):
        PretrainConfig.from_preset("tiny", encoder="sasrc")
    with pytest.raises(UnknownNameError, match=r"--preset.*valid: default, full, small, tiny"):
        PretrainConfig.from_preset("tinny")
    with pytest.raises(UnknownNameError, match="--loss"):
        PretrainConfig.from_preset("tiny", loss="bce")
    with pytest.raises(UqaInputError, match="--sampled goes with --loss ce"):
        PretrainConfig.from_preset("tiny", loss="infonce", sampled=10)


def test_presets_resolve_every_field() -> None:
    for name in ("tiny", "small", "default", "full"):
        config = PretrainConfig.from_preset(name)
        assert config.batch_size >= 1 and config.lr > 0
    full = PretrainConfig.from_preset("full")
    assert (full.lr, full.batch_size, full.max_len, full.dropout) == (1e-4, 256, 512, 0.1)


def test_adamw_is_fused_on_cpu_and_updates_as_the_plain_loop() -> None:
    """``uqa pretrain``'s AdamW: the fused kernel where PyTorch has it for CPUs, taking
    the same steps as the plain per-parameter loop (float32 rounding)."""
    import torch
    from uqa_encoders.pretrain import adamw

    g = torch.Generator().manual_seed(0)
    start = [torch.randn(7, 5, generator=g), torch.randn(5, generator=g)]
    grads = [[torch.randn(p.shape, generator=g) for p in start] for _ in range(4)]
    runs = []
    for fused in (True, False):
        params = [p.clone().requires_grad_() for p in start]
        groups = [{"params": params[:1], "weight_decay": 0.1},
                  {"params": params[1:], "weight_decay": 0.0}]
        opt = (adamw(groups, lr=1e-2, betas=(0.9, 0.98)) if fused
               else torch.optim.AdamW(groups, lr=1e-2, betas=(0.9, 0.98)))
        assert bool(opt.defaults.get("fused")) is fused
        for step in grads:
            for p, grad in zip(params, step, strict=True):
                p.grad = grad.clone()
            opt.step()
        runs.append([p.detach() for p in params])
    for a, b in zip(*runs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert not torch.equal(runs[0][0], start[0])
