"""Ctrl-C (SIGINT) or SIGTERM on a real ``uqa run``: the interrupted stage and how to
resume, exit 130 (143 for SIGTERM)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from cli_helpers import run_uqa, stage_status, start_uqa, wait_for


@pytest.mark.parametrize(("signum", "status", "name"), [
    (signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")])
def test_interrupt_names_the_stage_and_exits_128_plus_signal(
    tmp_path: Path, signum: int, status: int, name: str
) -> None:
    out = tmp_path / "r"
    args = ["run", "--preset", "tiny", "--out", str(out), "--until", "pretrain",
            "--set", "pretrain.epochs=200"]
    proc = start_uqa(*args)
    # pre-training has started (run.json records it as running)
    wait_for(lambda: stage_status(out, "pretrain") == "running", proc, "pre-training")
    proc.send_signal(signum)
    text, _ = proc.communicate(timeout=120)
    assert proc.returncode == status, text[-3000:]
    assert "Traceback" not in text
    line = next(ln for ln in text.splitlines() if ln.startswith("interrupted"))
    assert f"({name})" in line and f"stage 'pretrain' of {out}" in line
    assert "re-run `uqa run --preset tiny --out" in line and "to resume" in line
    assert "pre-training then continues from its last checkpoint" in line
    stages = json.loads((out / "run.json").read_text())["stages"]
    assert stages["questions"]["status"] == "done"
    assert stages["pretrain"]["status"] == "running"
    assert not (out / ".uqa.lock").exists()  # the lock went with the process

    # `uqa run ... && uqa report ...` stops: the status is not 0. Re-running resumes.
    again = run_uqa("run", "--preset", "tiny", "--out", str(out), "--until", "questions")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "- questions: done already, skipped" in again.stderr
