"""Fixtures that install throw-away plugin distributions on a PYTHONPATH folder."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def make_plugin_dist(root: Path, dist: str, module: str, source: str, ep_name: str) -> Path:
    """Write ``module.py`` and a ``dist-info`` whose ``uqa`` entry point names it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[uqa]\n{ep_name} = {module}\n")
    return root


def run_python(
    code: str, pythonpath: Path | None = None, **env: str
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (a fresh registry), with extra env vars."""
    full_env = dict(os.environ)
    if pythonpath is not None:
        full_env["PYTHONPATH"] = f"{pythonpath}{os.pathsep}{full_env.get('PYTHONPATH', '')}"
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    return tmp_path / "site"


@pytest.fixture(name="make_plugin_dist")
def make_plugin_dist_fixture():
    return make_plugin_dist


@pytest.fixture(name="run_python")
def run_python_fixture():
    return run_python
