"""Running ``uqa`` for the CLI tests: in a subprocess (signals, locks, exit statuses) or in
this process (fast checks of flags that fail before any stage runs)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest


def uqa_env() -> dict[str, str]:
    return dict(os.environ, UQA_PROGRESS="0", OMP_NUM_THREADS="1")


def uqa_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "uqa_cli.main", *args]


def run_uqa(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """``uqa ARGS`` in a subprocess (stdout and stderr captured as text)."""
    return subprocess.run(uqa_cmd(*args), capture_output=True, text=True, env=uqa_env(),
                          timeout=timeout)


def start_uqa(*args: str) -> subprocess.Popen:
    """``uqa ARGS`` started in the background, stderr merged into stdout (a pipe)."""
    return subprocess.Popen(uqa_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=uqa_env())


def wait_for(check: Callable[[], bool], proc: subprocess.Popen, what: str,
             timeout: float = 300) -> None:
    """Poll ``check`` every 10 ms until it holds; fail if ``proc`` ends first."""
    end = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None:
            pytest.fail(f"uqa ended (status {proc.returncode}) before {what}: "
                        f"{proc.stdout.read()[-3000:] if proc.stdout else ''}")
        if time.monotonic() > end:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def uqa_inprocess(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``uqa ARGS`` through the real console script in this process: (status, stderr)."""
    from uqa_cli.main import main

    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, capsys.readouterr().err


def file_text(path: Path) -> str:
    return path.read_text() if path.is_file() else ""


def stage_status(run_dir: Path, stage: str) -> str | None:
    """The status ``run.json`` records for ``stage`` (None while it has not started)."""
    import json

    try:
        stages = json.loads((run_dir / "run.json").read_text())["stages"]
    except (OSError, ValueError, KeyError):
        return None
    return (stages.get(stage) or {}).get("status")
