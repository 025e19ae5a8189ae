"""Fixtures for the CLI tests: a tiny random Llama saved as a local ``--llm`` directory, and
one tiny run with the real SmolLM2 that several tests read."""

from __future__ import annotations

import os
import subprocess
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


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """One tiny run as under ``nohup uqa run ... > log``: progress on, stderr a file; with
    ``--log-dir`` (TensorBoard events in ``<tmp>/tb``). Tests that take it are marked
    ``xdist_group("tiny_run")`` (``--dist loadgroup``): one worker makes it, once."""
    root = tmp_path_factory.mktemp("runs")
    out, log = root / "tiny", root / "tiny.log"
    env = {k: v for k, v in os.environ.items() if k != "UQA_PROGRESS"}
    with log.open("w") as fh:
        proc = subprocess.run(
            [sys.executable, "-m", "uqa_cli.main", "run", "--preset", "tiny", "--out", str(out),
             "--seed", "3", "--log-dir", str(root / "tb")],
            stdout=subprocess.PIPE, stderr=fh, text=True, env=env, timeout=900)
    proc.stderr = log.read_text()
    return out, proc
