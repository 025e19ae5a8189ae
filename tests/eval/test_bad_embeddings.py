"""Embeddings files that used to crash deep inside numpy: one error naming file, row and
what was expected, before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from uqa_data.io import write_table
from uqa_eval.cli import main

F32 = pa.float32()


def _inputs(root: Path, embedding: pa.Array, column: str = "embedding") -> tuple[Path, ...]:
    from uqa_align.testing import category_probe

    questions, _ = category_probe(len(embedding), per_position=False)
    users = pa.array(range(100, 100 + len(embedding)), pa.int64())
    emb = pa.table({"user_id": users, column: embedding})
    return (write_table(emb, root / "emb.arrow"), write_table(questions, root / "q.arrow"))


def _score(capsys, emb: Path, questions: Path, out: Path) -> tuple[int, str]:
    capsys.readouterr()
    try:
        main(["score-embeddings", "--embeddings", str(emb), "--align-questions", str(questions),
              "--eval-questions", str(questions), "--preset", "tiny", "--out", str(out)])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, " ".join(capsys.readouterr().err.split())


VECS = [[0.5] * 4, [0.25] * 4, [1.0] * 4]
CASES = [
    ("ragged", pa.array([[0.5] * 4, [0.25] * 3, [1.0] * 4], pa.list_(F32)), "embedding",
     "row 1 of 'embedding' has width 3; expected 4"),
    ("null-row", pa.array([VECS[0], None, VECS[2]], pa.list_(F32)), "embedding",
     "row 1 of 'embedding' is null"),
    ("null-value", pa.array([VECS[0], [0.5, None, 0.5, 0.5], VECS[2]], pa.list_(F32)),
     "embedding", "row 1 of 'embedding' holds a null value"),
    ("zero-width", pa.array([[], [], []], pa.list_(F32)), "embedding",
     "row 0 of 'embedding' has width 0; expected vectors of at least one value"),
    ("strings", pa.array([["a"], ["b"], ["c"]], pa.list_(pa.string())), "embedding",
     "column 'embedding' has type list<item: string>; expected fixed_size_list<float32>"),
    ("ragged-positions", pa.array([[VECS[0]], [VECS[1], [0.5] * 5], [VECS[2]]],
                                  pa.list_(pa.list_(F32))), "embeddings",
     "row 1 of 'embeddings' (position 1) has width 5; expected 4"),
    ("nan", pa.array([VECS[0], VECS[1], [1.0, float("nan"), 1.0, 1.0]], pa.list_(F32, 4)),
     "embedding", "row 2 (user 102) has non-finite values"),
    ("inf-position", pa.array([[VECS[0]], [VECS[1], [0.5, 0.5, float("inf"), 0.5]], [VECS[2]]],
                              pa.list_(pa.list_(F32))), "embeddings",
     "row 1 (user 101) has non-finite values"),
]


@pytest.mark.parametrize(("name", "array", "column", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_vectors_are_named(tmp_path: Path, capsys, name: str, array: pa.Array, column: str,
                               expected: str) -> None:
    emb, questions = _inputs(tmp_path, array, column)
    out = tmp_path / "out"
    code, err = _score(capsys, emb, questions, out)
    assert code == 2, err
    assert "Traceback" not in err
    assert f"{emb}: {expected}" in err, err
    assert not out.exists()  # nothing written

    from uqa_align.user_embeddings import UserEmbeddings
    from uqa_data.errors import UqaInputError

    with pytest.raises(UqaInputError):  # the file as alignment reads it
        UserEmbeddings.from_file(emb)


def test_score_predictions_accepts_a_utf8_bom(tmp_path: Path, capsys) -> None:
    path = tmp_path / "official.jsonl"
    line = json.dumps({"question": "用户近期最感兴趣的类目是什么？", "prediction": "B",
                       "answer": "B"}, ensure_ascii=False)
    path.write_bytes(b"\xef\xbb\xbf" + (line + "\n").encode("utf-8"))
    capsys.readouterr()
    try:
        main(["score-predictions", str(path), "--json"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["overall"]["acc"] == 1.0


def test_score_predictions_of_a_directory_says_so(tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["score-predictions", str(tmp_path)])
    err = capsys.readouterr().err
    assert info.value.code == 2
    # a directory may hold lm-evaluation-harness samples; this one holds none
    assert f"{tmp_path}: expected one lm-evaluation-harness samples_" in " ".join(err.split())
    assert "give the file itself" in err
