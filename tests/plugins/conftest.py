"""Fixtures for the example plugin: its source on sys.path, and a real pip install of it.

Unit tests import ``uqa_plugin_example`` from the plugin's ``src`` folder (this
does not register it: the registry only loads entry points). CLI tests use a
copy installed with ``pip install --no-deps --target`` and put that folder on
``PYTHONPATH`` of ``uqa`` subprocesses, so the shared environment is untouched.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from plugin_helpers import PLUGIN_SRC, pip_install_plugin

if str(PLUGIN_SRC) not in sys.path:
    sys.path.insert(0, str(PLUGIN_SRC))


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the pip-installed plugin (package + dist-info with its entry point)."""
    scratch = tmp_path_factory.mktemp("plugin-build")
    return pip_install_plugin(tmp_path_factory.mktemp("plugin-site"), scratch)
