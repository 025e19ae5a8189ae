"""`uqa-eval score-embeddings` end to end on a tiny random LLM directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from uqa_data.io import read_json, read_table, write_table
from uqa_eval.cli import main
from uqa_eval.report import load_comparison


def save_tiny_llm(directory: Path) -> Path:
    """A random tiny Llama with SmolLM2's tokenizer, saved as a local HF directory."""
    from uqa_align.testing import tiny_llm

    llm = tiny_llm()
    llm.model.save_pretrained(directory, safe_serialization=True)
    llm.tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tiny_llm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_llm(tmp_path_factory.mktemp("llm") / "tiny-llama")


def write_inputs(root: Path, *, per_position: bool) -> tuple[Path, Path, Path]:
    """Align questions (8 users), eval questions (6 users, 2 without embeddings)."""
    from uqa_align.testing import category_probe

    questions, embeddings = category_probe(14, per_position=per_position)
    users = questions.column("user_id").to_pylist()
    align_q = questions.slice(0, 8)
    eval_q = questions.slice(8, 6)
    known = set(users[:12])  # users 112, 113 have no embedding
    mask = [u in known for u in embeddings.column("user_id").to_pylist()]
    emb = embeddings.filter(mask)
    return (write_table(emb, root / "emb.arrow"), write_table(align_q, root / "align.arrow"),
            write_table(eval_q, root / "eval.arrow"))


@pytest.mark.parametrize(("per_position", "controls"), [(False, "none,shuffled"), (True, "")])
def test_score_embeddings_end_to_end(tmp_path: Path, tiny_llm_dir: Path, capsys,
                                     per_position: bool, controls: str) -> None:
    emb, align_q, eval_q = write_inputs(tmp_path, per_position=per_position)
    out = tmp_path / "out"
    try:
        main(["score-embeddings", "--embeddings", str(emb), "--align-questions", str(align_q),
              "--eval-questions", str(eval_q), "--llm", str(tiny_llm_dir), "--preset", "tiny",
              "--steps", "2", "--controls", controls, "--out", str(out), "--json"])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert "dropped 2 of 6 questions whose 2 user(s) have no embedding" in err
    assert "user_id 112, 113" in err
    report = json.loads(captured.out)
    assert report["n_questions"] == 4 and report["tasks"]["li"]["n"] == 4
    assert report["meta"]["questions_dropped"] == {"align": 0, "eval": 2}
    assert report["meta"]["adapter"] == "mean_linear" and report["avg_input_tokens"] > 0
    assert read_json(out / "report" / "report.json") == report
    assert (out / "report" / "accuracy.png").is_file()
    assert read_table(out / "predictions" / "eval.arrow").num_rows == 4
    assert (out / "adapter" / "config.json").is_file()
    if not controls:
        assert report["meta"]["controls"] == {} and not (out / "baselines").exists()
        return
    assert set(report["meta"]["controls"]) == {"none", "shuffled"}
    comparison = load_comparison(out / "report" / "compare" / "report.json")
    assert [r["label"] for r in comparison["runs"]] == ["None (no user)", "Shuffled emb.",
                                                        "external:emb.arrow"]
    for name in ("none", "shuffled"):
        control = read_json(out / "baselines" / name / "report" / "report.json")
        assert control["n_questions"] == 4 and control["meta"]["baseline"] == name
        assert report["meta"]["controls"][name]["acc"] == control["overall"]["acc"]


def test_unknown_control_is_a_clear_error(tmp_path: Path, capsys) -> None:
    emb, align_q, eval_q = write_inputs(tmp_path, per_position=False)
    with pytest.raises(SystemExit) as info:
        main(["score-embeddings", "--embeddings", str(emb), "--align-questions", str(align_q),
              "--eval-questions", str(eval_q), "--controls", "shuffle", "--out",
              str(tmp_path / "out")])
    assert info.value.code == 2
    assert "unknown control(s) shuffle (--controls); valid: none, shuffled" in " ".join(
        capsys.readouterr().err.split())


def test_adapter_option_reaches_the_adapter(tmp_path: Path, tiny_llm_dir: Path, capsys) -> None:
    """``--adapter-option pool=mean``: the per-position embeddings are averaged instead of
    read at the last position, and the adapter's config says so."""
    emb, align_q, eval_q = write_inputs(tmp_path, per_position=True)
    out = tmp_path / "out"
    try:
        main(["score-embeddings", "--embeddings", str(emb), "--align-questions", str(align_q),
              "--eval-questions", str(eval_q), "--llm", str(tiny_llm_dir), "--preset", "tiny",
              "--steps", "1", "--controls", "", "--adapter-option", "pool=mean",
              "--adapter-option", "num_tokens=2", "--out", str(out), "--json"])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    config = read_json(out / "adapter" / "config.json")
    assert config["adapter"]["options"]["pool"] == "mean"
    assert config["adapter"]["options"]["num_tokens"] == 2


@pytest.mark.parametrize(("option", "message"), [
    ("pool=first", "adapter 'mean_linear': pool 'first' is not one of mean, last, both"),
    ("pool", "--adapter-option 'pool' is not KEY=VALUE (an option of the adapter)"),
    ("size=3", "adapter 'mean_linear': unknown option(s) size; valid: dropout, hidden, "
               "init_std, num_tokens, pool, scale"),
])
def test_bad_adapter_option_is_refused_before_anything_is_written(
        tmp_path: Path, capsys, option: str, message: str) -> None:
    emb, align_q, eval_q = write_inputs(tmp_path, per_position=True)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main(["score-embeddings", "--embeddings", str(emb), "--align-questions", str(align_q),
              "--eval-questions", str(eval_q), "--adapter-option", option, "--out", str(out)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split())
    assert not out.exists()


def test_alignments_of_the_same_embeddings_read_together(tmp_path: Path, tiny_llm_dir: Path,
                                                         capsys) -> None:
    """``--align-seed`` changes the alignment alone (same questions, other adapter);
    ``uqa-eval replicates`` averages the embeddings and their controls over the
    alignments; the same alignment twice and a bad seed are refused."""
    emb, align_q, eval_q = write_inputs(tmp_path, per_position=False)
    outs = [tmp_path / f"a{s}" for s in (0, 1)]
    for seed, out in zip((0, 1), outs, strict=True):
        try:
            main(["score-embeddings", "--embeddings", str(emb), "--align-questions",
                  str(align_q), "--eval-questions", str(eval_q), "--llm", str(tiny_llm_dir),
                  "--preset", "tiny", "--steps", "2", "--align-seed", str(seed), "--out",
                  str(out), "--json"])
        except SystemExit as exc:
            assert exc.code in (0, None), capsys.readouterr().err
    capsys.readouterr()
    configs = [read_json(o / "run.json")["stages"]["align"]["config"] for o in outs]
    assert [c["seed"] for c in configs] == [0, 1]
    assert (outs[0] / "questions" / "eval.arrow").read_bytes() == (
        outs[1] / "questions" / "eval.arrow").read_bytes()
    assert (outs[0] / "adapter" / "adapter.safetensors").read_bytes() != (
        outs[1] / "adapter" / "adapter.safetensors").read_bytes()
    try:
        main(["replicates", str(outs[0]), str(outs[1]), "--out", str(tmp_path / "rep")])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    assert "over 2 alignments: acc, Overall" in capsys.readouterr().out
    agreement = read_json(tmp_path / "rep" / "alignments.json")
    assert agreement["labels"] == ["external:emb.arrow"]
    assert [r["align_seed"] for r in agreement["replicates"]] == [0, 1]
    overall = agreement["results"]["acc"]["overall"]
    per = [read_json(o / "report" / "report.json")["overall"]["acc"] for o in outs]
    assert overall["accuracy"]["external:emb.arrow"]["per_replicate"] == pytest.approx(per)
    assert overall["accuracy"]["none"]["spread"] == 0  # no adapter: answered alike
    assert {(p["a"], p["b"]) for p in overall["pairs"]} == {
        ("external:emb.arrow", "none"), ("external:emb.arrow", "external:emb.arrow/shuffled")}
    for argv, said in ((["replicates", str(outs[0]), str(outs[0])], "the same alignment as"),
                       (["replicates", str(outs[0])], "uqa-eval replicates: 1 path given"),
                       (["score-embeddings", "--embeddings", str(emb), "--align-questions",
                         str(align_q), "--eval-questions", str(eval_q), "--align-seed", "-1",
                         "--out", str(tmp_path / "neg")], "--align-seed -1: expected an "
                                                          "integer >= 0")):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        assert said in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "neg").exists()
