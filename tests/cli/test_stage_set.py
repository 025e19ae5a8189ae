"""A stage command's ``--set KEY=VALUE`` reaches the settings that have no flag of their own.

Errors name ``--set KEY`` (or the flag that owns the key), exit 2, before anything is written;
accepted values land in the stage's recorded config.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_helpers import uqa_inprocess

ERRORS = [
    (["align", "--set", "epochz=3"], "unknown align setting 'epochz' (--set epochz); did you "
     "mean 'epochs'?"),
    (["align", "--set", "epochs=0"], "(--set epochs): expected a number > 0"),
    (["align", "--set", "weight_decay=abc"], "(--set weight_decay): expected a number"),
    (["align", "--set", "lr=0.1"], "--set lr: give it with --lr"),
    (["align", "--set", "use_embeddings=false"], "--set use_embeddings: give it with --baseline"),
    (["align", "--num-tokens", "2", "--set", "adapter_options={}"],
     "--set adapter_options: give it with --num-tokens"),
    (["align", "--set", "epochs"], "--set 'epochs' is not KEY=VALUE (a align setting)"),
    (["align", "--set", "align.warmup_steps=-1"], "(--set warmup_steps): expected an integer"),
    (["pretrain", "--set", "temperature=0"], "(--set temperature): expected a number > 0"),
    (["pretrain", "--set", "seed=4"], "--set seed: give it with --seed"),
    (["eval", "--set", "precision=fp8"], "precision"),
    (["eval", "--set", "baseline=none"], "--set baseline: give it with --baseline"),
    (["questions", "--set", "eval_per_task=3"], "--set eval_per_task: give it with --per-task"),
    (["questions", "--set", "preset=tiny"], "--set preset: give it with --preset"),
    (["questions", "--set", "min_history=x"], "(--set min_history): expected an integer"),
]


@pytest.mark.parametrize(("argv", "expected"), ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_a_bad_stage_set_is_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              argv: list[str], expected: str) -> None:
    code, err = uqa_inprocess(capsys, *argv, "--out", str(tmp_path / "x"))
    assert code == 2 and expected in err and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()


@pytest.mark.xdist_group("tiny_run")
def test_align_set_reaches_epochs_and_weight_decay(tiny_run, tiny_llm_dir: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """``uqa align --set epochs=0.5 --set weight_decay=0.1``: the steps follow the half epoch
    and the adapter's recorded config holds both values."""
    src, proc = tiny_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "run"
    shutil.copytree(src, out)
    code, err = uqa_inprocess(
        capsys, "align", "--out", str(out), "--llm", str(tiny_llm_dir), "--adapter-dir",
        str(tmp_path / "a"), "--set", "epochs=0.5", "--set", "align.weight_decay=0.1",
        "--set", 'adapter_options={"pool": "both"}', "--json")
    assert code == 0, err
    config = json.loads((tmp_path / "a" / "config.json").read_text())["align"]
    n_align = json.loads((out / "questions" / "generate.json").read_text())["align"]["questions"]
    assert config["epochs"] == 0.5 and config["weight_decay"] == 0.1
    assert config["adapter_options"] == {"pool": "both"}
    assert config["steps"] == -(-n_align // (2 * config["batch_size"]))  # half an epoch


def test_questions_set_reaches_min_history(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x"
    for argv in (["data", "synth", "--preset", "tiny"], ["data", "prepare"]):
        code, err = uqa_inprocess(capsys, *argv, "--out", str(out))
        assert code == 0, err
    code, err = uqa_inprocess(capsys, "questions", "--out", str(out), "--set",
                              "min_history=12", "--set", "questions.max_position=4")
    assert code == 0, err
    config = json.loads((out / "questions" / "generate.json").read_text())["config"]
    assert config["min_history"] == 12 and config["max_position"] == 4
