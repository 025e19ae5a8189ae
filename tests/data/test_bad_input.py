"""Bad input: each error names the file, the column and the first bad row; nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from uqa_data.errors import UqaInputError
from uqa_data.importers.recbole import import_recbole
from uqa_data.importers.tabular import import_csv
from uqa_data.io import write_table
from uqa_data.prepare import PrepareConfig, prepare

CFG = PrepareConfig.from_preset("tiny", min_user_len=1, min_item_count=1)


def _raw_copy(tiny_run: Path, tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(tiny_run / "raw", raw)
    return raw


def _log(raw: Path, **cols: pa.Array) -> None:
    write_table(pa.table(cols), raw / "interactions.arrow")


def _expect(raw: Path, tmp_path: Path, pattern: str) -> None:
    with pytest.raises(UqaInputError, match=pattern):
        prepare(raw, tmp_path / "data", CFG)
    assert not (tmp_path / "data").exists()


I64 = pa.int64()


@pytest.mark.parametrize(
    ("cols", "pattern"),
    [
        ({"user_id": [1, 2], "item_id": [1, 2]},
         r"interactions.arrow: missing column 'timestamp'"),
        ({"user": [1, 2], "item_id": [1, 2], "timestamp": [1, 2]},
         r"missing column 'user_id'.*columns present: user, item_id, timestamp"),
        ({"user_id": [1, 2], "item_id": ["a", "b"], "timestamp": [1, 2]},
         r"column 'item_id' has type string; expected integer item ids"),
        ({"user_id": [1, None, 3], "item_id": [1, 2, 3], "timestamp": [1, 2, 3]},
         r"column 'user_id' row 1 is null"),
        ({"user_id": [1, 2, 3], "item_id": [1, 2, -3], "timestamp": [1, 2, 3]},
         r"column 'item_id' row 2 is -3; expected an id >= 0"),
        ({"user_id": pa.array([], I64), "item_id": pa.array([], I64),
          "timestamp": pa.array([], I64)}, r"has no rows"),
    ],
)
def test_bad_interaction_log(tiny_run: Path, tmp_path: Path, cols: dict, pattern: str) -> None:
    raw = _raw_copy(tiny_run, tmp_path)
    _log(raw, **{k: v if isinstance(v, pa.Array) else pa.array(v) for k, v in cols.items()})
    _expect(raw, tmp_path, pattern)


def test_null_in_a_later_record_batch_names_the_global_row(tiny_run: Path, tmp_path: Path) -> None:
    raw = _raw_copy(tiny_run, tmp_path)
    good = pa.record_batch({"user_id": pa.array([1, 1], I64), "item_id": pa.array([5, 6], I64),
                            "timestamp": pa.array([1, 2], I64)})
    bad = pa.record_batch({"user_id": pa.array([1, 1], I64), "item_id": pa.array([5, 6], I64),
                           "timestamp": pa.array([3, None], I64)})
    write_table(pa.Table.from_batches([good, bad]), raw / "interactions.arrow")
    _expect(raw, tmp_path, r"column 'timestamp' row 3 is null")


def test_truncated_arrow_file(tiny_run: Path, tmp_path: Path) -> None:
    raw = _raw_copy(tiny_run, tmp_path)
    data = (raw / "interactions.arrow").read_bytes()
    (raw / "interactions.arrow").write_bytes(data[: len(data) // 2])
    _expect(raw, tmp_path, r"interactions.arrow: not a readable Arrow IPC file \(truncated")


def test_an_arrow_stream_is_named_as_one(tiny_run: Path, tmp_path: Path) -> None:
    """pyarrow writes two IPC formats; the log must be the file one, and the message says
    which writer makes it. Tables read through ``read_table`` take the stream as well."""
    import pyarrow.ipc as ipc
    from uqa_data.io import read_table

    raw = _raw_copy(tiny_run, tmp_path)
    table = read_table(raw / "interactions.arrow")
    stream = tmp_path / "stream.arrow"
    with ipc.new_stream(str(stream), table.schema) as writer:
        writer.write_table(table)
    stream.replace(raw / "interactions.arrow")  # the table still maps the old file
    _expect(raw, tmp_path, r"interactions.arrow: not a readable Arrow IPC file \(an Arrow IPC "
            r"stream; write the file format: pyarrow.ipc.new_file or pyarrow.feather")
    assert read_table(raw / "interactions.arrow").equals(table)


def test_missing_file(tmp_path: Path) -> None:
    _expect(tmp_path / "raw", tmp_path, r"interaction log not found: .*raw/interactions.arrow")


def test_item_table_duplicate_and_null_name(tiny_run: Path, tmp_path: Path) -> None:
    raw = _raw_copy(tiny_run, tmp_path)
    items = pa.ipc.open_file(str(raw / "items.arrow")).read_all()
    dup = pa.concat_tables([items, items.slice(3, 1)])
    write_table(dup, raw / "items.arrow")
    _expect(raw, tmp_path, rf"items.arrow: column 'item_id' row {items.num_rows} repeats")
    names = items.column("brand_name").to_pylist()
    names[7] = None
    write_table(items.set_column(items.schema.get_field_index("brand_name"), "brand_name",
                                 pa.array(names)), raw / "items.arrow")
    _expect(raw, tmp_path, r"column 'brand_name' row 7 is null; expected a string")


def test_given_split_without_split_file(tiny_run: Path, tmp_path: Path) -> None:
    with pytest.raises(UqaInputError, match=r"split file not found: .*split.arrow"):
        prepare(tiny_run / "raw", tmp_path / "data",
                PrepareConfig.from_preset("tiny", split="given"))
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("user_id,item_id,timestamp\n1,2,3\n4,5,6,7\n",
         r"log.csv: line 3 has 4 fields; expected 3"),
        ("", r"log.csv: empty file"),
        ("user_id,item_id,timestamp\n", r"has a header but no rows"),
        ("user_id,item,timestamp\n1,2,3\n", r"missing column 'item_id' \(set --item-col"),
        ("user_id,item_id,timestamp\n1,2,3\n4,x,6\n",
         r"column 'item_id' has type string \(line 3: 'x'\); expected integers"),
        ("user_id,item_id,timestamp\n1,2,3\n4,,6\n", r"column 'item_id' line 3 is empty"),
        ("user_id,item_id,timestamp\n1,2,3\n-4,2,6\n", r"column 'user_id' line 3 is -4"),
        ("user_id,item_id,timestamp\n1,2,3\n4,5,soon\n",
         r"column 'timestamp' has type string \(line 3: 'soon'\); expected integers "
         r"\(seconds\), timestamps or dates"),
    ],
)
def test_bad_csv(tmp_path: Path, text: str, pattern: str) -> None:
    (tmp_path / "log.csv").write_text(text)
    with pytest.raises(UqaInputError, match=pattern):
        import_csv(tmp_path / "log.csv", tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_bad_parquet_and_missing_item_table(tmp_path: Path, capsys) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from uqa_data.importers.tabular import import_parquet

    pq.write_table(pa.table({"user_id": pa.array([], pa.int64()),
                             "item_id": pa.array([], pa.int64()),
                             "timestamp": pa.array([], pa.int64())}), tmp_path / "e.parquet")
    with pytest.raises(UqaInputError, match=r"e.parquet: has no rows; expected clicks"):
        import_parquet(tmp_path / "e.parquet", tmp_path / "run")
    (tmp_path / "p.csv").write_bytes((tmp_path / "e.parquet").read_bytes())
    with pytest.raises(UqaInputError, match=r"p.csv: not a text file \(a Parquet file\); "
                                            r"expected CSV text .*--format parquet"):
        import_csv(tmp_path / "p.csv", tmp_path / "run")
    (tmp_path / "b.csv").write_bytes(b"user_id,item_id\n\x00\x01,\x02\n")
    with pytest.raises(UqaInputError, match=r"b.csv: not a text file \(binary content\)"):
        import_csv(tmp_path / "b.csv", tmp_path / "run")
    from uqa_cli.main import main

    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp\n1,2,3\n")
    with pytest.raises(SystemExit) as exit_:
        main(["data", "import", str(tmp_path / "log.csv"), "--format", "csv", "--items",
              str(tmp_path / "nope.csv"), "--out", str(tmp_path / "run")])
    assert exit_.value.code == 2
    assert f"{tmp_path / 'nope.csv'}: no such file (--items, the item table)" in \
        capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_bad_recbole(tmp_path: Path) -> None:
    (tmp_path / "x.inter").write_text("user_id:token\titem_id:token\n1\t2\n3\t4\t5\n")
    with pytest.raises(UqaInputError, match=r"x.inter: line 3 has 3 fields; expected 2"):
        import_recbole(tmp_path, tmp_path / "run")
    (tmp_path / "x.inter").write_text("user:token\titem_id:token\n1\t2\n")
    with pytest.raises(UqaInputError, match=r"missing field 'user_id:token'"):
        import_recbole(tmp_path, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_csv_item_table_with_a_repeated_item(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text("user_id,item_id,timestamp\n1,2,3\n")
    (tmp_path / "items.csv").write_text("item_id,title\n2,a\n5,b\n2,c\n")
    with pytest.raises(UqaInputError, match=r"items.csv: column 'item_id' line 4 repeats item 2"):
        import_csv(tmp_path / "log.csv", tmp_path / "run", items=tmp_path / "items.csv")
    assert not (tmp_path / "run").exists()
