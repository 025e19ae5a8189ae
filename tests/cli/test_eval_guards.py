"""``uqa eval`` never replaces finished predictions silently, never ignores an explicit
``--llm``, and never blames a ``--llm`` that was not given."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.ipc as ipc
import pytest
from cli_helpers import run_uqa, uqa_inprocess


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, tiny_llm_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("eval") / "r"
    proc = run_uqa("run", "--preset", "tiny", "--out", str(out), "--llm", str(tiny_llm_dir),
                   "--baselines", "none")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def other_llm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another tiny Llama (other seed, width 32)."""
    from uqa_align.testing import save_tiny_llm

    return save_tiny_llm(tmp_path_factory.mktemp("other") / "llm", seed=1)


def _scores(path: Path) -> list:
    return ipc.open_file(str(path)).read_all().column("option_scores").to_pylist()


def test_max_questions_zero_is_refused_up_front(run_dir: Path, capsys) -> None:
    predictions = run_dir / "predictions" / "eval.arrow"
    before = predictions.read_bytes()
    code, err = uqa_inprocess(capsys, "eval", "--out", str(run_dir), "--preset", "tiny",
                              "--max-questions", "0")
    assert code == 2, err
    assert "eval setting max_questions=0 (--max-questions): expected an integer >= 1" in err
    assert predictions.read_bytes() == before
    code, err = uqa_inprocess(capsys, "report", str(run_dir), "--rebuild")
    assert code == 0, err


def test_fewer_predictions_replacing_more_say_so(run_dir: Path, tmp_path: Path,
                                                 capsys) -> None:
    target = tmp_path / "eval.arrow"
    shutil.copy(run_dir / "predictions" / "eval.arrow", target)
    n = ipc.open_file(str(target)).read_all().num_rows
    code, err = uqa_inprocess(capsys, "eval", "--out", str(run_dir), "--preset", "tiny",
                              "--max-questions", "5", "--predictions", str(target))
    assert code == 0, err
    assert f"warning: {target}: replacing {n} predictions with 5" in err


def test_explicit_llm_wins_for_baseline_none(run_dir: Path, other_llm: Path, tmp_path: Path,
                                              capsys) -> None:
    given = tmp_path / "given.arrow"
    code, err = uqa_inprocess(capsys, "eval", "--out", str(run_dir), "--preset", "tiny",
                              "--baseline", "none", "--llm", str(other_llm),
                              "--predictions", str(given))
    assert code == 0, err
    assert f"answering with --llm {other_llm} (given)" in err
    default = tmp_path / "default.arrow"
    code, err = uqa_inprocess(capsys, "eval", "--out", str(run_dir), "--preset", "tiny",
                              "--baseline", "none", "--predictions", str(default))
    assert code == 0, err
    # without --llm: the run's own LLM (the scores of the run's none baseline, which read
    # the prefixes the run's evaluation cached: equal up to float rounding)
    own = _scores(run_dir / "baselines" / "none" / "predictions" / "eval.arrow")
    np.testing.assert_allclose(_scores(default), own, atol=1e-4)
    assert not np.allclose(_scores(given), own, atol=1e-2)


def test_llm_other_than_the_adapters_is_refused(run_dir: Path, other_llm: Path,
                                                tmp_path: Path, capsys) -> None:
    code, err = uqa_inprocess(capsys, "eval", "--out", str(run_dir), "--preset", "tiny",
                              "--llm", str(other_llm), "--predictions",
                              str(tmp_path / "p.arrow"))
    assert code == 2, err
    assert f"--llm {other_llm}: the adapter in" in err and "was aligned on" in err
    assert not (tmp_path / "p.arrow").exists()


def _edited_adapter(run_dir: Path, tmp_path: Path, edit) -> Path:
    adapter = tmp_path / "adapter"
    shutil.copytree(run_dir / "adapter", adapter)
    meta = json.loads((adapter / "config.json").read_text())
    edit(meta)
    (adapter / "config.json").write_text(json.dumps(meta))
    return adapter


@pytest.mark.parametrize("where", ["missing", "other"])
def test_adapter_pointing_at_another_llm_names_its_config(
    run_dir: Path, other_llm: Path, tmp_path: Path, capsys, where: str
) -> None:
    target = str(tmp_path / "gone") if where == "missing" else str(other_llm)
    adapter = _edited_adapter(run_dir, tmp_path, lambda m: m["align"].update(llm=target))
    code, err = uqa_inprocess(capsys, "eval", "--out", str(run_dir), "--preset", "tiny",
                              "--adapter-dir", str(adapter), "--predictions",
                              str(tmp_path / "p.arrow"))
    assert code == 2, err
    line = next(ln for ln in err.splitlines() if ln.startswith("error:"))
    assert "--llm" not in line, line  # nobody passed --llm
    if where == "missing":
        assert f"(align.llm in {adapter / 'config.json'})" in line
    else:
        assert f"LLM {other_llm} (align.llm in {adapter / 'config.json'})" in err
        assert "aligned for an LLM of width 128, but the LLM" in line


def test_edited_adapter_in_dim_is_named(run_dir: Path, tmp_path: Path, capsys) -> None:
    adapter = _edited_adapter(run_dir, tmp_path,
                              lambda m: m["adapter"].update(in_dim=m["adapter"]["in_dim"] + 1))
    code, err = uqa_inprocess(capsys, "eval", "--out", str(run_dir), "--preset", "tiny",
                              "--adapter-dir", str(adapter), "--predictions",
                              str(tmp_path / "p.arrow"))
    assert code == 2, err
    assert "Traceback" not in err
    assert str(adapter / "adapter.safetensors") in err and "was config.json edited?" in err


@pytest.mark.parametrize("two_runs", [False, True])
def test_report_out_through_a_file_is_refused_first(run_dir: Path, tmp_path: Path, capsys,
                                                    two_runs: bool) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me", encoding="utf-8")
    target = notes / "sub" if two_runs else notes
    runs = [str(run_dir), str(run_dir / "baselines" / "none")] if two_runs else [str(run_dir)]
    code, err = uqa_inprocess(capsys, "report", *runs, "--out", str(target))
    assert code == 2, err
    assert err.startswith(f"error: --out {target}: ") and err.count("\n") == 1, err
    assert notes.read_text(encoding="utf-8") == "keep me"


def test_a_report_older_than_its_predictions_is_built_again(run_dir: Path, tmp_path: Path,
                                                            capsys) -> None:
    """`uqa eval` again without `uqa report`: comparisons must not mix the old report's rows
    with the new predictions' paired differences."""
    import os

    import pyarrow as pa
    from uqa_data.io import write_table
    from uqa_eval.report import load_run

    copy = tmp_path / "r"
    shutil.copytree(run_dir, copy)
    old = load_run(copy)
    assert old["overall"]["n"] > 5
    table = ipc.open_file(str(copy / "predictions" / "eval.arrow")).read_all()
    write_table(pa.Table.from_batches(table.slice(0, 5).to_batches()),
                copy / "predictions" / "eval.arrow")
    stamp = (copy / "report" / "report.json").stat().st_mtime
    os.utime(copy / "predictions" / "eval.arrow", (stamp + 5, stamp + 5))
    assert load_run(copy)["overall"]["n"] == 5
    assert load_run(copy)["meta"].get("llm") == old["meta"].get("llm")
    code, err = uqa_inprocess(capsys, "report", str(copy), str(copy / "baselines" / "none"),
                              "--out", str(tmp_path / "cmp"))
    assert code == 0, err
    rows = json.loads((tmp_path / "cmp" / "report.json").read_text())
    assert '"n": 5' in json.dumps(rows)


def test_two_runs_of_one_name_are_told_apart(run_dir: Path, tmp_path: Path) -> None:
    """The same default name in two folders (e.g. two launchers): every row and every paired
    difference says which folder it is."""
    from uqa_eval.report import compare_runs

    runs = []
    for where in ("a", "b"):
        shutil.copytree(run_dir, tmp_path / where / run_dir.name)
        runs += [tmp_path / where / run_dir.name, tmp_path / where / run_dir.name / "baselines"
                 / "none"]
    comparison = compare_runs(runs)
    labels = [r["label"] for r in comparison["runs"]]
    assert len(set(labels)) == len(labels) == 4, labels
    assert any(f"[a/{run_dir.name}]" in x for x in labels), labels
    dirs = {(d["subject_dir"], d["reference_dir"]) for d in comparison["differences"]}
    assert (str(runs[0]), str(runs[1])) in dirs and (str(runs[2]), str(runs[3])) in dirs
    assert (str(runs[1]), str(runs[0])) not in dirs  # `none` is a control, never a subject


def test_a_metric_no_run_has_is_a_warning(tmp_path: Path, capsys) -> None:
    from uqa_eval.report import summarize, write_report

    write_report(summarize(["df", "ip"], [True, False], meta={"run": "a"}), tmp_path / "a" /
                 "report")
    code, err = uqa_inprocess(capsys, "report", str(tmp_path / "a"), "--metric", "acc_pmi")
    assert code == 0, err
    assert "warning: no run here has acc_pmi (it needs the `none` baseline's answers" in err


def test_report_of_a_missing_path_says_so(tmp_path: Path, capsys) -> None:
    code, err = uqa_inprocess(capsys, "report", str(tmp_path / "nope"))
    assert code == 2
    assert err == f"error: {tmp_path / 'nope'}: no such file or directory; expected a run or " \
                  "study directory\n"
