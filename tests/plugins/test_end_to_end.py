"""The installed plugin's encoder through the real pipeline (slow).

``uqa run --encoder lru`` end to end with the embedded SmolLM2, and the
encoder stages alone (``uqa pretrain`` + ``uqa embed``) without the LLM, so a
failure in a later stage still shows whether the plugin's part works.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.ipc as ipc
import pytest
from plugin_helpers import run_uqa


def _table(path: Path):
    with ipc.open_file(str(path)) as reader:
        return reader.read_all()


@pytest.mark.slow
def test_pretrain_and_embed_with_the_plugin_encoder(plugin_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    for args in (
        ("data", "synth", "--out", str(out), "--preset", "tiny", "--seed", "2"),
        ("data", "prepare", "--out", str(out), "--preset", "tiny", "--seed", "2"),
        ("pretrain", "--out", str(out), "--encoder", "lru", "--preset", "tiny", "--seed", "2"),
        ("embed", "--out", str(out), "--split", "test"),
    ):
        proc = run_uqa(*args, site=plugin_site)
        assert proc.returncode == 0, f"uqa {' '.join(args)}\n{proc.stderr[-3000:]}"
    config = json.loads((out / "encoder/config.json").read_text())
    assert config["encoder"] == "lru" and config["size"] == "tiny"
    assert config["encoder_config"]["state_dim"] == 32
    metrics = json.loads((out / "encoder/metrics.json").read_text())
    assert metrics  # written by the real pre-training loop
    table = _table(out / "embeddings/test.arrow")
    assert table.num_rows > 0
    assert table.schema.field("embedding").type.list_size == 32


@pytest.mark.slow
@pytest.mark.llm
def test_uqa_run_with_the_plugin_encoder_end_to_end(plugin_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "lru"
    proc = run_uqa("run", "--encoder", "lru", "--preset", "tiny", "--baselines", "",
                   "--out", str(out), site=plugin_site, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert json.loads((out / "encoder/config.json").read_text())["encoder"] == "lru"
    versions = json.loads((out / "run.json").read_text())["versions"]
    assert versions.get("uqa-plugin-example") == "0.1.0", versions  # the encoder's own package
    for name in ("embeddings/test.arrow", "adapter/config.json", "predictions/eval.arrow",
                 "report/report.json"):
        assert (out / name).is_file(), name
    questions = _table(out / "questions/eval.arrow").to_pylist()
    assert "nc" in {q["task"] for q in questions}  # the plugin's sub-task is evaluated too
    report = json.loads((out / "report/report.json").read_text())
    assert report["overall"]["n"] == len(questions)
    assert "nc" in report["tasks"]
