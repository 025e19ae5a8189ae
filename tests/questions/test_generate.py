"""generate(): files, columns, counts, presets, errors."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from uqa_data.errors import UnknownNameError, UqaInputError
from uqa_data.io import read_table

TASKS = ["df", "mf", "ip", "ap", "li", "si", "it"]
DIMENSION = {
    "df": "sequence_understanding",
    "mf": "sequence_understanding",
    "ip": "action_prediction",
    "ap": "action_prediction",
    "li": "interest_perception",
    "si": "interest_perception",
    "it": "interest_perception",
}


def test_writes_both_sets_with_design_columns(generated: tuple[Path, dict]) -> None:
    out, summary = generated
    for stem, split, n in (("align", "train", 24), ("eval", "test", 8)):
        table = read_table(out / f"{stem}.arrow")
        for col in (
            "question_id",
            "user_id",
            "split",
            "task",
            "dimension",
            "template_id",
            "lang",
            "question",
            "options",
            "answer",
            "answer_text",
            "history_len",
        ):
            assert col in table.column_names
        assert table.schema.field("options").type == pa.list_(pa.string())
        assert table.schema.field("history_len").type == pa.int64()
        rows = table.to_pylist()
        assert {r["split"] for r in rows} == {split}
        assert summary[stem]["per_task"] == dict.fromkeys(TASKS, n)
        assert len(rows) == 7 * n
        assert len({r["question_id"] for r in rows}) == len(rows)
        for r in rows:
            assert r["dimension"] == DIMENSION[r["task"]]
            assert len(r["options"]) == 4 and len(set(r["options"])) == 4
            assert r["options"]["ABCD".index(r["answer"])] == r["answer_text"]
            assert r["question"] and "{" not in r["question"]


def test_align_users_from_train_eval_users_from_test(
    generated: tuple[Path, dict], data_dir: Path
) -> None:
    out, _ = generated
    train = set(read_table(data_dir / "train.arrow").column("user_id").to_pylist())
    test = set(read_table(data_dir / "test.arrow").column("user_id").to_pylist())
    assert set(read_table(out / "align.arrow").column("user_id").to_pylist()) <= train
    assert set(read_table(out / "eval.arrow").column("user_id").to_pylist()) <= test


def test_presets_and_overrides() -> None:
    from uqa_data.questions import QuestionConfig

    full = QuestionConfig.from_preset("full")
    assert sum(full.counts("test", TASKS).values()) == 7192
    assert QuestionConfig.from_preset("full", eval_per_task=5).counts("test", TASKS)["it"] == 5
    tiny = QuestionConfig.from_preset("tiny", align_per_task=None)
    assert tiny.align_per_task == 24
    with pytest.raises(UnknownNameError, match="valid: default, full, small, tiny"):
        QuestionConfig.from_preset("huge")
    with pytest.raises(UnknownNameError, match="--lang"):
        QuestionConfig.from_preset("tiny", lang="fr")


def test_unknown_task_and_bad_input(data_dir: Path, tmp_path: Path) -> None:
    from uqa_data.questions import QuestionConfig, generate

    with pytest.raises(UnknownNameError, match="did you mean 'df'"):
        generate(data_dir, tmp_path / "q", QuestionConfig.from_preset("tiny", tasks=("dff",)))
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("items.arrow", "test.arrow"):
        (bad / name).write_bytes((data_dir / name).read_bytes())
    (bad / "train.arrow").write_bytes(b"not arrow")
    with pytest.raises(UqaInputError, match=r"train\.arrow"):
        generate(bad, tmp_path / "q", QuestionConfig.from_preset("tiny"))
    assert not (tmp_path / "q" / "eval.arrow").exists()
