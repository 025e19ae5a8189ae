"""Ctrl-C (SIGINT) on a real ``uqa run``: the interrupted stage and how to resume, exit 130."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from cli_helpers import run_uqa, stage_status, start_uqa, wait_for


def test_sigint_names_the_stage_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "r"
    args = ["run", "--preset", "tiny", "--out", str(out), "--until", "pretrain",
            "--set", "pretrain.epochs=200"]
    proc = start_uqa(*args)
    # pre-training has started (run.json records it as running)
    wait_for(lambda: stage_status(out, "pretrain") == "running", proc, "pre-training")
    proc.send_signal(signal.SIGINT)
    text, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, text[-3000:]
    assert "Traceback" not in text
    line = next(ln for ln in text.splitlines() if ln.startswith("interrupted"))
    assert "(Ctrl-C)" in line and f"stage 'pretrain' of {out}" in line
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
