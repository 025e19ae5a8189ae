"""``uqa align`` / ``uqa eval`` on a run directory with a local HF model directory (--llm DIR)."""

from __future__ import annotations

import pytest
from uqa_align.testing import category_probe, tiny_llm
from uqa_cli.main import main
from uqa_data.io import read_table, write_table


@pytest.fixture
def run_dir(tmp_path):
    q, e = category_probe(8)
    for name in ("align", "eval"):
        write_table(q, tmp_path / "run" / "questions" / f"{name}.arrow")
    for split in ("train", "test"):
        write_table(e, tmp_path / "run" / "embeddings" / f"{split}.arrow")
    llm = tiny_llm()
    llm.model.save_pretrained(tmp_path / "llm")
    llm.tokenizer.save_pretrained(tmp_path / "llm")
    return tmp_path / "run", tmp_path / "llm"


def _uqa(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_align_then_eval_with_baselines(run_dir, capsys):
    out, llm = run_dir
    assert _uqa("align", "--out", str(out), "--preset", "tiny", "--llm", str(llm),
                "--steps", "2") == 0
    assert (out / "adapter" / "config.json").is_file()
    assert _uqa("eval", "--out", str(out), "--preset", "tiny") == 0
    pred = read_table(out / "predictions" / "eval.arrow")
    assert pred.num_rows == 8
    assert _uqa("eval", "--out", str(out), "--preset", "tiny", "--baseline", "shuffled") == 0
    assert (out / "baselines" / "shuffled" / "predictions" / "eval.arrow").is_file()
    assert _uqa("eval", "--out", str(out), "--preset", "tiny", "--baseline", "none") == 0
    assert _uqa("eval", "--out", str(out), "--baseline", "shufled") == 2
    assert "did you mean 'shuffled'" in capsys.readouterr().err
