"""Importers: csv, parquet, recbole and the official UQABench files, then prepare."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from uqa_data.errors import UqaInputError
from uqa_data.importers.recbole import import_recbole
from uqa_data.importers.tabular import import_csv, import_parquet
from uqa_data.importers.uqabench import import_uqabench, parse_question
from uqa_data.io import read_table, write_table
from uqa_data.prepare import PrepareConfig, prepare
from uqa_data.schemas import RAW_INTERACTIONS, RAW_ITEMS

LOOSE = {"min_item_count": 1, "min_user_len": 1, "max_user_len": 10_000}


def _log_rows(n_users: int = 6, n_clicks: int = 8) -> list[tuple[int, int, int]]:
    return [(u, 100 + (u * 3 + k) % 7, 1000 * u + 10 * k) for u in range(n_users)
            for k in range(n_clicks)]


def test_csv_with_item_table_and_renamed_columns(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("uid;iid;when\n" + "".join(f"{u};{i};{t}\n" for u, i, t in _log_rows()))
    items = tmp_path / "items.csv"
    items.write_text("iid;cate_id;title;cate_name\n"
                     + "".join(f"{i};{i % 2};Thing {i};Cat {i % 2}\n" for i in range(100, 105)))
    summary = import_csv(log, tmp_path / "run", items=items, user_col="uid", item_col="iid",
                         time_col="when", delimiter=";")
    assert summary["rows"] == 48 and summary["items_given_placeholder_names"] == 2
    raw = tmp_path / "run" / "raw"
    assert read_table(raw / "interactions.arrow").schema.equals(RAW_INTERACTIONS)
    tab = read_table(raw / "items.arrow")
    assert tab.schema.equals(RAW_ITEMS)
    names = dict(zip(tab.column("item_id").to_pylist(), tab.column("title").to_pylist(),
                     strict=True))
    assert names[101] == "Thing 101" and names[106] == "item 106"
    out = prepare(raw, tmp_path / "run" / "data", PrepareConfig.from_preset("tiny", **LOOSE))
    assert out["output"]["rows"] == 48 and out["output"]["items"] == 7


def test_parquet_with_datetime_timestamps(tmp_path: Path) -> None:
    rows = _log_rows(3, 4)
    table = pa.table({
        "user_id": [r[0] for r in rows], "item_id": [r[1] for r in rows],
        "timestamp": pa.array([r[2] * 1_000_000 for r in rows], pa.timestamp("us")),
    })
    pq.write_table(table, tmp_path / "log.parquet")
    import_parquet(tmp_path / "log.parquet", tmp_path / "run")
    log = read_table(tmp_path / "run" / "raw" / "interactions.arrow")
    assert log.column("timestamp").to_pylist() == [r[2] for r in rows]


def test_recbole_atomic_files_with_string_tokens(tmp_path: Path) -> None:
    (tmp_path / "toy.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        + "".join(f"u{u}\tB0{i}\t5.0\t{t}.5\n" for u, i, t in _log_rows(4, 5))
    )
    (tmp_path / "toy.item").write_text(
        "item_id:token\ttitle:token_seq\tcategories:token_seq\tbrand:token\n"
        + "".join(f"B0{i}\tNice \"thing\" {i}\tShoes Running\tAcme{i % 2}\n"
                  for i in range(100, 107))
    )
    summary = import_recbole(tmp_path, tmp_path / "run")
    assert summary["rows"] == 20 and summary["users"] == 4
    raw = tmp_path / "run" / "raw"
    items = read_table(raw / "items.arrow").to_pylist()
    assert items[0]["title"].startswith("Nice \"thing\"") and items[0]["cate_name"] == "Shoes"
    assert {r["brand_name"] for r in items} == {"Acme0", "Acme1"}
    token_map = read_table(raw / "recbole_user_ids.arrow").to_pydict()
    assert token_map["token"] == ["u0", "u1", "u2", "u3"] and token_map["id"] == [1, 2, 3, 4]
    log = read_table(raw / "interactions.arrow").to_pydict()
    assert log["timestamp"][:2] == [0, 10]


def _official(path: Path, seqs: list[list[int]], texts: list[str] | None = None) -> None:
    def nested(values: list[list[int]]) -> pa.Array:
        return pa.array([[[v] for v in s] for s in values], pa.list_(pa.list_(pa.int64())))

    cols = {
        "uni_seq_item_id": nested(seqs),
        "uni_seq_cate_id": nested([[v % 3 for v in s] for s in seqs]),
        "uni_seq_title_bpe_token_ids": pa.array(
            [[[v, v + 1] for v in s] for s in seqs], pa.list_(pa.list_(pa.int64()))),
    }
    if texts is not None:
        cols["text"] = pa.array(texts)
    write_table(pa.table(cols), path)


def _chat(question: str, answer: str) -> str:
    return json.dumps([{"role": "user", "content": question},
                       {"role": "assistant", "content": answer}], ensure_ascii=False)


def test_uqabench_files_become_raw_split_and_questions(tmp_path: Path) -> None:
    src = tmp_path / "official"
    src.mkdir()
    _official(src / "pretrain_data_train.arrow", [[1, 2, 3, 1], [2, 3, 4]])
    _official(src / "pretrain_data_eval.arrow", [[4, 5, 1]])
    q = "用户近期最感兴趣的类目是什么？\n选项：A. 鞋 B. 包 C. 帽子 D. 手表"
    _official(src / "align_data_train.arrow", [[1, 2], [3, 4, 5]],
              [_chat(q, "B"), _chat("no options here", "A")])
    _official(src / "align_data_eval.arrow", [[5, 4]], [_chat(q, "手表")])
    summary = import_uqabench(src, tmp_path / "run")
    assert summary["rows"] == 4 + 3 + 3 + 2 + 3 + 2
    assert summary["questions_align"] == 1 and summary["questions_unparsed"] == 1
    raw = tmp_path / "run" / "raw"
    log = read_table(raw / "interactions.arrow").to_pydict()
    assert sorted(set(log["user_id"])) == [0, 1, 2, 3, 4, 5]  # row numbers offset per file
    assert log["timestamp"][:4] == [0, 1, 2, 3]
    items = read_table(raw / "items.arrow").to_pylist()
    assert items[0]["title"] == "1 2" and items[0]["cate_id"] == 1
    questions = read_table(tmp_path / "run" / "questions" / "eval.arrow").to_pylist()
    assert questions[0]["answer"] == "D" and questions[0]["options"] == ["鞋", "包", "帽子", "手表"]
    assert questions[0]["user_id"] == 5 and questions[0]["history_len"] == 2
    cfg = PrepareConfig.from_preset("tiny", split="given", **LOOSE)
    out = prepare(raw, tmp_path / "run" / "data", cfg)
    test_users = read_table(tmp_path / "run" / "data" / "test.arrow").column("user_id")
    assert sorted(test_users.to_pylist()) == [2, 5] and out["output"]["test_users"] == 2


def test_parse_question_variants() -> None:
    opts = "Options: A. red shoes B. blue C. green D. black"
    assert parse_question(_chat(f"Which colour?\n{opts}", "C. green")) == (
        "Which colour?", ["red shoes", "blue", "green", "black"], "C", "green")
    assert parse_question(_chat(f"Which?\n{opts}", "purple")) is None
    assert parse_question("not json") is None


def test_uqabench_bad_inner_list_names_row_and_click(tmp_path: Path) -> None:
    bad = pa.array([[[1], [2]], [[3], [4, 5]]], pa.list_(pa.list_(pa.int64())))
    write_table(pa.table({"uni_seq_item_id": bad}), tmp_path / "pretrain_data_train.arrow")
    with pytest.raises(UqaInputError, match=r"row 1 click 1 holds 2 ids"):
        import_uqabench(tmp_path, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_uqabench_names_decoded_with_a_local_tokenizer(tmp_path: Path) -> None:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel

    vocab = {w: i for i, w in enumerate(["[UNK]", "red", "shoes", "blue", "bag", "x"])}
    tok_dir = tmp_path / "tok"
    tok_dir.mkdir()
    Tokenizer(WordLevel(vocab, unk_token="[UNK]")).save(str(tok_dir / "tokenizer.json"))
    src = tmp_path / "official"
    src.mkdir()
    _official(src / "pretrain_data_train.arrow", [[1, 3], [3]])  # titles: ids [v, v + 1]
    import_uqabench(src, tmp_path / "run", tokenizer=tok_dir)
    items = read_table(tmp_path / "run" / "raw" / "items.arrow").to_pydict()
    assert items["title"] == ["red shoes", "blue bag"]
    with pytest.raises(UqaInputError, match=r"no tokenizer\.json"):
        import_uqabench(src, tmp_path / "run2", tokenizer=tmp_path)


@given(st.lists(st.tuples(st.integers(0, 2**40), st.integers(0, 2**40),
                          st.integers(-(2**40), 2**40)), min_size=1, max_size=40))
def test_csv_round_trip(rows: list[tuple[int, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log.csv"
        body = "".join(f"{u},{i},{t}\n" for u, i, t in rows)
        log.write_text("user_id,item_id,timestamp\n" + body)
        import_csv(log, Path(tmp) / "run")
        got = read_table(Path(tmp) / "run" / "raw" / "interactions.arrow").to_pydict()
        items = read_table(Path(tmp) / "run" / "raw" / "items.arrow").to_pydict()
    assert list(zip(got["user_id"], got["item_id"], got["timestamp"], strict=True)) == rows
    assert sorted(items["item_id"]) == sorted({r[1] for r in rows})
