"""Files and folders uqa writes get the umask's permissions, as ``open()`` and ``mkdir()``
would give them, so teammates on a shared file system can read a run (and the LLM cache)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from uqa_data.io import atomic_dir, atomic_path, write_bytes, write_json, write_table


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o027])
def umask(request: pytest.FixtureRequest):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_atomic_writes_honour_the_umask(tmp_path: Path, umask: int) -> None:
    write_table(pa.table({"a": [1]}), tmp_path / "t.arrow")
    write_json({"a": 1}, tmp_path / "sub" / "t.json")
    write_bytes(b"x", tmp_path / "t.bin")
    with atomic_path(tmp_path / "w.safetensors") as tmp:  # a writer that replaces its file
        import torch
        from safetensors.torch import save_file

        save_file({"w": torch.zeros(2)}, str(tmp))
    for name in ("t.arrow", "sub/t.json", "t.bin", "w.safetensors"):
        assert _mode(tmp_path / name) == 0o666 & ~umask, name
    assert _mode(tmp_path / "sub") == 0o777 & ~umask


def test_atomic_dir_publishes_with_the_umask(tmp_path: Path, umask: int) -> None:
    import tempfile

    with atomic_dir(tmp_path / "cache" / "model") as tmp:
        fd, private = tempfile.mkstemp(dir=tmp)  # 0600, as some writers make them
        os.close(fd)
        os.replace(private, tmp / "weights.bin")
        (tmp / "nested").mkdir()
    assert _mode(tmp_path / "cache" / "model") == 0o777 & ~umask
    assert _mode(tmp_path / "cache" / "model" / "weights.bin") == 0o666 & ~umask
    assert _mode(tmp_path / "cache" / "model" / "nested") == 0o777 & ~umask


def _run_with_umask(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", f"import os; os.umask(0o022)\n{code}"],
                          capture_output=True, text=True, env=env, timeout=600)


def test_a_stage_writes_readable_files(tmp_path: Path) -> None:
    env = dict(os.environ, UQA_PROGRESS="0")
    proc = _run_with_umask(
        "from uqa_cli.main import main\n"
        f"main(['data', 'synth', '--preset', 'tiny', '--out', {str(tmp_path / 'r')!r}])", env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    raw = tmp_path / "r" / "raw"
    assert _mode(raw) == 0o755
    assert {p.name: _mode(p) for p in raw.iterdir()} == dict.fromkeys(
        (p.name for p in raw.iterdir()), 0o644)


@pytest.mark.llm
@pytest.mark.xdist_group("gguf")
def test_llm_cache_is_readable(first_gguf_conversion: dict) -> None:
    converted = Path(first_gguf_conversion["dir"])  # made under umask 022
    assert converted.parent == Path(first_gguf_conversion["cache"])
    assert _mode(converted) == 0o755
    assert _mode(converted / "model.safetensors") == 0o644
