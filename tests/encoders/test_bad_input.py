"""Bad data and checkpoints give errors naming the file, row and what was expected."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from uqa_data.errors import UqaInputError
from uqa_data.io import write_table
from uqa_encoders.embed import export_embeddings
from uqa_encoders.pretrain import PretrainConfig, pretrain


def _copy(data_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "data"
    shutil.copytree(data_dir, out)
    return out


def _write_split(path: Path, seqs: list[list[int]]) -> None:
    write_table(
        pa.table({
            "user_id": pa.array(range(1, len(seqs) + 1), pa.int64()),
            "item_ids": pa.array(seqs, pa.list_(pa.int64())),
            "timestamps": pa.array([list(range(len(s))) for s in seqs], pa.list_(pa.int64())),
        }),
        path,
    )


def test_item_id_beyond_vocabulary(data_dir: Path, tmp_path: Path) -> None:
    d = _copy(data_dir, tmp_path)
    _write_split(d / "train.arrow", [[1, 2, 3], [4, 5, 9999]])
    with pytest.raises(UqaInputError, match=r"train\.arrow: column 'item_ids' row 1 holds item "
                                            r"id 9999, beyond the item vocabulary 1\.\.200"):
        pretrain(d, tmp_path / "enc", PretrainConfig.from_preset("tiny"))


def test_empty_sequence(data_dir: Path, tmp_path: Path) -> None:
    d = _copy(data_dir, tmp_path)
    _write_split(d / "train.arrow", [[1, 2, 3], []])
    with pytest.raises(UqaInputError, match=r"row 1 \(user_id 2\) is an empty sequence"):
        pretrain(d, tmp_path / "enc", PretrainConfig.from_preset("tiny"))


def test_missing_column_and_file(data_dir: Path, tmp_path: Path) -> None:
    d = _copy(data_dir, tmp_path)
    write_table(pa.table({"user_id": pa.array([1], pa.int64())}), d / "train.arrow")
    with pytest.raises(UqaInputError, match=r"missing column 'item_ids'"):
        pretrain(d, tmp_path / "enc", PretrainConfig.from_preset("tiny"))
    (d / "items.arrow").unlink()
    with pytest.raises(UqaInputError, match=r"item table not found: .*items\.arrow"):
        pretrain(d, tmp_path / "enc", PretrainConfig.from_preset("tiny"))


def test_weights_from_another_encoder_or_shape(
    trained: tuple[Path, dict], data_dir: Path, tmp_path: Path
) -> None:
    enc, _ = trained
    other = tmp_path / "other"
    shutil.copytree(enc, other)
    config = json.loads((other / "config.json").read_text())
    config["encoder"] = "trm_plus"
    config["encoder_config"] = {k: v for k, v in config["encoder_config"].items()
                                if k != "ffn_dim"}
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(UqaInputError, match=r"weights do not match encoder 'trm_plus'"):
        export_embeddings(other, data_dir, "test", tmp_path / "e.arrow")
    config = json.loads((enc / "config.json").read_text())
    config["encoder_config"]["ffn_dim"] = 48
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(UqaInputError, match=r"tensor '.*ffn.*' has shape .* expects"):
        export_embeddings(other, data_dir, "test", tmp_path / "e.arrow")


def test_data_with_other_catalogue(trained: tuple[Path, dict], tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from fakedata import write_data

    other = write_data(tmp_path / "d2", items=150)
    with pytest.raises(UqaInputError, match=r"has 150 items but the encoder was built for 200"):
        export_embeddings(trained[0], other, "test", tmp_path / "e.arrow")
