"""The README's "Python API" block runs as printed, in a fresh process: every stage on the
tiny preset with the real SmolLM2, and the files each stage promises are there."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.ipc as ipc
import pytest
from cli_helpers import uqa_env

README = Path(__file__).resolve().parents[2] / "README.md"


def api_block() -> str:
    section = README.read_text().split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the Python API section should hold one python block"
    return blocks[0]


@pytest.mark.llm
@pytest.mark.slow
def test_readme_python_api_runs_as_printed(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", api_block()], cwd=tmp_path,
                          capture_output=True, text=True, env=uqa_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the block's last line prints the overall scores (a dict of numbers and tuples)
    overall = ast.literal_eval(proc.stdout.strip().splitlines()[-1])
    run = tmp_path / "runs" / "api"
    n_eval = ipc.open_file(str(run / "questions" / "eval.arrow")).read_all().num_rows
    assert overall["n"] == n_eval > 0
    assert 0.0 <= overall["ci"][0] <= overall["acc"] <= overall["ci"][1] <= 1.0
    for rel in ("raw/interactions.arrow", "data/train.arrow", "questions/align.arrow",
                "encoder/model.safetensors", "embeddings/train.arrow",
                "embeddings/test.arrow", "adapter/config.json", "predictions/eval.arrow"):
        assert (run / rel).is_file(), rel

