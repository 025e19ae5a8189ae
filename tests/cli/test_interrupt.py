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


def _workers_of(out: Path) -> list[int]:
    """Pids of live torchrun workers of the run in ``out`` (their command line names it)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().decode().split("\0")
            state = next((ln for ln in (proc / "status").read_text().splitlines()
                          if ln.startswith("State:")), "")
        except OSError:
            continue
        launcher = any(Path(a).name == "torchrun" for a in args)
        if ("uqa_cli.worker" in args and not launcher and any(str(out) in a for a in args)
                and "zombie" not in state):
            pids.append(int(proc.name))
    return pids


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc for the workers")
def test_interrupting_a_torchrun_stage_stops_its_workers(tmp_path: Path) -> None:
    """The workers run in sessions of their own: uqa must stop them before it lets go of
    the run directory, or they go on writing into it."""
    import os
    import time

    out = tmp_path / "r"
    proc = start_uqa("run", "--preset", "tiny", "--out", str(out), "--until", "pretrain",
                     "--launcher", "torchrun", "--set", "pretrain.epochs=500")
    # past the workers' rendezvous: training, a first checkpoint written
    wait_for(lambda: (out / "encoder" / "checkpoint").is_dir() and len(_workers_of(out)) == 2,
             proc, "two torchrun workers training", timeout=300)
    proc.send_signal(signal.SIGINT)
    status = proc.wait(timeout=120)  # not communicate(): orphaned workers would hold the pipe
    left = _workers_of(out)
    for pid in left:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert left == [], "torchrun workers outlived uqa run"
    text = proc.stdout.read()
    assert status == 130, text[-3000:]
    assert not (out / ".uqa.lock").exists()
    before = {p: p.stat().st_mtime_ns for p in (out / "encoder").rglob("*") if p.is_file()}
    time.sleep(3)
    after = {p: p.stat().st_mtime_ns for p in (out / "encoder").rglob("*") if p.is_file()}
    assert after == before, "something still writes into the run directory"
