"""bench/gpu_check.sh: valid shell, and its CPU fallback runs end to end and writes its JSON
(resuming the tiny run the other CLI tests read, so the suite makes one, not two)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from uqa_align.llm import cache_dir

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "gpu_check.sh"


def test_gpu_check_is_valid_shell() -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


@pytest.mark.slow
@pytest.mark.llm
@pytest.mark.xdist_group("tiny_run")
def test_gpu_check_cpu_fallback_writes_its_figures(tiny_run, tmp_path: Path) -> None:
    run, made = tiny_run
    assert made.returncode == 0, made.stderr[-3000:]
    # the LLM cache the other tests use: the first conversion has a test of its own
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(tmp_path), "TINY_RUN": str(run),
           "UQA_CACHE_DIR": str(cache_dir())}
    proc = subprocess.run(["bash", str(SCRIPT), "--cpu"], env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    figures = json.loads((tmp_path / "gpu_check.json").read_text())
    assert figures["device"] == "cpu" and figures["tiny_run_s"] >= 0
    assert figures["tiny_run_resumed_from"] == str(run)
    # its fp32/cpu settings are the tiny preset's own: the script's run re-ran nothing
    assert figures["tiny_run_stages_run"] == []
    assert figures["torchrun_align_step_s"] >= 0
    assert figures["answer_fp32"]["questions"] == 8
    assert figures["answer_fp32"]["questions_per_s"] > 0
    assert 0 <= figures["tiny_overall_acc"] <= 1
