"""``uqa pretrain``, ``uqa embed`` and ``uqa list encoders --sizes`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.ipc as ipc
import pytest
from uqa_cli.main import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_unknown_encoder_is_a_clean_error(capsys: pytest.CaptureFixture[str], tmp_path: Path
                                          ) -> None:
    code, _, err = _run(["pretrain", "--out", str(tmp_path), "--encoder", "sasrek"], capsys)
    assert code == 2
    assert "unknown encoder 'sasrek' (--encoder); did you mean 'sasrec'?" in err
    assert "Traceback" not in err


def test_missing_data_names_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(["pretrain", "--out", str(tmp_path), "--preset", "tiny"], capsys)
    assert code == 2
    assert "items.arrow" in err


def test_embed_command(trained: tuple[Path, dict], data_dir: Path, tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "emb.arrow"
    code, _, err = _run(["embed", "--out", str(tmp_path), "--data", str(data_dir),
                         "--encoder-dir", str(trained[0]), "--split", "train",
                         "--output", str(out)], capsys)
    assert code == 0, err
    table = ipc.open_file(str(out)).read_all()
    assert table.num_rows == 240
    assert set(table.column_names) == {"user_id", "embedding", "embeddings", "first_position"}


def test_list_sizes_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["list", "encoders", "--sizes", "--json"], capsys)
    assert code == 0, err
    rows = json.loads(out)
    names = {(r["encoder"], r["size"]) for r in rows}
    assert ("trm_plus", "1.2b") in names and ("gru4rec", "paper") in names
    big = next(r for r in rows if (r["encoder"], r["size"]) == ("trm_plus", "1.2b"))
    assert big["shape"] == "(l=24, d=2048, h=16)"
    assert abs(big["backbone_params"] - 1.2e9) / 1.2e9 < 0.05


def test_embed_untrained_writes_beside_the_trained_file(
        trained: tuple[Path, dict], data_dir: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    common = ["embed", "--out", str(tmp_path), "--data", str(data_dir),
              "--encoder-dir", str(trained[0]), "--split", "test"]
    assert _run(common, capsys)[0] == 0
    trained_file = tmp_path / "embeddings" / "test.arrow"
    before = trained_file.read_bytes()
    code, _, err = _run([*common, "--untrained"], capsys)
    assert code == 0, err
    untrained_file = tmp_path / "embeddings" / "untrained" / "test.arrow"
    assert trained_file.read_bytes() == before
    meta = ipc.open_file(str(untrained_file)).schema.metadata
    assert meta[b"untrained"] == b"true"
    assert ipc.open_file(str(trained_file)).schema.metadata[b"untrained"] == b"false"
