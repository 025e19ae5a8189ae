"""A finished encoder directory: no resumable state left, and an edited config is named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from uqa_data.errors import UqaInputError


def test_finished_pretraining_drops_its_checkpoint(trained) -> None:
    encoder_dir, _ = trained
    assert (encoder_dir / "model.safetensors").is_file()
    assert not (encoder_dir / "checkpoint").exists()  # optimizer state of a finished run
    assert not (encoder_dir / ".checkpoint.old").exists()


@pytest.mark.parametrize(("edit", "expected"), [
    ({"dimm": 64}, "unknown sasrec encoder_config key 'dimm'"),
    ({"dim": "wide"}, "encoder_config setting dim='wide': expected an integer"),
])
def test_edited_encoder_config_is_named(trained, data_dir: Path, tmp_path: Path, edit,
                                        expected: str) -> None:
    from uqa_encoders.embed import export_embeddings

    encoder_dir, _ = trained
    copy = tmp_path / "encoder"
    shutil.copytree(encoder_dir, copy)
    cfg = json.loads((copy / "config.json").read_text())
    cfg["encoder_config"].update(edit)
    (copy / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UqaInputError, match=r"config\.json") as info:
        export_embeddings(copy, data_dir, "test", tmp_path / "e.arrow")
    assert expected in str(info.value)
    assert not (tmp_path / "e.arrow").exists()
