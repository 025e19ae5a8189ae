"""`uqa questions`: writes the sets, prints counts per task, clean errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from uqa_cli.main import main
from uqa_data.io import read_table


def test_uqa_questions_writes_sets_and_prints_counts(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(data_dir, tmp_path / "data")
    main(
        [
            "questions",
            "--out",
            str(tmp_path),
            "--preset",
            "tiny",
            "--per-task",
            "4",
            "--align-per-task",
            "5",
            "--tasks",
            "df,si",
            "--lang",
            "zh",
            "--format",
            "official",
            "--attributes",
            "brand",
        ]
    )
    err = capsys.readouterr().err
    assert "df" in err and "si" in err and "total" in err
    eval_rows = read_table(tmp_path / "questions" / "eval.arrow").to_pylist()
    assert [r["task"] for r in eval_rows] == ["df"] * 4 + ["si"] * 4
    assert {r["lang"] for r in eval_rows} == {"zh"}
    assert {r["attribute"] for r in eval_rows if r["task"] == "si"} == {"brand"}
    assert read_table(tmp_path / "questions" / "align.arrow").num_rows == 10
    assert (tmp_path / "questions" / "official" / "eval.jsonl").is_file()


def test_uqa_questions_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["questions", "--out", str(tmp_path), "--preset", "tiniest"])
    assert exc.value.code == 2
    assert "did you mean 'tiny'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["questions", "--out", str(tmp_path), "--preset", "tiny"])
    assert exc.value.code == 2
    assert "items.arrow" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["questions", "--out", str(tmp_path), "--format", "csv"])
    assert exc.value.code == 2


@pytest.mark.parametrize(("args", "expected"), [
    (["--format", "json"], "unknown format 'json' (--format); valid: arrow, lm-eval, official"),
    (["--attributes", "colour"], "unknown attribute 'colour' (--attributes); valid: brand, "
                                 "category, shop"),
    (["--per-task", "0"], "--per-task 0: expected an integer >= 1; it would write an empty "
                          "question file"),
    (["--align-per-task", "0"], "--align-per-task 0: expected an integer >= 1"),
    (["--tasks", "df,xx"], "unknown task 'xx' (--tasks); valid: ap, df"),
])
def test_bad_values_name_their_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    args: list[str], expected: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["questions", "--out", str(tmp_path / "q"), *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {expected}") and err.count("\n") == 1, err
    assert not (tmp_path / "q").exists()
