"""The `uqa-eval` console script: commands, error handling and its import graph."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import uqa_eval
from uqa_data.errors import UqaInputError
from uqa_data.io import write_table
from uqa_eval.cli import main
from uqa_eval.external import embedded_users, select_questions

LI = "用户最感兴趣的3个类目是什么？"
SI = "用户近期最感兴趣的类目是什么？"


def jsonl(path: Path, rows: list[tuple[str, str, object]]) -> Path:
    path.write_text("\n".join(json.dumps({"question": q, "prediction": p, "answer": a},
                                         ensure_ascii=False) for q, p, a in rows) + "\n",
                    encoding="utf-8")
    return path


def embeddings(path: Path, users: list[int], dim: int = 4, column: str = "embedding") -> Path:
    """One vector per user in ``embedding``, or one position per user in ``embeddings``."""
    values = pa.array(np.random.default_rng(0).normal(size=len(users) * dim).astype(np.float32))
    vectors = pa.FixedSizeListArray.from_arrays(values, dim)
    if column == "embeddings":
        vectors = pa.ListArray.from_arrays(pa.array(range(len(users) + 1), pa.int32()), vectors)
    table = pa.table({"user_id": pa.array(users, pa.int64()), column: vectors})
    return write_table(table, path)


def questions(path: Path, users: list[int]) -> Path:
    n = len(users)
    table = pa.table({
        "question_id": [f"q{i}" for i in range(n)],
        "user_id": pa.array(users, pa.int64()),
        "task": ["li"] * n,
        "dimension": ["interest_perception"] * n,
        "question": ["Which category?"] * n,
        "options": [["a", "b", "c", "d"]] * n,
        "answer": ["A"] * n,
        "answer_text": ["a"] * n,
        "history_len": pa.array([5] * n, pa.int64()),
    })
    return write_table(table, path)


def run_main(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_score_predictions_table_json_and_files(tmp_path: Path, capsys) -> None:
    f = jsonl(tmp_path / "gen.jsonl", [(LI, "A", "A"), (SI, "B", ["C"]), (SI, "C", "C")])
    code, out, _ = run_main(["score-predictions", str(f)], capsys)
    assert code == 0
    assert "66.67" in out and "Int. Avg." in out and "Overall" in out and " - " in out
    code, out, _ = run_main(["score-predictions", str(f), "--json", "--out",
                             str(tmp_path / "rep")], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["tasks"]["si"]["acc"] == 0.5 and report["overall"]["n"] == 3
    assert {p.name for p in (tmp_path / "rep").iterdir()} == {"report.json", "report.md",
                                                              "accuracy.png"}


def test_errors_are_one_line_with_exit_2(tmp_path: Path, capsys) -> None:
    f = jsonl(tmp_path / "gen.jsonl", [(LI, "A", "A"), ("不是官方的问题", "A", "A")])
    code, out, err = run_main(["score-predictions", str(f)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "line 2" in err


def test_embeddings_schema_and_question_filtering(tmp_path: Path) -> None:
    emb = embeddings(tmp_path / "e.arrow", [1, 2, 3])
    assert embedded_users(emb) == {1, 2, 3}
    q = questions(tmp_path / "q.arrow", [1, 2, 7, 8, 8, 3])
    kept, cov = select_questions(q, {1, 2, 3})
    assert (cov.kept, cov.dropped, cov.missing_users) == (3, 3, (7, 8))
    assert kept.column("user_id").to_pylist() == [1, 2, 3]
    assert "dropped 3 of 6 questions whose 2 user(s) have no embedding" in cov.message("e.arrow")

    bad = write_table(pa.table({"user_id": pa.array([1], pa.int64()), "vec": [1.0]}),
                      tmp_path / "bad.arrow")
    with pytest.raises(UqaInputError, match="neither 'embedding'"):
        embedded_users(bad)
    dup = embeddings(tmp_path / "dup.arrow", [4, 4])
    with pytest.raises(UqaInputError, match="user_id 4 appears 2 times"):
        embedded_users(dup)
    per_pos = embeddings(tmp_path / "pp.arrow", [5], column="embeddings")
    assert embedded_users(per_pos) == {5}


def test_score_embeddings_with_no_known_user_is_a_clear_error(tmp_path: Path, capsys) -> None:
    emb = embeddings(tmp_path / "e.arrow", [1, 2])
    align_q = questions(tmp_path / "a.arrow", [1, 2, 9])
    eval_q = questions(tmp_path / "q.arrow", [10, 11])
    code, _, err = run_main(["score-embeddings", "--embeddings", str(emb), "--align-questions",
                             str(align_q), "--eval-questions", str(eval_q), "--out",
                             str(tmp_path / "out")], capsys)
    assert code == 2
    assert "none of its 2 questions has a user" in err and "nothing to evaluate" in err
    assert "q.arrow" in err
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_score_embeddings_refuses_a_question_folder_before_writing(tmp_path: Path,
                                                                   capsys) -> None:
    emb = embeddings(tmp_path / "e.arrow", [1, 2])
    folder = tmp_path / "questions"
    folder.mkdir()
    eval_q = questions(tmp_path / "q.arrow", [1, 2])
    code, _, err = run_main(["score-embeddings", "--embeddings", str(emb), "--align-questions",
                             str(folder), "--eval-questions", str(eval_q), "--out",
                             str(tmp_path / "out")], capsys)
    assert code == 2 and err.count("\n") == 1 and str(folder) in err, err
    assert not (tmp_path / "out").exists()


def test_score_embeddings_checks_settings_before_writing(tmp_path: Path, capsys) -> None:
    emb = embeddings(tmp_path / "e.arrow", [1, 2])
    align_q = questions(tmp_path / "a.arrow", [1, 2])
    out = tmp_path / "out"
    code, _, err = run_main(["score-embeddings", "--embeddings", str(emb), "--align-questions",
                             str(align_q), "--eval-questions", str(align_q), "--steps", "-1",
                             "--out", str(out)], capsys)
    assert code == 2 and "align setting steps=-1 (--steps): expected an integer >= 0" in err
    assert not out.exists()


@pytest.mark.parametrize(("llm", "expected"), [
    ("nollm/", "--llm {tmp}/nollm: no such directory; expected a registered LLM name"),
    ("empty/", "--llm {tmp}/empty: no config.json; expected a Hugging Face model directory"),
    ("smolm2", "unknown llm 'smolm2' (--llm); did you mean 'smollm2'?"),
], ids=["missing", "empty", "typo"])
def test_score_embeddings_checks_the_llm_before_writing(tmp_path: Path, capsys, llm: str,
                                                        expected: str) -> None:
    emb = embeddings(tmp_path / "e.arrow", [1, 2])
    align_q = questions(tmp_path / "a.arrow", [1, 2])
    (tmp_path / "empty").mkdir()
    given = str(tmp_path / llm.rstrip("/")) if llm.endswith("/") else llm
    out = tmp_path / "out"
    code, _, err = run_main(["score-embeddings", "--embeddings", str(emb), "--align-questions",
                             str(align_q), "--eval-questions", str(align_q), "--llm", given,
                             "--out", str(out)], capsys)
    assert code == 2 and expected.format(tmp=tmp_path) in err and err.count("\n") == 1, err
    assert not out.exists()


def _imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_uqa_eval_source_never_imports_encoders_or_cli() -> None:
    package = Path(uqa_eval.__file__).parent
    offenders = {
        str(p.relative_to(package)): sorted(_imports_of(p) & {"uqa_encoders", "uqa_cli"})
        for p in package.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("uqa_encoders", "uqa_cli"):
            raise ImportError(f"blocked import of {name}")
        return None
sys.meta_path.insert(0, Block())
import uqa_eval.cli, uqa_eval.report, uqa_eval.official, uqa_eval.external
try:
    uqa_eval.cli.main(sys.argv[1:])
finally:
    bad = sorted(m for m in sys.modules if m.split(".")[0] in ("uqa_encoders", "uqa_cli"))
    assert not bad, bad
    if sys.argv[1] == "score-predictions":  # scoring text never needs torch
        assert "torch" not in sys.modules
"""


def test_commands_run_with_encoders_and_cli_blocked(tmp_path: Path) -> None:
    f = jsonl(tmp_path / "gen.jsonl", [(LI, "A", "A"), (SI, "B", "A")])
    env = {**os.environ, "UQA_PROGRESS": "0"}
    proc = subprocess.run([sys.executable, "-c", BLOCKER, "score-predictions", str(f), "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["overall"]["acc"] == 0.5


@pytest.mark.parametrize("sub", ["", "sub"])
def test_score_predictions_out_through_a_file_is_refused_first(tmp_path: Path, capsys,
                                                               sub: str) -> None:
    f = jsonl(tmp_path / "gen.jsonl", [(LI, "A", "A")])
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me", encoding="utf-8")
    code, out, err = run_main(["score-predictions", str(f), "--out", str(notes / sub)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: --out {notes / sub}: ")
    assert "is a file" in err and "Traceback" not in err
    assert notes.read_text(encoding="utf-8") == "keep me"
