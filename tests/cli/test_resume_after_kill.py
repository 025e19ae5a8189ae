"""A ``uqa run`` killed (SIGKILL) at a checkpoint resumes pre-training and alignment from it
and ends with the same bytes as a run that was never interrupted."""

from __future__ import annotations

import signal
from pathlib import Path

from cli_helpers import run_uqa, start_uqa, wait_for

STEPS = ["--set", "pretrain.epochs=6", "--set", "align.steps=12",
         "--set", "align.checkpoint_every=4"]


def _args(out: Path, llm: Path) -> list[str]:
    return ["run", "--preset", "tiny", "--out", str(out), "--llm", str(llm), "--baselines", "",
            "--until", "align", *STEPS]


def _kill_when(path: Path, args: list[str]) -> str:
    """Start ``uqa ARGS``, SIGKILL it as soon as ``path`` exists; returns its output."""
    proc = start_uqa(*args)
    wait_for(path.exists, proc, f"{path} to appear")
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, out[-3000:]
    return out


def test_killed_run_resumes_from_checkpoints_with_identical_weights(
    tmp_path: Path, tiny_llm_dir: Path
) -> None:
    whole = tmp_path / "whole"
    proc = run_uqa(*_args(whole, tiny_llm_dir))
    assert proc.returncode == 0, proc.stderr[-3000:]

    cut = tmp_path / "cut"
    # killed once pre-training wrote its first checkpoint (end of epoch 1 of 6)
    _kill_when(cut / "encoder" / "checkpoint" / "state.pt", _args(cut, tiny_llm_dir))
    assert not (cut / "encoder" / "model.safetensors").exists()
    # resumed: pre-training continues from that checkpoint; killed again once alignment
    # checkpointed (step 4 or 8 of 12)
    out = _kill_when(cut / "adapter" / "checkpoint" / "progress.json",
                     _args(cut, tiny_llm_dir))
    assert "> pretrain next-item pre-training of sasrec (interrupted before: resuming)" in out
    assert "resuming pre-training at step" in out
    assert not (cut / "adapter" / "config.json").exists()
    proc = run_uqa(*_args(cut, tiny_llm_dir))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "- pretrain: done already, skipped" in proc.stderr
    assert "resuming alignment at step" in proc.stderr

    for rel in ("encoder/model.safetensors", "adapter/adapter.safetensors"):
        assert (cut / rel).read_bytes() == (whole / rel).read_bytes(), rel
    # finished stages keep no resumable state (optimizer moments, RNG)
    assert not (cut / "encoder" / "checkpoint").exists()
    assert not (cut / "adapter" / "checkpoint").exists()
