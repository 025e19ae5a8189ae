"""``uqa run`` end to end on the tiny preset with the real SmolLM2, plus its errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.ipc as ipc
import pytest

DESIGN_FILES = [
    "run.json",
    "raw/interactions.arrow",
    "raw/items.arrow",
    "data/items.arrow",
    "data/train.arrow",
    "data/test.arrow",
    "questions/align.arrow",
    "questions/eval.arrow",
    "encoder/model.safetensors",
    "encoder/config.json",
    "encoder/metrics.json",
    "embeddings/train.arrow",
    "embeddings/test.arrow",
    "adapter/config.json",
    "predictions/eval.arrow",
    "report/report.json",
    "report/report.md",
    "report/accuracy.png",
    "report/curves.png",
]


def uqa(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, UQA_PROGRESS="0")
    return subprocess.run(
        [sys.executable, "-m", "uqa_cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=900,
    )


@pytest.mark.llm
@pytest.mark.slow
@pytest.mark.xdist_group("tiny_run")
def test_tiny_run_writes_every_design_file(tiny_run) -> None:
    out, proc = tiny_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    missing = [f for f in DESIGN_FILES if not (out / f).is_file()]
    assert not missing, missing
    report = json.loads((out / "report/report.json").read_text())
    n_questions = ipc.open_file(str(out / "questions/eval.arrow")).read_all().num_rows
    assert report["overall"]["n"] == n_questions
    assert 0.0 <= report["overall"]["acc"] <= 1.0
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == 3
    assert {"uqa-data", "uqa-cli", "torch"} <= set(run["versions"])
    for stage in ("synth", "prepare", "questions", "pretrain", "embed", "align", "eval"):
        assert run["stages"][stage]["status"] == "done", stage
    assert "Overall" in proc.stdout  # the results on stdout, the progress on stderr
    # none answers first, so every later report scores acc_pmi against its scores
    assert 0.0 <= report["overall"]["acc_pmi"] <= 1.0 and "acc_pmi" in report["metrics"]
    base = {b: json.loads((out / f"baselines/{b}/report/report.json").read_text())["overall"]
            for b in ("none", "shuffled")}
    assert base["none"]["acc_pmi"] == base["none"]["acc"] and "acc_pmi" in base["shuffled"]
    assert "is it signal? acc_pmi" in proc.stdout
    assert "uqa comparison (acc, %)" in proc.stdout  # both metrics' accuracies, then
    assert "uqa comparison (acc_pmi, %)" in proc.stdout  # the paired differences


@pytest.mark.llm
@pytest.mark.slow
@pytest.mark.xdist_group("tiny_run")
def test_rerun_skips_finished_stages(tiny_run) -> None:
    out, first = tiny_run
    assert first.returncode == 0, first.stderr[-3000:]
    before = (out / "predictions/eval.arrow").stat().st_mtime_ns
    proc = uqa("run", "--preset", "tiny", "--out", str(out), "--seed", "3")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "0 stage(s) ran" in proc.stderr
    assert (out / "predictions/eval.arrow").stat().st_mtime_ns == before


def test_same_seed_same_questions_other_seed_differs(tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        proc = uqa(
            "run",
            "--preset",
            "tiny",
            "--out",
            str(tmp_path / name),
            "--seed",
            seed,
            "--until",
            "questions",
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs[name] = (tmp_path / name / "questions/eval.arrow").read_bytes()
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]


def test_changed_upstream_config_reruns_downstream(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert uqa("run", "--preset", "tiny", "--out", str(out), "--until", "questions").returncode == 0
    proc = uqa("run", "--preset", "tiny", "--out", str(out), "--until", "questions", "--lang", "zh")
    assert proc.returncode == 0, proc.stderr[-3000:]
    stages = json.loads((out / "run.json").read_text())["stages"]
    assert stages["questions"]["config"]["lang"] == "zh"
    assert "questions: done already" not in proc.stderr


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--encoder", "sasrc", "did you mean 'sasrec'"),
        ("--adapter", "mean_lin", "mean_linear"),
        ("--preset", "huge", "valid: default, full, small, tiny"),
        ("--baselines", "nonee", "did you mean 'none'"),
        ("--until", "pretrian", "did you mean 'pretrain'"),
        ("--set", "align.stpes=400",
         "unknown align setting 'stpes' (--set align.stpes); did you mean 'steps'"),
        ("--set", "algin.steps=400", "unknown stage 'algin'"),
        ("--set", "align.steps", "is not STAGE.KEY=VALUE"),
        ("--distractors", "popular", "did you mean 'population'"),
    ],
)
def test_unknown_names_list_valid_ones(
    tmp_path: Path, flag: str, value: str, expected: str
) -> None:
    proc = uqa("run", "--out", str(tmp_path / "x"), flag, value)
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert flag in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x" / "raw").exists()  # nothing ran


def test_malformed_stage_input_names_the_file(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert uqa("run", "--preset", "tiny", "--out", str(out), "--until", "prepare").returncode == 0
    train = out / "data" / "train.arrow"
    train.write_bytes(train.read_bytes()[:100])  # truncated
    proc = uqa("questions", "--out", str(out), "--preset", "tiny")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "train.arrow" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (out / "questions" / "eval.arrow").exists()


def test_oracle_without_planted_truth_is_refused_before_any_stage(tmp_path: Path) -> None:
    data = tmp_path / "d"
    assert uqa("data", "synth", "--out", str(data), "--preset", "tiny").returncode == 0
    (data / "raw" / "truth.arrow").unlink()  # as for any imported dataset
    out = tmp_path / "x"
    proc = uqa("run", "--out", str(out), "--dataset", str(data), "--baselines", "none,oracle")
    assert proc.returncode == 2
    assert "truth.arrow" in proc.stderr and "--baselines oracle" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (out / "run.json").exists()


def test_missing_dataset_dir_is_named(tmp_path: Path) -> None:
    proc = uqa("run", "--out", str(tmp_path / "x"), "--dataset", str(tmp_path / "nope"))
    assert proc.returncode == 2
    assert "interactions.arrow" in proc.stderr and "uqa data import" in proc.stderr


def test_run_on_an_imported_csv_log(tmp_path: Path) -> None:
    """A user's own CSV log goes through import and the data stages of ``uqa run``."""
    import random

    rng = random.Random(0)
    lines = ["uid,iid,ts"]
    for user in range(60):
        for t in range(rng.randint(12, 30)):
            lines.append(f"{1000 + user},{rng.randint(1, 40)},{t * 60 + user}")
    log = tmp_path / "clicks.csv"
    log.write_text("\n".join(lines) + "\n")
    real = tmp_path / "real"
    proc = uqa("data", "import", "--format", "csv", str(log), "--out", str(real),
               "--user-col", "uid", "--item-col", "iid", "--time-col", "ts")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "run"
    proc = uqa("run", "--preset", "tiny", "--dataset", str(real), "--out", str(out),
               "--until", "questions")
    assert proc.returncode == 0, proc.stderr[-3000:]
    stages = json.loads((out / "run.json").read_text())["stages"]
    assert "synth" not in stages
    assert stages["prepare"]["status"] == "done"
    questions = ipc.open_file(str(out / "questions/eval.arrow")).read_all()
    assert questions.num_rows > 0
    train = ipc.open_file(str(out / "data/train.arrow")).read_all()
    assert set(train.column("user_id").to_pylist()) <= set(range(1000, 1060))


@pytest.mark.llm
@pytest.mark.slow
@pytest.mark.xdist_group("tiny_run")
def test_same_seed_same_accuracies_on_cpu(tiny_run, tmp_path: Path) -> None:
    """Re-aligning and re-answering from the same inputs reproduces every option score."""
    import shutil

    out, first = tiny_run
    assert first.returncode == 0, first.stderr[-3000:]
    copy = tmp_path / "again"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("adapter", "predictions",
                                                             "report", "baselines"))
    proc = uqa("run", "--preset", "tiny", "--out", str(copy), "--seed", "3", "--baselines", "")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "- pretrain: done already" in proc.stderr  # only align onwards re-ran
    table = ipc.open_file(str(out / "predictions/eval.arrow")).read_all()
    again = ipc.open_file(str(copy / "predictions/eval.arrow")).read_all()
    assert table.column("option_scores").to_pylist() == again.column("option_scores").to_pylist()
    first_report = json.loads((out / "report/report.json").read_text())
    second_report = json.loads((copy / "report/report.json").read_text())
    # the copy runs without baselines, so without none's scores there is no acc_pmi
    assert "acc_pmi" not in second_report["overall"]
    assert {k: v for k, v in first_report["overall"].items() if "pmi" not in k} == \
        second_report["overall"]
    # `none` added to the finished run: it answers, and the report that reads its scores
    # is built again, now with acc_pmi (as the first run's, whose none answered alike)
    proc = uqa("run", "--preset", "tiny", "--out", str(copy), "--seed", "3", "--baselines",
               "none")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "- report: done already" not in proc.stderr
    third_report = json.loads((copy / "report/report.json").read_text())
    assert third_report["overall"] == first_report["overall"]


def test_set_parses_stage_settings_as_json_or_text() -> None:
    from uqa_cli.commands.run import parse_settings

    assert parse_settings(["align.steps=400", "align.loss=options", "eval.batch_size=8",
                           'align.adapter_options={"num_tokens": 4}', "align.fsdp=true"]) == {
        "align": {"steps": 400, "loss": "options", "adapter_options": {"num_tokens": 4},
                  "fsdp": True},
        "eval": {"batch_size": 8},
    }


def test_set_overrides_reach_the_stage_and_its_record(tmp_path: Path) -> None:
    out = tmp_path / "r"
    proc = uqa("run", "--preset", "tiny", "--out", str(out), "--until", "questions",
               "--set", "questions.eval_per_task=3", "--set", "questions.tasks=[\"si\", \"it\"]")
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = ipc.open_file(out / "questions" / "eval.arrow").read_all()
    assert rows.num_rows == 6 and set(rows.column("task").to_pylist()) == {"si", "it"}
    record = json.loads((out / "run.json").read_text())["stages"]["questions"]["config"]
    assert record["eval_per_task"] == 3


@pytest.mark.llm
@pytest.mark.slow
@pytest.mark.xdist_group("tiny_run")
def test_tiny_run_off_a_terminal_logs_progress_lines(tiny_run) -> None:
    _, proc = tiny_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stderr
    assert "[uqa] pre-train sasrec: started" in log
    assert re.search(r"\[uqa\] pre-train sasrec: \d+/\d+ \(\d+%\) loss=\d+\.\d+ .*elapsed "
                     r"\d:\d\d:\d\d eta \d:\d\d:\d\d", log)
    # the LLM's stages say the precision they run in (fp32 without bf16 instructions)
    assert re.search(r"\[uqa\] align mean_linear/adapter \((fp32|bf16)\): 8/8 \(100%\) "
                     r"loss=\S+ done", log)
    assert re.search(r"\[uqa\] answer \(loglik, (fp32|bf16)\): \d+/\d+ \(\d+%\)", log)
    assert "past_key_values" not in log and "de-quantizing" not in log


@pytest.mark.llm
@pytest.mark.slow
@pytest.mark.xdist_group("tiny_run")
def test_tiny_run_report_has_training_curves(tiny_run) -> None:
    out, proc = tiny_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    curves = json.loads((out / "report/report.json").read_text())["curves"]
    assert curves["pretrain"]["epoch"] == [1, 2, 3]
    assert len(curves["align"]["loss"]) == 8 and curves["shared_adapter"] == ["shuffled"]
    assert (out / "report/curves.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.llm
@pytest.mark.slow
@pytest.mark.xdist_group("tiny_run")
def test_tiny_run_log_dir_holds_tensorboard_events(tiny_run) -> None:
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    out, proc = tiny_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    mux = EventMultiplexer(size_guidance={"tensors": 0})
    mux.AddRunsFromDirectory(str(out.parent / "tb"))
    mux.Reload()
    runs = mux.Runs()
    assert set(runs) == {"pretrain", "align"}
    assert {"train/loss", "train/lr", "train/grad_norm", "train/steps_per_s",
            "eval/hr@10"} <= set(runs["pretrain"]["tensors"])
    assert len(mux.Tensors("align", "train/loss")) == 8


@pytest.mark.llm
@pytest.mark.slow
@pytest.mark.xdist_group("tiny_run")
def test_tiny_run_records_the_lock_it_was_installed_from(tiny_run) -> None:
    import hashlib

    out, proc = tiny_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = json.loads((out / "run.json").read_text())
    lock = Path(__file__).resolve().parents[2] / "constraints.txt"
    assert run["lock"]["sha256"] == hashlib.sha256(lock.read_bytes()).hexdigest()
    assert run["versions"]["torch"].startswith("2.13.0")


def test_run_without_out_writes_under_runs(tmp_path: Path) -> None:
    """`make run` is `uqa run` with no flags: the run directory defaults to
    runs/<preset>-<encoder>-<adapter>-s<seed>, for synthetic and imported data alike."""
    proc = uqa("run", "--preset", "tiny", "--until", "prepare", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "runs" / "tiny-sasrec-mean_linear-s0"
    assert (out / "data/train.arrow").is_file()
    # the same default for --dataset: an imported directory is read, runs/ is written
    (tmp_path / "imported").mkdir()
    proc = uqa("run", "--preset", "tiny", "--dataset", "imported", "--until", "prepare",
               cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "--dataset imported: expected imported/raw/interactions.arrow" in proc.stderr
    # a run on imported data gets a directory of its own, named after the dataset
    proc = uqa("run", "--preset", "tiny", "--dataset", str(out), "--until", "prepare",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = tmp_path / "runs" / f"{out.name}-tiny-sasrec-mean_linear-s0"
    assert (imported / "data/train.arrow").is_file()
    assert (out / "run.json").read_text().count('"dataset": "synthetic"') >= 1


def test_stage_commands_default_to_runs_default(tmp_path: Path) -> None:
    """Every stage command reads and writes runs/default when --out is left out."""
    for argv in (["data", "synth", "--preset", "tiny"], ["data", "prepare"], ["questions"]):
        proc = uqa(*argv, cwd=tmp_path)
        assert proc.returncode == 0, (argv, proc.stderr[-2000:])
    assert (tmp_path / "runs/default/questions/eval.arrow").is_file()


@pytest.mark.parametrize(("baselines", "aligning"), [
    (["none", "shuffled"], ["align"]),
    (["none", "shuffled", "random", "oracle"], ["align", "align-random", "align-oracle"]),
])
def test_the_alignments_a_run_plans_share_their_prefixes(tmp_path: Path, baselines,
                                                        aligning) -> None:
    """``uqa run`` keeps the first alignment's prefixes for the later ones only when it
    plans more than one: the stages it counts as alignments are these."""
    from uqa_cli.run import RunOptions, checked_configs, is_alignment, plan
    from uqa_data.layout import RunLayout

    options = RunOptions(out=tmp_path / "r", preset="tiny", baselines=baselines)
    steps = plan(options, checked_configs(options), RunLayout(tmp_path / "r"))
    assert [st.name for _, stages in steps for st in stages if is_alignment(st.name)] == aligning
    assert not any(is_alignment(name) for name in ("eval-random", "embed-untrained",
                                                   "report-oracle", "alignment"))
