"""Pre-training runs unchanged under torchrun: two CPU processes with gloo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def test_torchrun_two_processes_gloo(data_dir: Path, tmp_path: Path) -> None:
    uqa = shutil.which("uqa", path=os.path.dirname(sys.executable))
    if uqa is None:
        pytest.skip("the uqa console script is not installed next to this Python")
    shutil.copytree(data_dir, tmp_path / "data")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "UQA_PROGRESS": "0"}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "--no-python", uqa, "pretrain", "--out", str(tmp_path), "--preset", "tiny",
        "--epochs", "2", "--json",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)  # only rank 0 prints
    assert summary["world_size"] == 2
    assert summary["steps"] == 2 * summary["steps_per_epoch"]
    metrics = json.loads((tmp_path / "encoder" / "metrics.json").read_text())
    assert metrics["world_size"] == 2
    assert metrics["hr@10"] > metrics["most_popular"]["hr@10"]
    assert (tmp_path / "encoder" / "model.safetensors").is_file()


def test_torchrun_resume_equals_an_uninterrupted_run(data_dir: Path, tmp_path: Path) -> None:
    """Each rank draws its own dropout and negatives; a checkpoint keeps every rank's random
    state, so two processes stopped after a checkpoint and resumed end with the weights of
    two processes never stopped."""
    import signal
    import time

    import torch
    from safetensors.torch import load_file

    uqa = shutil.which("uqa", path=os.path.dirname(sys.executable))
    if uqa is None:
        pytest.skip("the uqa console script is not installed next to this Python")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "UQA_PROGRESS": "0"}

    def cmd(out: Path, *extra: str) -> list[str]:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc_per_node", "2", "--no-python", uqa, "pretrain", "--out", str(out),
                "--data", str(data_dir), "--preset", "tiny", "--epochs", "8",
                "--set", "checkpoint_every=2", *extra]

    whole = subprocess.run(cmd(tmp_path / "whole"), env=env, capture_output=True, text=True,
                           timeout=300)
    assert whole.returncode == 0, whole.stderr[-3000:]
    cut = tmp_path / "cut"
    proc = subprocess.Popen(cmd(cut), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    state = cut / "encoder" / "checkpoint" / "state.pt"
    end = time.monotonic() + 240
    while not state.is_file():
        assert proc.poll() is None, "finished before a checkpoint"
        assert time.monotonic() < end
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)  # torchrun stops its workers
    proc.wait(timeout=120)
    assert not (cut / "encoder" / "model.safetensors").exists(), "stopped too late"
    resumed = subprocess.run(cmd(cut, "--resume"), env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming pre-training at step" in resumed.stderr
    a = load_file(str(tmp_path / "whole" / "encoder" / "model.safetensors"))
    b = load_file(str(cut / "encoder" / "model.safetensors"))
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=2e-5, rtol=1e-4, msg=k)


def test_a_user_error_under_torchrun_is_said_once(tmp_path: Path) -> None:
    """Every rank finds the same bad flag; only rank 0 says it."""
    uqa = shutil.which("uqa", path=os.path.dirname(sys.executable))
    if uqa is None:
        pytest.skip("the uqa console script is not installed next to this Python")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "UQA_PROGRESS": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
         "2", "--no-python", uqa, "pretrain", "--out", str(tmp_path / "x"), "--epochs", "0"],
        env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode != 0
    said = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(said) == 1 and "(--epochs): expected an integer >= 1" in said[0], proc.stderr
