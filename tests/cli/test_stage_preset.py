"""Stage commands without ``--preset`` follow the preset the directory's data was made with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import uqa_inprocess
from uqa_cli.options import resolve_preset
from uqa_data.questions.config import QuestionConfig


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stages") / "x"
    from uqa_cli.main import main

    for args in (["data", "synth", "--out", str(out), "--preset", "tiny"],
                 ["data", "prepare", "--out", str(out)]):
        try:
            main(args)
        except SystemExit as exc:
            assert not exc.code, args
    return out


def _counts(out: Path) -> tuple[int, int]:
    config = json.loads((out / "questions" / "generate.json").read_text())["config"]
    return config["eval_per_task"], config["align_per_task"]


def test_questions_follow_the_synthetic_preset(tiny_dir: Path, capsys) -> None:
    code, err = uqa_inprocess(capsys, "questions", "--out", str(tiny_dir))
    assert code == 0, err
    tiny = QuestionConfig.from_preset("tiny")
    assert _counts(tiny_dir) == (tiny.eval_per_task, tiny.align_per_task)
    assert "fewer than asked" not in err


def test_an_explicit_preset_wins(tiny_dir: Path, capsys) -> None:
    code, err = uqa_inprocess(capsys, "questions", "--out", str(tiny_dir), "--preset", "small")
    assert code == 0, err
    small = QuestionConfig.from_preset("small")
    assert _counts(tiny_dir) == (small.eval_per_task, small.align_per_task)


def test_without_synthetic_data_the_preset_is_default(tmp_path: Path, tiny_dir: Path) -> None:
    assert resolve_preset(None, tmp_path) == "default"
    assert resolve_preset(None, tiny_dir) == "tiny"
    assert resolve_preset("full", tiny_dir) == "full"
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "synth.json").write_text("{not json")
    assert resolve_preset(None, tmp_path) == "default"
