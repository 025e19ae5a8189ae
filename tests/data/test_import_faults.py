"""Import faults that used to end in tracebacks: each is now one error naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from uqa_data.errors import UqaInputError
from uqa_data.importers.recbole import import_recbole
from uqa_data.importers.tabular import import_csv
from uqa_data.io import read_json, read_table


def _log(path: Path, header: str = "user_id,item_id,timestamp") -> Path:
    path.write_text(header + "\n" + "".join(f"{u},{100 + k},{10 * k}\n" for u in range(3)
                                            for k in range(4)))
    return path


def test_csv_header_repeating_a_column_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path / "log.csv", "user_id,item_id,user_id")
    with pytest.raises(UqaInputError, match=r"log.csv: the header repeats column 'user_id' "
                                            r"\(columns 1 and 3\)"):
        import_csv(log, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_summary_without_item_table_has_no_metadata_count(tmp_path: Path) -> None:
    log = _log(tmp_path / "log.csv")
    summary = import_csv(log, tmp_path / "run")
    assert "clicked_items_without_metadata" not in summary
    items = tmp_path / "items.csv"
    items.write_text("item_id,title\n100,a\n101,b\n")
    summary = import_csv(log, tmp_path / "run2", items=items)
    assert summary["clicked_items_without_metadata"] == 2  # 102 and 103


def test_recbole_without_timestamp_needs_order_by_row(tmp_path: Path) -> None:
    (tmp_path / "toy.inter").write_text(
        "user_id:token\titem_id:token\n" + "".join(f"{u}\t{i}\n" for u in range(3)
                                                  for i in (5, 3, 9)))
    with pytest.raises(UqaInputError, match=r"toy.inter: no 'timestamp' field .*"
                                            r"pass --order-by-row"):
        import_recbole(tmp_path, tmp_path / "run")
    assert not (tmp_path / "run").exists()
    summary = import_recbole(tmp_path, tmp_path / "run", order_by_row=True)
    assert summary["order"] == "row order"
    log = read_table(tmp_path / "run" / "raw" / "interactions.arrow").to_pydict()
    assert log["item_id"][:3] == [5, 3, 9] and log["timestamp"][:3] == [0, 1, 2]


def test_directory_given_as_a_file_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "log.csv"
    folder.mkdir()
    for call in (lambda: import_csv(folder, tmp_path / "run"),
                 lambda: read_table(folder), lambda: read_json(folder)):
        with pytest.raises(UqaInputError, match="is a directory") as info:
            call()
        assert "not found" not in str(info.value)
