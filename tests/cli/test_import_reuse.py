"""A directory an import wrote is the dataset, never a run's scratch: a run on synthetic
data does not overwrite it, a run does not write into it, and a re-import replaces the
earlier one whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import uqa_inprocess
from uqa_data.io import write_json
from uqa_data.layout import RunLayout


def _import(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("user_id,item_id,timestamp\n" + "".join(
        f"{u},{100 + k % 7},{10 * k}\n" for u in range(4) for k in range(12)))
    code, err = uqa_inprocess(capsys, "data", "import", "--format", "csv", str(log),
                              "--out", str(out))
    assert code == 0, err


@pytest.mark.parametrize("argv", [["run", "--preset", "tiny"], ["data", "synth"]],
                         ids=["run", "synth"])
def test_synthetic_data_never_replaces_an_import(tmp_path: Path, capsys, argv: list[str]
                                                 ) -> None:
    out = tmp_path / "real"
    _import(capsys, tmp_path, out)
    before = {p.name: p.read_bytes() for p in RunLayout(out).raw.iterdir()}
    code, err = uqa_inprocess(capsys, *argv, "--out", str(out))
    assert code == 2, err
    assert (f"--out {out}: {out / 'raw'} holds an imported click log" in err
            and f"--dataset {out}" in err), err
    assert {p.name: p.read_bytes() for p in RunLayout(out).raw.iterdir()} == before
    assert not RunLayout(out).run_json.exists()


def test_a_run_does_not_write_into_its_dataset(tmp_path: Path, capsys) -> None:
    out = tmp_path / "real"
    _import(capsys, tmp_path, out)
    code, err = uqa_inprocess(capsys, "run", "--preset", "tiny", "--dataset", str(out),
                              "--out", str(out))
    assert code == 2 and f"--dataset {out} is --out too" in err, err
    assert not RunLayout(out).run_json.exists() and not RunLayout(out).data.exists()


def test_a_reimport_replaces_the_earlier_import_whole(tmp_path: Path, capsys) -> None:
    """An official import's split and questions, a synthetic log's truth: gone once a CSV
    import replaces the log they described; a run directory's own questions stay."""
    out = tmp_path / "d"
    raw = RunLayout(out).raw
    raw.mkdir(parents=True)
    for name in ("split.arrow", "truth.arrow"):
        (raw / name).write_bytes(b"old")
    write_json({"source": "synthetic"}, raw / "synth.json")
    questions = RunLayout(out).questions("eval")
    questions.parent.mkdir(parents=True)
    questions.write_bytes(b"old")
    _import(capsys, tmp_path, out)
    assert sorted(p.name for p in raw.iterdir()) == ["interactions.arrow", "items.arrow"]
    assert not questions.exists()
    # in a run directory the questions are the run's stages': kept
    run = tmp_path / "run"
    RunLayout(run).questions("eval").parent.mkdir(parents=True)
    RunLayout(run).questions("eval").write_bytes(b"mine")
    write_json({"stages": {}}, RunLayout(run).run_json)
    _import(capsys, tmp_path, run)
    assert RunLayout(run).questions("eval").read_bytes() == b"mine"
