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
