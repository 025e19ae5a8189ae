"""Fixtures for the example plugin: its source on sys.path, and a real pip install of it.

Unit tests import ``uqa_plugin_example`` from a copy of the plugin's package alone
(this does not register it: the registry only loads entry points, and the copy
carries none, even when a local ``pip install`` of the plugin left an
``*.egg-info`` in its ``src`` folder, which the registry of every later in-process
test would otherwise load). CLI tests use a
copy installed with ``pip install --no-deps --target`` and put that folder on
``PYTHONPATH`` of ``uqa`` subprocesses, so the shared environment is untouched.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from plugin_helpers import PLUGIN_SRC, pip_install_plugin

_PACKAGE_ONLY = Path(tempfile.mkdtemp(prefix="uqa-plugin-src-"))
shutil.copytree(PLUGIN_SRC / "uqa_plugin_example", _PACKAGE_ONLY / "uqa_plugin_example",
                ignore=shutil.ignore_patterns("__pycache__"))
sys.path.insert(0, str(_PACKAGE_ONLY))
atexit.register(shutil.rmtree, _PACKAGE_ONLY, True)


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the pip-installed plugin (package + dist-info with its entry point)."""
    scratch = tmp_path_factory.mktemp("plugin-build")
    return pip_install_plugin(tmp_path_factory.mktemp("plugin-site"), scratch)
