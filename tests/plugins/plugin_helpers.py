"""Helpers for the plugin tests: a real pip install of the example plugin, uqa subprocesses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLUGIN_ROOT = REPO / "plugins" / "uqa-plugin-example"
PLUGIN_SRC = PLUGIN_ROOT / "src"


def pip_install_plugin(target: Path, scratch: Path) -> Path:
    """``pip install --no-deps --target target`` of a copy of the plugin (no build in-tree)."""
    source = scratch / "uqa-plugin-example"
    shutil.copytree(PLUGIN_ROOT, source, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-input", "--disable-pip-version-check", "--quiet", "--target", str(target),
         str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return target


def uqa_env(site: Path | None) -> dict[str, str]:
    """Environment for a ``uqa`` subprocess with ``site`` first on PYTHONPATH."""
    env = dict(os.environ, UQA_PROGRESS="0")
    env.pop("UQA_LOAD_PLUGINS", None)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p)
    return env


def run_uqa(*args: str, site: Path | None, timeout: int = 600,
            **extra_env: str) -> subprocess.CompletedProcess:
    """Run ``python -m uqa_cli.main ARGS`` (a fresh registry) with the plugin site on the path."""
    env = uqa_env(site)
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-m", "uqa_cli.main", *args],
        capture_output=True, text=True, env=env, timeout=timeout,
    )
