"""Embedding export: the design's schema, causal per-position states, the untrained baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from uqa_data.errors import UnknownNameError
from uqa_encoders.embed import export_embeddings


def _read(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as src:
        return ipc.open_file(src).read_all()


def test_export_schema_and_values(
    trained: tuple[Path, dict], data_dir: Path, tmp_path: Path
) -> None:
    enc, _ = trained
    out = tmp_path / "embeddings" / "test.arrow"
    summary = export_embeddings(enc, data_dir, "test", out)
    table = _read(out)
    d = summary["dim"]
    assert table.schema.field("embedding").type == pa.list_(pa.float32(), d)
    assert table.schema.field("embeddings").type == pa.list_(pa.list_(pa.float32(), d))
    assert table.schema.field("first_position").type == pa.int64()
    split = _read(data_dir / "test.arrow")
    assert table.column("user_id").to_pylist() == split.column("user_id").to_pylist()
    max_len = 32
    for row in range(table.num_rows):
        n = len(split.column("item_ids")[row])
        states = np.array(table.column("embeddings")[row].as_py(), dtype=np.float32)
        assert len(states) == min(n, max_len)
        assert table.column("first_position")[row].as_py() == n - min(n, max_len)
        mean = np.array(table.column("embedding")[row].as_py(), dtype=np.float32)
        np.testing.assert_allclose(mean, states.mean(0), atol=1e-5)
        assert np.isfinite(states).all()


def test_untrained_differs_but_has_same_shape(
    trained: tuple[Path, dict], data_dir: Path, tmp_path: Path
) -> None:
    enc, _ = trained
    a = export_embeddings(enc, data_dir, "test", tmp_path / "a.arrow")
    b = export_embeddings(enc, data_dir, "test", tmp_path / "b.arrow", untrained=True)
    assert a["dim"] == b["dim"]
    ea = np.array(_read(tmp_path / "a.arrow").column("embedding").to_pylist())
    eb = np.array(_read(tmp_path / "b.arrow").column("embedding").to_pylist())
    assert ea.shape == eb.shape
    assert not np.allclose(ea, eb, atol=1e-3)
    assert _read(tmp_path / "b.arrow").schema.metadata[b"untrained"] == b"true"


def test_unknown_split(trained: tuple[Path, dict], data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="--split"):
        export_embeddings(trained[0], data_dir, "valid", tmp_path / "x.arrow")
