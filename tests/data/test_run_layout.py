"""uqa_data.layout: the one module that knows where a run directory's files are."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from uqa_data.layout import (
    STAGES,
    UNTRAINED_STAGE,
    RunLayout,
    RunState,
    baseline_stage,
    find_runs,
    stage_baseline,
)

PACKAGES = Path(__file__).resolve().parents[2] / "packages"
FOLDERS = ("raw", "data", "questions", "encoder", "embeddings", "untrained", "adapter",
           "predictions", "report", "baselines")
_FOLDER = "|".join(FOLDERS)


def _hand_joins(path: Path, root: Path = PACKAGES) -> list[str]:
    """``path``'s places that build a run-directory path from a folder name by hand:
    ``x / "questions"``, ``x.joinpath("adapter")``, ``os.path.join(x, "raw")``,
    ``Path("data/...")``, ``f"{x}/encoder"`` or ``f"raw/{name}"``."""
    found = []

    def folder(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and (
            node.value in FOLDERS or re.match(rf"({_FOLDER})/", node.value) is not None)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        hit = False
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            hit = folder(node.left) or folder(node.right)
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in ("joinpath", "join", "Path", "PurePath"):
                hit = any(folder(a) for a in node.args) and not (
                    name == "join" and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Constant))  # "sep".join(...)
        elif isinstance(node, ast.JoinedStr):
            shape = "".join(v.value if isinstance(v, ast.Constant) else "{}"
                            for v in node.values)
            hit = bool(re.search(rf"\{{\}}/({_FOLDER})\b", shape)
                       or re.match(rf"({_FOLDER})/\{{\}}", shape))
        if hit:
            found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_no_module_but_the_layout_joins_a_stage_folder_by_hand() -> None:
    sources = sorted(PACKAGES.glob("*/src/**/*.py"))
    assert len(sources) > 50
    owner = PACKAGES / "uqa-data" / "src" / "uqa_data" / "layout.py"
    joins = [hit for p in sources if p != owner for hit in _hand_joins(p)]
    assert not joins, "ask uqa_data.layout.RunLayout instead: " + ", ".join(joins)


def test_the_checker_sees_each_way_of_joining(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('a = out / "questions"\nb = out.joinpath("adapter")\n'
                      'c = Path("raw/items.arrow")\nd = f"{out}/encoder"\ne = f"raw/{n}"\n'
                      'f = ", ".join(["data"])\ng = f"{p}: expected report/report.json"\n')
    assert [h.split(":")[1] for h in _hand_joins(sample, tmp_path)] == ["1", "2", "3", "4", "5"]


def test_a_baseline_shares_the_run_inputs_and_owns_its_outputs(tmp_path: Path) -> None:
    run = RunLayout(tmp_path / "r")
    base = run.baseline("text20")
    assert base.root == tmp_path / "r" / "baselines" / "text20" and base.is_baseline
    for shared in ("raw", "data", "encoder", "run_json"):
        assert getattr(base, shared) == getattr(run, shared)
    assert base.questions("eval") == run.questions("eval") == run.questions_dir / "eval.arrow"
    assert base.embeddings("train", untrained=True) == run.embeddings("train", untrained=True)
    assert run.embeddings("test").parent == run.embeddings("test", untrained=True).parent.parent
    for own in ("adapter", "predictions", "report"):
        assert getattr(base, own).is_relative_to(base.root)
        assert not getattr(run, own).is_relative_to(base.root)
    assert RunLayout.at(base.root) == base and RunLayout.at(run.root) == run
    assert base.baseline("none") == run.baseline("none")


def test_stage_names_say_whose_they_are() -> None:
    assert STAGES[0] == "synth" and STAGES[-1] == "report"
    assert stage_baseline(baseline_stage("align", "text20")) == "text20"
    assert stage_baseline(baseline_stage("embed", "oracle")) == "oracle"
    assert stage_baseline(UNTRAINED_STAGE) is None
    assert all(stage_baseline(s) is None for s in STAGES)


def test_facts_keep_the_baselines_seconds_out_of_the_run_wall_time(tmp_path: Path) -> None:
    run = RunLayout(tmp_path / "r")
    state = RunState.load(run)
    state.data["name"] = "main"
    state.data["settings"] = {"encoder": "gru4rec", "llm": "smollm2"}
    state.done("pretrain", config={"encoder": "gru4rec"}, seconds=4.0)
    state.done("eval", config={"baseline": None}, seconds=2.0,
               summary={"questions_per_s": 3.0})
    state.done(UNTRAINED_STAGE, config={"untrained": True}, seconds=0.5)
    state.done(baseline_stage("align", "random"), config={"baseline": "random"}, seconds=7.0)
    state.done(baseline_stage("eval", "random"), config={"baseline": "random"}, seconds=1.0,
               summary={"questions_per_s": 5.0})
    facts = run.facts()
    assert facts["run"] == "main" and facts["encoder"] == "gru4rec"
    assert facts["wall_time_s"] == 6.0 and facts["questions_per_s"] == 3.0
    assert set(facts["stage_seconds"]) == {"pretrain", "eval"}
    random = run.baseline("random").facts()
    assert random == {"run": "random", "baseline": "random", "wall_time_s": 8.0,
                      "questions_per_s": 5.0}


def test_find_runs_walks_a_study_into_its_runs_and_their_baselines(tmp_path: Path) -> None:
    import pyarrow as pa
    from uqa_data.io import write_table

    table = pa.table({"question_id": ["q0"], "correct": [True]})
    for run in (RunLayout(tmp_path / "a"), RunLayout(tmp_path / "b")):
        write_table(table, run.predictions)
    write_table(table, RunLayout(tmp_path / "a").baseline("none").predictions)
    assert find_runs([tmp_path]) == [tmp_path / "a", tmp_path / "a" / "baselines" / "none",
                                     tmp_path / "b"]
