"""lm-evaluation-harness: `uqa questions --format lm-eval` writes tasks the harness's own
loader reads, `lm_eval` runs them on the cached SmolLM2, and `uqa-eval score-predictions`
turns its --log_samples output into a report that `uqa report` compares with uqa's runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.ipc as ipc
import pytest
from uqa_cli.main import main

OFFLINE = {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    try:
        main(args)
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr().err[-2000:]
    captured = capsys.readouterr()
    return captured.out + captured.err


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("lm") / "run"
    for args in (["data", "synth", "-o", str(run), "--preset", "tiny"],
                 ["data", "prepare", "-o", str(run), "--preset", "tiny"],
                 ["questions", "--out", str(run), "--preset", "tiny", "--format", "lm-eval"]):
        try:
            main(args)
        except SystemExit as exc:
            assert not exc.code
    return run


def test_the_harness_task_loader_reads_the_export(exported: Path, monkeypatch) -> None:
    for k, v in OFFLINE.items():
        monkeypatch.setenv(k, v)
    from lm_eval.tasks import TaskManager

    folder = exported / "questions" / "lm_eval"
    manager = TaskManager(include_path=str(folder), include_defaults=False)
    assert {"uqabench_none", "uqabench_text20", "uqabench_text50"} <= set(manager.all_tasks)
    tasks = manager.load(["uqabench_none", "uqabench_text20", "uqabench_text50"])["tasks"]
    questions = ipc.open_file(str(exported / "questions" / "eval.arrow")).read_all().to_pylist()
    for name, task in tasks.items():
        assert task.config.output_type == "multiple_choice"
        assert [m["metric"] for m in task.config.metric_list] == ["acc", "acc_norm"]
        docs = list(task.eval_docs)
        assert [d["question_id"] for d in docs] == [q["question_id"] for q in questions]
        for doc, q in zip(docs, questions, strict=True):
            assert task.doc_to_choice(doc) == q["options"]
            assert task.doc_to_target(doc) == "ABCD".index(q["answer"])
            text = task.doc_to_text(doc)
            assert q["question"] in text and text.endswith("Answer:")
            clicks = re.findall(r"^(\d+)\. .*\(category: ", text, flags=re.M)
            if name == "uqabench_none":
                assert "User history" not in text and not clicks
            else:
                k = int(name.removeprefix("uqabench_text"))
                assert len(clicks) == min(k, q["history_len"]), (name, q["question_id"])


@pytest.mark.llm
@pytest.mark.slow
def test_lm_eval_runs_and_its_samples_land_in_a_uqa_report(exported: Path, tmp_path: Path,
                                                          capsys) -> None:
    from uqa_align.llm import smollm2_dir
    from uqa_eval.report import summarize, write_report

    folder = exported / "questions" / "lm_eval"
    results = tmp_path / "results"
    env = {**os.environ, **OFFLINE, "HF_DATASETS_CACHE": str(tmp_path / "hf-datasets")}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "lm_eval"), "--model", "hf", "--model_args",
         f"pretrained={smollm2_dir()},dtype=float32", "--device", "cpu",
         "--tasks", "uqabench_none", "--include_path", str(folder), "--limit", "2",
         "--log_samples", "--output_path", str(results)],
        capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    samples = sorted(results.rglob("samples_uqabench_none_*.jsonl"))
    assert len(samples) == 1
    lines = [json.loads(x) for x in samples[0].read_text().splitlines() if x.strip()]
    assert len(lines) == 2

    scored = tmp_path / "lm-none"
    from uqa_eval.cli import main as uqa_eval

    try:
        uqa_eval(["score-predictions", str(results), "--out", str(scored / "report"), "--json"])
    except SystemExit as exc:
        assert not exc.code
    report = json.loads((scored / "report" / "report.json").read_text())
    assert report["overall"]["n"] == 2
    assert report["overall"]["acc"] == pytest.approx(sum(x["acc"] for x in lines) / 2)
    assert report["overall"]["acc_norm"] == pytest.approx(sum(x["acc_norm"] for x in lines) / 2)
    assert report["meta"]["baseline"] == "none" and report["meta"]["llm"] == str(smollm2_dir())
    capsys.readouterr()

    ours = tmp_path / "uqa-run"  # a uqa run's report beside it in one table
    write_report(summarize(["df", "df"], [True, False], meta={"run": "uqa-run",
                                                              "encoder": "sasrec"}),
                 ours / "report")
    cli(["report", str(ours), str(scored), "--out", str(tmp_path / "cmp")], capsys)
    comparison = json.loads((tmp_path / "cmp" / "report.json").read_text())
    names = {r["name"]: r["group"] for r in comparison["runs"]}
    assert names["uqa-run"] == "Emb-based"
    assert names["lm-eval uqabench_none (" + smollm2_dir().name + ")"] == "Control"
