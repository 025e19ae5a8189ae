"""``uqa align`` run by torchrun itself: only rank 0 reports, so ``--json`` is one JSON
document on stdout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.xdist_group("tiny_run")
def test_align_json_under_torchrun_is_one_document(tiny_run, tiny_llm_dir: Path,
                                                   tmp_path: Path) -> None:
    src, proc = tiny_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    uqa = shutil.which("uqa", path=os.path.dirname(sys.executable))
    if uqa is None:
        pytest.skip("the uqa console script is not installed next to this Python")
    out = tmp_path / "run"
    shutil.copytree(src, out)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "UQA_PROGRESS": "0"}
    res = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "--no-python", uqa, "align", "--out", str(out), "--llm", str(tiny_llm_dir),
         "--adapter-dir", str(tmp_path / "a"), "--steps", "2", "--json"],
        env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads(res.stdout)  # one document: rank 1 prints nothing
    assert summary["steps"] == 2
