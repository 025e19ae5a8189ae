"""Several runs side by side: ordering like the paper's Table 2, bold best values, `uqa report`."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner
from uqa_data.errors import UqaInputError
from uqa_data.io import write_json, write_table
from uqa_data.layout import RunLayout, RunState, baseline_stage
from uqa_eval.report import (
    TASKS,
    compare_runs,
    comparison_markdown,
    find_runs,
    load_comparison,
    summarize,
    write_comparison,
)

N_PER_TASK = 4


def make_run(root: Path, name: str, meta: dict, right_per_task: int, tokens: int) -> Path:
    """A run dir with report/report.json: ``right_per_task`` of 4 right on every sub-task."""
    tasks = [t for t in TASKS for _ in range(N_PER_TASK)]
    correct = [i % N_PER_TASK < right_per_task for i in range(len(tasks))]
    report = summarize(tasks, correct, correct_norm=correct, input_tokens=[tokens] * len(tasks),
                       meta={"run": name, **meta})
    write_json(report, root / name / "report" / "report.json")  # as write_report, minus md/png
    return root / name


@pytest.fixture
def study(tmp_path: Path) -> Path:
    root = tmp_path / "study"
    make_run(root, "r-trm", {"encoder": "trm_plus", "adapter": "mean_linear"}, 3, 60)
    make_run(root, "r-text50", {"baseline": "text50"}, 2, 2400)
    make_run(root, "r-sasrec", {"encoder": "sasrec", "adapter": "mean_linear"}, 2, 60)
    make_run(root, "r-none", {"baseline": "none"}, 1, 50)
    make_run(root, "r-text20", {"baseline": "text20"}, 2, 1200)
    make_run(root, "r-gru", {"encoder": "gru4rec", "adapter": "mean_linear"}, 1, 60)
    make_run(root, "r-shuf", {"method": "shuffled"}, 1, 60)
    return root


def test_rows_ordered_like_table2_with_token_ratios(study: Path) -> None:
    comparison = compare_runs(find_runs([study]))
    labels = [r["label"] for r in comparison["runs"]]
    assert labels == ["Text20", "Text50", "None (no user)", "Shuffled emb.", "GRU4Rec", "SASRec",
                      "Trm++"]
    groups = [r["group"] for r in comparison["runs"]]
    assert groups == ["Text-based"] * 2 + ["Control"] * 2 + ["Emb-based"] * 3
    trm = comparison["runs"][-1]
    assert trm["token_ratio"]["text20"] == pytest.approx(60 / 1200)
    assert trm["token_ratio"]["text50"] == pytest.approx(60 / 2400)
    assert comparison["reference_tokens"] == {"text20": 1200.0, "text50": 2400.0}


def test_markdown_bolds_best_per_column(study: Path) -> None:
    md = comparison_markdown(compare_runs(find_runs([study])))
    table = md.split("## acc_norm")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    assert header[:3] == ["Method", "Model", "DF"] and header[12] == "Overall"
    body = {r.split("|")[2].strip(): [c.strip() for c in r.strip("|").split("|")] for r in rows[1:]}
    assert body["Trm++"][header.index("Overall")] == "**75.00**"
    assert body["SASRec"][header.index("Overall")] == "50.00"
    assert body["None (no user)"][header.index("Tokens")] == "**50.0**"  # fewest tokens
    assert body["Text20"][0] == "Text-based" and body["Text50"][0] == ""
    assert body["Text50"][header.index("x Text20")] == "2.000"


def test_ties_are_all_bold_and_labels_made_unique(tmp_path: Path) -> None:
    a = make_run(tmp_path, "a", {"encoder": "sasrec", "adapter": "mean_linear"}, 2, 60)
    b = make_run(tmp_path, "b", {"encoder": "sasrec", "adapter": "qformer"}, 2, 75)
    c = make_run(tmp_path, "c", {"encoder": "sasrec", "adapter": "qformer"}, 1, 75)
    comparison = compare_runs([c, b, a])
    labels = [r["label"] for r in comparison["runs"]]
    assert labels == ["SASRec (mean_linear)", "SASRec (qformer) [b]", "SASRec (qformer) [c]"]
    md = comparison_markdown(comparison)
    assert md.count("| **50.00** |") >= 2  # a and b tie on every column


def test_runs_without_report_json_are_built_from_predictions(tmp_path: Path) -> None:
    study = tmp_path / "s"
    questions = pa.table({"question_id": ["q0", "q1"], "task": ["df", "si"],
                          "dimension": ["sequence_understanding", "interest_perception"]})
    write_table(questions, study / "questions" / "eval.arrow")  # shared by the study
    run = RunLayout(study / "x")
    write_table(pa.table({"question_id": ["q0", "q1"], "correct": [True, False]}),
                run.predictions)
    state = RunState.load(run)  # run.json as uqa run's pipeline writes it
    state.data.update({"name": "run-x", "settings": {"llm": "smollm2", "baselines": ["none"]}})
    state.done("pretrain", config={"encoder": "hstu"}, seconds=3.5)
    state.done("embed", config={"splits": ["train", "test"]}, seconds=1.0)
    state.done("eval", config={"baseline": None}, seconds=2.0,
               summary={"questions_per_s": 6.25})
    state.done(baseline_stage("eval", "none"), config={"baseline": "none"}, seconds=1.0,
               summary={"questions_per_s": 9.5})
    write_table(pa.table({"question_id": ["q0", "q1"], "correct": [False, False]}),
                run.baseline("none").predictions)
    comparison = compare_runs(find_runs([study]))
    base, run = comparison["runs"]
    assert run["label"] == "HSTU" and run["name"] == "run-x"
    assert run["report"]["tasks"]["df"]["acc"] == 1.0
    meta = run["report"]["meta"]
    assert meta["wall_time_s"] == 6.5 and meta["questions_per_s"] == 6.25
    assert base["report"]["meta"]["questions_per_s"] == 9.5  # from the parent's eval-none
    assert base["report"]["meta"]["wall_time_s"] == 1.0 and base["group"] == "Control"
    assert meta["llm"] == "smollm2" and "baseline" not in meta
    assert "| HSTU | run-x | 2 | smollm2 | 6.5 | 6.25 |" in comparison_markdown(comparison)


def test_find_runs_errors(tmp_path: Path) -> None:
    with pytest.raises(UqaInputError, match="missing: no such file or directory"):
        find_runs([tmp_path / "missing"])
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(UqaInputError, match=r"file\.txt: not a directory"):
        find_runs([tmp_path / "file.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UqaInputError, match="no run found"):
        find_runs([tmp_path / "empty"])
    with pytest.raises(UqaInputError, match="no runs"):
        compare_runs([])


def test_write_comparison_roundtrip(study: Path, tmp_path: Path) -> None:
    comparison = compare_runs(find_runs([study]))
    written = write_comparison(comparison, tmp_path / "out")
    assert Path(written["png"]).read_bytes()[:4] == b"\x89PNG"
    assert load_comparison(written["json"])["runs"][0]["label"] == "Text20"


def test_uqa_report_command(study: Path, tmp_path: Path) -> None:
    from uqa_cli.main import app

    runner = CliRunner()
    result = runner.invoke(app, ["report", str(study)])
    assert result.exit_code == 0, result.output
    assert "Trm++" in result.output and "75.00" in result.output
    out = study / "report"
    assert (out / "report.md").is_file() and (out / "accuracy.png").is_file()
    assert json.loads((out / "report.json").read_text())["schema"] == "uqa-comparison/1"
    again = runner.invoke(app, ["report", str(study)])  # its report/ does not make it a run
    assert again.exit_code == 0 and again.output == result.output

    result = runner.invoke(app, ["report", str(study / "r-gru"), "--out", str(tmp_path / "one")])
    assert result.exit_code == 0, result.output
    assert "GRU4Rec" not in result.output and "25.00" in result.output
    assert json.loads((tmp_path / "one" / "report.json").read_text())["meta"]["run"] == "r-gru"

    result = runner.invoke(app, ["report", str(study / "r-gru"), str(study / "r-trm"),
                                 "--metric", "acc_norm"])
    assert result.exit_code == 0, result.output
    assert "acc_norm" in result.output
    assert len(load_comparison(out / "report.json")["runs"]) == 2  # common parent's report/


def test_uqa_report_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from uqa_cli.main import main

    with pytest.raises(SystemExit) as info:
        main(["report", str(tmp_path / "nothing")])
    assert info.value.code == 2
    assert "nothing: no such file or directory" in " ".join(capsys.readouterr().err.split())


def test_uqa_report_single_run_with_its_baselines(tmp_path: Path) -> None:
    from uqa_cli.main import app

    run = make_run(tmp_path, "main", {"encoder": "sasrec", "adapter": "mean_linear"}, 3, 60)
    make_run(run / "baselines", "none", {"baseline": "none"}, 1, 50)
    make_run(run / "baselines", "shuffled", {"baseline": "shuffled"}, 1, 60)
    result = CliRunner().invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    saved = load_comparison(run / "report" / "compare" / "report.json")
    assert [r["label"] for r in saved["runs"]] == ["None (no user)", "Shuffled emb.", "SASRec"]
    assert (run / "report" / "report.md").is_file()
    assert "Shuffled emb." in result.output


def test_uqa_report_several_runs_bring_their_baselines(tmp_path: Path) -> None:
    """``uqa report A B`` compares A and B with the controls each holds, not bare."""
    from uqa_cli.main import app

    runs = []
    for name, encoder in (("a", "sasrec"), ("b", "gru4rec")):
        run = make_run(tmp_path, name, {"encoder": encoder, "adapter": "mean_linear"}, 3, 60)
        make_run(run / "baselines", "none", {"baseline": "none"}, 1, 50)
        make_run(run / "baselines", "shuffled", {"baseline": "shuffled"}, 1, 60)
        (run / "baselines" / "unfinished").mkdir()  # no report: not a run, left out
        runs.append(run)
    result = CliRunner().invoke(app, ["report", *map(str, runs), "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    saved = load_comparison(tmp_path / "cmp" / "report.json")
    dirs = sorted(Path(r["run_dir"]).relative_to(tmp_path).as_posix() for r in saved["runs"])
    assert dirs == ["a", "a/baselines/none", "a/baselines/shuffled",
                    "b", "b/baselines/none", "b/baselines/shuffled"]
    assert [r["group"] for r in saved["runs"]].count("Control") == 4
