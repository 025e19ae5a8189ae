"""run.json says how each stage ended: done, failed (with its error) or, interrupted, running."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from uqa_data.errors import UqaInputError
from uqa_eval.pipeline import Pipeline, Stage


def _stages(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())["stages"]


def test_a_stage_that_raises_is_recorded_failed_and_resumes(tmp_path: Path) -> None:
    seen: list[bool] = []

    def broken(resume: bool) -> None:
        seen.append(resume)
        raise UqaInputError("x.arrow: column 'user_id' missing\nsecond line")

    stage = Stage("align", broken, {"lr": 1}, [tmp_path / "run" / "out.txt"], resumable="yes")
    with pytest.raises(UqaInputError):
        Pipeline(tmp_path / "run", {}).execute(stage)
    record = _stages(tmp_path / "run")["align"]
    assert record["status"] == "failed"
    assert record["error"] == "UqaInputError: x.arrow: column 'user_id' missing"
    assert record["config"] == {"lr": 1} and record["fingerprint"]

    def fixed(resume: bool) -> dict:
        seen.append(resume)
        (tmp_path / "run" / "out.txt").write_text("ok")
        return {"ok": True}

    Pipeline(tmp_path / "run", {}).execute(Stage("align", fixed, {"lr": 1},
                                                 [tmp_path / "run" / "out.txt"], resumable="yes"))
    assert seen == [False, True]  # the same configuration picks up its checkpoint
    assert _stages(tmp_path / "run")["align"]["status"] == "done"
    assert "error" not in _stages(tmp_path / "run")["align"]


def test_an_interrupt_leaves_the_stage_running(tmp_path: Path) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Pipeline(tmp_path / "run", {}).execute(Stage("pretrain", interrupted, {}, []))
    assert _stages(tmp_path / "run")["pretrain"]["status"] == "running"
