"""``uqa data synth | prepare | import`` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from uqa_cli.main import main


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_synth_then_prepare_prints_filter_table(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    code, text = _run(["data", "synth", "-o", str(run), "--preset", "tiny", "--seed", "2"], capsys)
    assert code == 0 and "300" in text and (run / "raw" / "truth.arrow").is_file()
    code, text = _run(["data", "prepare", "-o", str(run), "--preset", "tiny", "--split",
                       "temporal", "--min-item-count", "5", "--test-fraction", "0.2"], capsys)
    assert code == 0
    for word in ("duplicate_rows", "item_min_count", "user_too_short", "output"):
        assert word in text
    summary = json.loads((run / "data" / "prepare.json").read_text())
    assert summary["config"]["split"] == "temporal" and summary["config"]["min_item_count"] == 5
    assert f"{summary['filters']['duplicate_rows']['rows']:,}" in text


def test_cli_errors_exit_2_with_one_line(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, text = _run(["data", "prepare", "-o", str(tmp_path), "--preset", "tiny"], capsys)
    assert code == 2 and "interaction log not found" in text and "Traceback" not in text
    code, text = _run(["data", "import", str(tmp_path), "--format", "cvs", "-o",
                       str(tmp_path)], capsys)
    assert code == 2 and "did you mean 'csv'" in text
    code, text = _run(["data", "import", str(tmp_path), "--format", "recbole",
                       "--user-col", "u", "-o", str(tmp_path)], capsys)
    assert code == 2 and "--user-col does not apply to --format recbole" in text
    code, text = _run(["data", "synth", "-o", str(tmp_path), "--lang", "de"], capsys)
    assert code == 2 and "valid: en, zh" in text
    for flags, expected in ((["--lang", "de"], "valid: en, zh"),
                            (["--preset", "tny"], "did you mean 'tiny'"),
                            (["--seed", "-1"], "--seed -1: expected an integer >= 0")):
        out = tmp_path / "new"
        code, text = _run(["data", "synth", "-o", str(out), *flags], capsys)
        assert code == 2 and expected in text
        assert not out.exists()  # checked before the directory is made
    for fmt in ("uqabench", "csv", "recbole"):
        missing = tmp_path / "no" / "such.csv"
        code, text = _run(["data", "import", str(missing), "--format", fmt, "-o",
                           str(tmp_path / "imp")], capsys)
        assert code == 2 and f"{missing}: no such file or folder" in text, text
        assert not (tmp_path / "imp").exists()
    synth = tmp_path / "synth"
    assert _run(["data", "synth", "-o", str(synth), "--preset", "tiny"], capsys)[0] == 0
    code, text = _run(["data", "prepare", "-o", str(synth), "--test-fraction", "0"], capsys)
    assert code == 2 and "--test-fraction 0: expected a number in (0, 1)" in text, text
    assert not (synth / "data").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,item_id,timestamp\nabc,1,2\n")
    code, text = _run(["data", "import", str(bad), "--format", "csv", "-o",
                       str(tmp_path / "deep" / "a" / "b")], capsys)
    assert code == 2 and "column 'user_id' has type string" in text, text
    assert not (tmp_path / "deep").exists()  # every folder the failed import made is gone


def test_import_csv_via_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "log.csv").write_text(
        "u,i,t\n" + "".join(f"{u},{i},{k}\n" for u in range(3) for k, i in enumerate(range(5))))
    code, text = _run(["data", "import", str(tmp_path / "log.csv"), "--format", "csv",
                       "--user-col", "u", "--item-col", "i", "--time-col", "t",
                       "-o", str(tmp_path / "run")], capsys)
    assert code == 0 and "rows" in text
    assert (tmp_path / "run" / "raw" / "interactions.arrow").is_file()


def test_registry_lists_every_data_source() -> None:
    from uqa_data.registry import list_components

    table = list_components("dataset")
    assert {"synthetic", "uqabench", "csv", "parquet", "recbole"} <= set(table)
    for spec in table.values():
        if spec.provider == "uqa-data":
            assert callable(spec.load())
