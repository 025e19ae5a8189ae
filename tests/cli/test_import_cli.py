"""``uqa data import``: --order-by-row for RecBole files without timestamps, and the summary."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import uqa_inprocess


def test_recbole_without_timestamp_via_the_cli(tmp_path: Path, capsys) -> None:
    inter = tmp_path / "toy.inter"
    inter.write_text("user_id:token\titem_id:token\n" + "".join(
        f"{u}\t{i}\n" for u in range(3) for i in (5, 3, 9)))
    out = tmp_path / "run"
    code, err = uqa_inprocess(capsys, "data", "import", "--format", "recbole", str(inter),
                              "--out", str(out))
    assert code == 2 and "pass --order-by-row" in err, err
    assert not (out / "raw").exists()
    code, err = uqa_inprocess(capsys, "data", "import", "--format", "recbole", str(inter),
                              "--out", str(out), "--order-by-row")
    assert code == 0, err
    assert "row order" in err
    assert "clicked_items_without_metadata" not in err  # no .item file was given
    log = tmp_path / "log.csv"
    log.write_text("user_id,item_id,timestamp\n1,2,3\n")
    code, err = uqa_inprocess(capsys, "data", "import", "--format", "csv", str(log), "--out",
                              str(tmp_path / "c"), "--order-by-row")
    assert code == 2 and "--order-by-row does not apply to --format csv" in err
