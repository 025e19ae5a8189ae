"""``uqa run`` checks every flag and ``--set`` value before the first stage runs.

Each case fails with one line naming the flag, exit status 2, and nothing written
(the run directory is not even created). Runs in this process through the real
console script: nothing heavy happens before the error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import uqa_inprocess

CASES = [
    # (flag and value, expected text in the error line)
    (["--strategy", "lorra"], "unknown alignment strategy 'lorra' (--strategy); did you mean "
     "'lora'?"),
    (["--mode", "logl"], "unknown answering mode 'logl' (--mode); did you mean 'loglik'?"),
    (["--lang", "zhh"], "unknown language 'zhh' (--lang); did you mean 'zh'?"),
    (["--encoder-size", "99m"], "unknown sasrec size '99m' (--encoder-size)"),
    (["--launcher", "slurmm"], "unknown launcher 'slurmm' (--launcher)"),
    (["--llm", "smolm2"], "unknown llm 'smolm2' (--llm); did you mean 'smollm2'?"),
    (["--set", "align.steps=abc"], "align setting steps='abc' (--set align.steps): expected "
     "an integer"),
    (["--set", "align.lr=-1"], "align setting lr=-1.0 (--set align.lr): expected a number > 0"),
    (["--set", "align.steps=-5"], "align setting steps=-5 (--set align.steps): expected an "
     "integer >= 0"),
    (["--set", "align.batch_size=0"], "(--set align.batch_size): expected an integer >= 1"),
    (["--set", "align.llm_lr=0"], "(--set align.llm_lr): expected a number > 0"),
    (["--set", "align.adapter_options={\"num_tokens\": 0}"],
     "adapter 'mean_linear' setting num_tokens=0: expected an integer >= 1"),
    (["--set", "align.adapter_options={\"num_tokns\": 2}"], "unknown option(s) num_tokns"),
    (["--set", "pretrain.lr=0"], "pre-training setting lr=0.0 (--set pretrain.lr): expected a "
     "number > 0"),
    (["--set", "pretrain.batch_size=0"], "(--set pretrain.batch_size): expected an integer >= 1"),
    (["--set", "pretrain.max_len=2.5"], "pretrain setting max_len=2.5 (--set "
     "pretrain.max_len): expected an integer"),
    (["--set", "pretrain.dropout=1.5"], "(--set pretrain.dropout): expected a number in [0, 1)"),
    (["--set", "pretrain.size=99m"], "unknown sasrec size '99m' (--set pretrain.size)"),
    (["--set", "eval.max_questions=0"], "(--set eval.max_questions): expected an integer >= 1"),
    (["--set", "eval.batch_size=x"], "(--set eval.batch_size): expected an integer"),
    (["--set", "questions.eval_per_task=-1"], "eval_per_task"),
    (["--set", "prepare.test_fraction=2"], "prepare setting test_fraction=2.0 (--set "
     "prepare.test_fraction): expected a number in [0, 1)"),
    (["--set", "prepare.test_fraction=0"], "--set prepare.test_fraction 0: expected a number "
     "in (0, 1), the share of users held out for evaluation; 0 holds out none"),
    (["--set", "questions.preset=tiny"], "--set questions.preset: uqa run sets it from "
     "--preset"),
    (["--set", "eval.baseline=shuffled"], "--set eval.baseline: uqa run sets it from "
     "--baselines"),
    (["--set", "questions.tasks=xx"], "unknown task 'xx' (--set questions.tasks); valid: ap"),
    (["--set", "questions.formats=foo"], "unknown format 'foo' (--set questions.formats)"),
    (["--set", 'questions.formats=["lm-eval"]'], "format 'lm-eval' (--set "
     "questions.formats): the lm-evaluation-harness tasks come from `uqa questions --format "
     "lm-eval`"),
    (["--set", "questions.distractors=x"], "(--set questions.distractors); valid:"),
    (["--set", "questions.eval_per_task=0"], "--set questions.eval_per_task 0: expected an "
     "integer >= 1; it would write an empty question file"),
    (["--set", "synth.n_users=0"], "synth setting n_users=0 (--set synth.n_users): expected "
     "an integer >= 1"),
    (["--set", "synth.n_items=3"], "synth setting n_items=3 (--set synth.n_items): expected "
     "an integer >= n_categories (12)"),
    (["--set", "synth.noise_range=[0.5, 0.1]"], "(--set synth.noise_range): expected [low, "
     "high] with 0 <= low <= high <= 1"),
    (["--set", "synth.nusers=10"], "unknown synth setting 'nusers' (--set synth.nusers); did "
     "you mean 'n_users'?"),
    (["--set", "pretrain.encoder=foo"], "unknown encoder 'foo' (--set pretrain.encoder)"),
    (["--set", "pretrain.precision=fp8"], "unknown precision 'fp8' (--set pretrain.precision); "
     "valid: auto, bf16, fp32"),
    (["--set", "align.precision=fp8"], "unknown precision 'fp8' (--set align.precision); "
     "valid: auto, bf16, bf16-mixed, fp32"),
    (["--set", "align.bogus=1"], "unknown align setting 'bogus' (--set align.bogus)"),
    (["--set", "align.ema=1"], "align setting ema=1.0 (--set align.ema): expected a number "
     "in [0, 1)"),
    (["--set", "align.ema=-0.5"], "(--set align.ema): expected a number >= 0"),
    (["--set", "eval.llm=smollm3"], "unknown llm 'smollm3' (--set eval.llm)"),

    (["--set", "align.llm=/no/such/model"], "--set align.llm /no/such/model: no such directory"),
    (["--seed", "-1"], "--seed -1: expected an integer >= 0"),
    (["--set", "align.seed=-2"], "align setting seed=-2 (--set align.seed): expected an "
     "integer >= 0"),
    (["--set", "pretrain.seed=-2"], "(--set pretrain.seed): expected an integer >= 0"),
    (["--set", "eval.seed=-2"], "(--set eval.seed): expected an integer >= 0"),
    (["--set", "questions.seed=-2"], "(--set questions.seed): expected an integer >= 0"),
    (["--set", "prepare.seed=-2"], "(--set prepare.seed): expected an integer >= 0"),
]


@pytest.mark.parametrize(("flags", "expected"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_flag_fails_before_any_stage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], expected: str
) -> None:
    out = tmp_path / "x"
    code, err = uqa_inprocess(capsys, "run", "--preset", "tiny", "--out", str(out), *flags)
    assert code == 2, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], err
    assert not out.exists()  # nothing ran, nothing written


def test_encoder_size_message_names_only_its_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = uqa_inprocess(capsys, "run", "--out", str(tmp_path / "x"), "--encoder-size",
                              "99m")
    assert code == 2 and "(--size)" not in err


def test_steps_message_names_one_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = uqa_inprocess(capsys, "run", "--out", str(tmp_path / "x"), "--set",
                              "align.steps=-5")
    assert code == 2 and "--batch-size" not in err and "--steps" not in err


def test_values_are_coerced_to_the_field_type(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """``--set align.steps=4.0`` and ``"4"`` are the integer 4 in the recorded config."""
    out = tmp_path / "x"
    code, err = uqa_inprocess(capsys, "run", "--preset", "tiny", "--out", str(out), "--until",
                              "synth", "--set", "align.steps=4.0", "--set", "align.lr=\"0.01\"")
    assert code == 0, err
    from uqa_align.train import AlignConfig
    from uqa_cli.commands.run import parse_settings
    from uqa_cli.run import check_overrides

    over = parse_settings(["align.steps=4.0", 'align.lr="0.01"'])
    check_overrides(over, {"align": AlignConfig})
    assert over["align"] == {"steps": 4, "lr": 0.01}
    assert type(over["align"]["steps"]) is int
    assert json.loads((out / "run.json").read_text())["stages"]["synth"]["status"] == "done"


@pytest.mark.parametrize("argv", [
    ["data", "synth", "--preset", "tiny"], ["pretrain"], ["questions"], ["align"], ["eval"],
    ["study", "table2", "--preset", "tiny"],
], ids=lambda a: a[0] if a[0] != "data" else "data synth")
def test_negative_seed_of_every_command(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        argv: list[str]) -> None:
    """Every command's ``--seed`` is checked while its flags are parsed."""
    out = tmp_path / "x"
    code, err = uqa_inprocess(capsys, *argv, "--out", str(out), "--seed", "-3")
    assert code == 2 and "Traceback" not in err, err
    assert "error: --seed -3: expected an integer >= 0" in err
    assert not out.exists()


@pytest.mark.parametrize("sub", ["", "events"])
def test_log_dir_that_is_or_sits_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              sub: str) -> None:
    """``--log-dir`` naming a file (or a folder under one) fails before any stage runs."""
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    log_dir = afile / sub if sub else afile
    out = tmp_path / "x"
    code, err = uqa_inprocess(capsys, "run", "--preset", "tiny", "--out", str(out),
                              "--log-dir", str(log_dir))
    assert code == 2 and "Traceback" not in err, err
    assert f"error: --log-dir {log_dir}:" in " ".join(err.split())
    assert not out.exists()


@pytest.mark.parametrize(("flags", "expected"), [
    (["--set", "align.loss=optons"], "unknown alignment loss 'optons' (--set align.loss); did you "
     "mean 'options'?"),
    (["--set", "align.position=middle"], "unknown user-context position 'middle' (--set "
     "align.position); valid: after, before"),
    (["--set", "pretrain.input_mode=ids"], "unknown input mode 'ids' (--set pretrain.input_mode)"),
    (["--set", "prepare.min_item_count=0"], "prepare setting min_item_count=0 (--set "
     "prepare.min_item_count): expected an integer >= 1"),
    (["--set", "questions.lang=fr"], "unknown language 'fr' (--set questions.lang)"),
], ids=["loss", "position", "input-mode", "min-item-count", "lang"])
def test_a_bad_set_value_names_the_set_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            flags: list[str], expected: str) -> None:
    """``uqa run`` has no --loss or --min-item-count: its error names the --set that gave it."""
    code, err = uqa_inprocess(capsys, "run", "--preset", "tiny", "--out", str(tmp_path / "x"),
                              *flags)
    assert code == 2 and expected in err and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(("argv", "expected"), [
    (["eval", "--max-questions", "0"], "(--max-questions): expected an integer >= 1"),
    (["pretrain", "--epochs", "0"], "(--epochs): expected an integer >= 1"),
    (["align", "--loss", "optons"], "unknown alignment loss 'optons' (--loss)"),
    (["questions", "--per-task", "-1"], "(--per-task): expected an integer >= 0"),
    (["data", "prepare", "--test-fraction", "1"], "(--test-fraction): expected a number in"),
    (["eval", "--baseline", "none", "--llm", "/no/such/llm"],
     "--llm /no/such/llm: no such directory"),
    (["align", "--llm", "./nollm"], "--llm ./nollm: no such directory"),
], ids=["eval", "pretrain", "align", "questions", "prepare", "eval-llm", "align-llm"])
def test_a_stage_command_names_its_own_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            argv: list[str], expected: str) -> None:
    code, err = uqa_inprocess(capsys, *argv, "--out", str(tmp_path / "x"))
    assert code == 2 and expected in err and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("value", ["abc", "0", "-2"])
def test_uqa_nproc_is_checked_before_the_first_stage(tmp_path: Path, capsys, value: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UQA_NPROC", value)
    code, err = uqa_inprocess(capsys, "run", "--preset", "tiny", "--launcher", "torchrun",
                              "--out", str(tmp_path / "x"))
    assert code == 2 and err == (f"error: UQA_NPROC={value!r}: expected an integer >= 1 "
                                 "(torchrun workers per node, for --launcher torchrun)\n"), err
    assert not (tmp_path / "x").exists()


def test_answering_with_another_llm_than_the_alignment_is_refused_first(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], tiny_llm_dir: Path) -> None:
    """An adapter answers only with the LLM it was aligned on: --set eval.llm against --llm
    fails before the alignment runs, naming both flags."""
    out = tmp_path / "run"
    code, err = uqa_inprocess(capsys, "run", "--preset", "tiny", "--out", str(out), "--llm",
                              str(tiny_llm_dir), "--set", "eval.llm=smollm2")
    assert code == 2, err
    assert (f"--set eval.llm smollm2: the run aligns on {tiny_llm_dir} (--llm), and an "
            "adapter answers only with the LLM it was aligned on") in err, err
    assert not out.exists()
