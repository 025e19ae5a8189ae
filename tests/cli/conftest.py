"""Fixtures for the CLI tests: a tiny random Llama saved as a local ``--llm`` directory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# cli_helpers; appended, as other areas import their own `conftest` from sys.path
sys.path.append(str(Path(__file__).parent))


@pytest.fixture(scope="session")
def tiny_llm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama (hidden 128, 4 layers; SmolLM2's tokenizer and chat template) on disk:
    a step of alignment takes about 0.1 s, so a kill can land between checkpoints."""
    from uqa_align.testing import save_tiny_llm

    return save_tiny_llm(tmp_path_factory.mktemp("llm") / "tiny", hidden=128, layers=4)
