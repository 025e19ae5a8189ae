"""``uqa --version`` and ``uqa-eval --version``: what a bug report needs, from the installed
console scripts, with the versions ``run.json`` records."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from cli_helpers import uqa_env

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("script", ["uqa", "uqa-eval"])
def test_version_lists_packages_and_python(script: str) -> None:
    proc = subprocess.run([str(BIN / script), "--version"], capture_output=True, text=True,
                          env=uqa_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    for dist in ("uqa-data", "uqa-align", "uqa-eval", "torch"):
        assert lines[dist] == metadata.version(dist)
    assert lines["python"] == platform.python_version()
    assert proc.stderr == ""


def test_version_is_eager_and_runs_nothing(tmp_path: Path) -> None:
    # --version before a command answers at once: no stage runs, nothing is written.
    proc = subprocess.run([str(BIN / "uqa"), "--version", "run", "--out", str(tmp_path / "r")],
                          capture_output=True, text=True, env=uqa_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "uqa-cli " in proc.stdout
    assert not (tmp_path / "r").exists()
