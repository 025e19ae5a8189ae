"""Study definitions, the power-law fit and the study report (without training)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
from uqa_cli.run import RunOptions
from uqa_cli.studies import (
    PAPER_ENCODERS,
    STUDIES,
    StudyArgs,
    Variant,
    get_study,
    power_law_fit,
    write_study_report,
)
from uqa_data.errors import UnknownNameError, UqaError
from uqa_data.io import write_json
from uqa_data.registry import get_component
from uqa_eval.report import summarize, write_report

TASKS = ["df", "mf", "ip", "ap", "li", "si", "it"]


def test_power_law_fit_recovers_exponent() -> None:
    xs = [3e6, 1.3e7, 2.5e7, 8.5e7, 3e8]
    ys = [0.2 * x**0.05 for x in xs]
    a, b = power_law_fit(xs, ys)
    assert b == pytest.approx(0.05, abs=1e-9)
    assert a == pytest.approx(0.2, rel=1e-9)
    with pytest.raises(UqaError):
        power_law_fit([1.0, 1.0], [0.3, 0.4])


def test_unknown_study_lists_valid_names() -> None:
    with pytest.raises(UnknownNameError) as err:
        get_study("table3")
    assert "table2" in str(err.value) and "ablation-pretrain" in str(err.value)


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_every_variant_uses_registered_names(name: str, tmp_path: Path) -> None:
    variants = STUDIES[name](StudyArgs(out=tmp_path, preset="tiny"))
    labels = [v.label for v in variants]
    assert len(labels) == len(set(labels)), labels
    for v in variants:
        get_component("encoder", v.options.encoder)
        get_component("adapter", v.options.adapter)
        for b in v.options.baselines:
            get_component("baseline", b)
        assert v.options.preset == "tiny"


def test_study_shapes_match_the_paper() -> None:
    args = StudyArgs(out=Path("x"))
    assert [v.options.encoder for v in STUDIES["table2"](args)] == list(PAPER_ENCODERS)
    assert STUDIES["table2"](args)[0].options.baselines == ["text20", "text50", "none"]
    pre = STUDIES["ablation-pretrain"](args)
    assert {(v.facts["inputs"], v.facts["loss"]) for v in pre} == {
        (i, loss) for i in ("full", "no-text", "id-only") for loss in ("ce", "infonce")
    }
    assert all(set(v.options.overrides["pretrain"]) == {"input_mode", "loss"} for v in pre)
    align = STUDIES["ablation-align"](args)
    assert {(v.options.adapter, v.options.strategy) for v in align} == {
        (a, s) for a in ("mean_linear", "qformer") for s in ("adapter", "full", "lora")
    }
    sizes = STUDIES["scale-size"](StudyArgs(out=Path("x"), sizes=("3m", "13m")))
    assert [v.options.encoder_size for v in sizes] == ["3m", "13m"]


def _fake_run(run_dir: Path, acc: float, meta: dict, params: int | None = None) -> None:
    n = 70
    correct = [i < round(acc * n) for i in range(n)]
    report = summarize([TASKS[i % 7] for i in range(n)], correct, meta=meta)
    write_report(report, run_dir / "report")
    if params is not None:
        write_json({"backbone_params": params}, run_dir / "encoder" / "metrics.json")


def test_scale_size_report_fits_and_plots(tmp_path: Path) -> None:
    sizes = {"3m": (3_210_000, 0.30), "13m": (12_700_000, 0.34), "25m": (25_300_000, 0.36)}
    variants = []
    for size, (params, acc) in sizes.items():
        label = f"trm_plus-{size}"
        _fake_run(tmp_path / label, acc, {"run": label, "encoder": "trm_plus"}, params)
        variants.append(Variant(label, RunOptions(encoder="trm_plus", encoder_size=size),
                                {"size": size}))
    comparison = write_study_report("scale-size", tmp_path, variants, 1.0)
    assert len(comparison["runs"]) == 3
    assert (tmp_path / "report" / "report.md").is_file()
    assert (tmp_path / "report" / "scaling.png").stat().st_size > 1000
    scaling = json.loads((tmp_path / "report" / "scaling.json").read_text())
    assert scaling["x"] == [p for p, _ in sizes.values()]
    accs = [round(round(a * 70) / 70, 6) for _, a in sizes.values()]
    assert [round(a, 6) for a in scaling["acc"]] == accs
    assert scaling["fit"]["b"] > 0  # accuracy grows with size here
    assert math.isfinite(scaling["fit"]["a"])


def test_two_variants_run_their_common_stages_once(
        tmp_path: Path, tiny_llm_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Like ablation-align: one encoder, two adapters. The second variant links in the
    first's data, questions, encoder and embeddings; it runs only what differs, as the
    time estimate after the first foresaw; a study over its budget stops there."""
    from uqa_cli.studies import run_variants
    from uqa_data.layout import RunLayout

    def variant(adapter: str) -> Variant:
        return Variant(adapter, RunOptions(preset="tiny", encoder="gru4rec", adapter=adapter,
                                           llm=str(tiny_llm_dir), baselines=[],
                                           overrides={"align": {"epochs": 2}}),  # stores
                       {"adapter": adapter})

    args = StudyArgs(out=tmp_path / "study", preset="tiny", llm=str(tiny_llm_dir))
    variants = [variant("mean_linear"), variant("qformer")]
    comparison = run_variants("two-adapters", args, variants, budget_minutes=1e6)
    printed = capsys.readouterr().err  # progress and notes go to stderr
    assert [r["name"] for r in comparison["runs"]] == ["mean_linear", "qformer"]
    first, second = (RunLayout(args.out / label) for label in ("mean_linear", "qformer"))
    records = {run.name: run.record().stages for run in (first, second)}
    executed = {name: [s for s, r in stages.items() if "reused_from" not in r]
                for name, stages in records.items()}
    every = ["synth", "prepare", "questions", "pretrain", "embed", "align", "eval", "report"]
    assert executed == {"mean_linear": every, "qformer": ["align", "eval", "report"]}
    assert all(records["qformer"][s]["reused_from"] == str(first.root) for s in every[:5])
    shared = first.encoder / "model.safetensors"
    assert (second.encoder / "model.safetensors").stat().st_ino == shared.stat().st_ino
    assert second.questions("eval").read_bytes() == first.questions("eval").read_bytes()
    assert (second.adapter / "config.json").read_text() != (first.adapter / "config.json"
                                                               ).read_text()

    # the time estimate after the first variant foresaw what the second ran, and counts
    # the first's seconds for those stages less the prefixes the second read from it
    from uqa_cli.run import planned_fingerprints
    from uqa_cli.studies import later_variant_seconds, remaining_seconds, variant_runs

    runs = variant_runs(args, variants)
    planned = planned_fingerprints(runs[1])
    assert planned == {s: r["fingerprint"] for s, r in records["qformer"].items()}
    assert [s for s, fp in planned.items()
            if records["mean_linear"][s]["fingerprint"] != fp] == executed["qformer"]
    theirs = {s: records["mean_linear"][s] for s in executed["qformer"]}
    encoded = (theirs["align"]["summary"]["prefix_cache"]["encode_s"]
               + theirs["eval"]["summary"]["prefix_encode_s"])
    assert theirs["align"]["summary"]["prefix_cache"]["stored_questions"] > 0 and encoded > 0
    not_yet = replace(runs[1], out=tmp_path / "not-yet")  # as before the second ran
    estimate = later_variant_seconds(first.root, not_yet)
    assert estimate == pytest.approx(max(sum(r["seconds"] for r in theirs.values()) - encoded,
                                         0.0))
    whole = sum(r["seconds"] for r in records["mean_linear"].values())
    assert estimate < whole
    # printed before the second ran, from the first's records alone
    assert f"the other 1 would take about {estimate / 60:.1f} min more here" in printed
    # aligned in another order (another align.seed), it encodes the alignment's prefixes
    # again and reads only the evaluation's
    reordered = replace(not_yet, overrides={"align": {"epochs": 2, "seed": 1}})
    assert later_variant_seconds(first.root, reordered) == pytest.approx(max(
        sum(r["seconds"] for r in theirs.values()) - theirs["eval"]["summary"][
            "prefix_encode_s"], 0.0))
    assert later_variant_seconds(first.root, runs[1]) == 0  # done now
    assert remaining_seconds(first.root, [not_yet], later_seeds=2) == pytest.approx(
        estimate + 2 * (whole + estimate))

    # over the budget: refused after the first variant, before the second starts again;
    # the first was done before this process, so the second will encode the prefixes
    run_variants("two-adapters", args, variants, budget_minutes=0)  # all done: nothing left
    second.run_json.unlink()
    again = later_variant_seconds(first.root, runs[1], reads_prefixes=False)
    assert again == pytest.approx(sum(r["seconds"] for r in theirs.values()))
    refused = (rf"would need about {again / 60:.1f} more minutes .*"
               r"\(over --budget-minutes 0\)")
    with pytest.raises(UqaError, match=refused):
        run_variants("two-adapters", args, variants, budget_minutes=0)
    assert not second.run_json.exists()


def test_baselines_replace_the_studys_own(tmp_path: Path) -> None:
    """``uqa study --baselines``: a variant's own-embedding controls beside every variant,
    the rest beside the first only; an unknown name is refused naming the flag."""
    from uqa_cli.studies import with_baselines
    from uqa_data.errors import UnknownNameError

    variants = with_baselines(STUDIES["table2"](StudyArgs(out=tmp_path)),
                              ("none", "shuffled", "random"))
    assert variants[0].options.baselines == ["none", "shuffled", "random"]
    assert all(v.options.baselines == ["shuffled", "random"] for v in variants[1:])
    assert [v.options.encoder for v in variants] == list(PAPER_ENCODERS)
    assert with_baselines(variants, ())[0].options.baselines == []
    with pytest.raises(UnknownNameError, match="--baselines"):
        with_baselines(variants, ("shufled",))


def test_study_refuses_an_unknown_baseline_before_writing(tmp_path: Path, capsys) -> None:
    from cli_helpers import uqa_inprocess

    out = tmp_path / "study"
    code, err = uqa_inprocess(capsys, "study", "table2", "--out", str(out),
                              "--baselines", "none,shufled")
    assert code == 2, err
    assert "--baselines" in err and "shuffled" in err
    assert not out.exists()


@pytest.mark.parametrize(("argv", "expected"), [
    (["scale-size", "--sizes", "3m,bogus"],
     "study 'scale-size', variant trm_plus-bogus: unknown trm_plus size 'bogus' (--sizes)"),
    (["scale-length", "--lengths", "32,abc"], "--lengths 32,abc: 'abc' is not an integer"),
    (["scale-length", "--lengths", "32,0"],
     "study 'scale-length', variant len0: pre-training setting max_len=0 (--lengths)"),
    (["table2", "--budget-minutes", "-1"], "--budget-minutes -1: expected a number >= 0"),
    (["table2", "--llm", "/no/such/model"],
     "study 'table2', variant gru4rec: --llm /no/such/model: no such directory"),
    (["table2", "--seed", "1", "--seeds", "0,1"], "--seed and --seeds: give one"),
    (["table2", "--seeds", "0,x"], "--seeds 0,x: 'x' is not an integer"),
    (["table2", "--seeds", "3"], "--seeds 3: expected at least two distinct seeds"),
    (["table2", "--seeds", "1,1"], "--seeds 1,1: expected at least two distinct seeds"),
    (["table2", "--seeds", "0,-2"], "--seeds 0,-2: -2 is negative"),
    (["table2", "--seeds", "-1"], "--seeds -1: -1 is negative"),
    (["table2", "--encoders", "sasrec,sasrek"],
     "study 'table2', variant sasrek: unknown encoder 'sasrek' (--encoders); "
     "did you mean 'sasrec'?"),
    (["table2", "--encoders", "sasrec,sasrec"], "--encoders sasrec,sasrec: sasrec given twice"),
    (["table2", "--encoders", ","], "--encoders ',': expected comma-separated names"),
    (["scale-size", "--encoders", "sasrec"], "--encoders is table2's; study 'scale-size'"),
    (["table2", "--seeds", "0,1", "--encoders", "gru4rec", "--llm", "/no/such/model"],
     "study 'table2', variant gru4rec: --llm /no/such/model: no such directory"),
    (["table2", "--encoders", "sasrec", "--seeds", "0,1", "--baselines", ""],
     "--seeds: study 'table2' has one variant and no baseline to compare it with"),
    (["table2", "--encoders", "sasrec,hstu", "--set", "pretrain.encoder=gru4rec"],
     "--set pretrain.encoder: study 'table2' sets it per variant (sasrec 'sasrec', hstu 'hstu'); "
     "choose its values with --encoders"),
    (["ablation-align", "--set", "align.strategy=full"],
     "--set align.strategy: study 'ablation-align' sets it per variant "
     "(mean_linear-adapter 'adapter', mean_linear-full 'full'"),
    (["scale-length", "--lengths", "32,64", "--set", "pretrain.max_len=64"],
     "--set pretrain.max_len: study 'scale-length' sets it per variant (len32 32, len64 64); "
     "choose its values with --lengths"),
    (["scale-length", "--lengths", "64", "--set", "pretrain.max_len=32"],
     "--set pretrain.max_len: study 'scale-length' sets it per variant (len64 64); choose "
     "its values with --lengths"),
    (["table2", "--seeds", "0,1", "--set", "align.seed=3"], "--set align.seed: --seeds sets it"),
    (["table2", "--set", "align.bogus=1"],
     "study 'table2', variant gru4rec: unknown align setting 'bogus' (--set align.bogus)"),
    (["table2", "--set", "align"], "--set 'align' is not STAGE.KEY=VALUE"),
], ids=["size", "length-text", "length-zero", "budget", "llm", "both", "seeds-text", "one-seed",
        "same-seed", "negative", "negative-alone", "encoder", "twice", "empty", "not-table2",
        "llm-with-seeds", "nothing-to-compare", "set-encoder", "set-strategy", "set-length",
        "set-one-length", "set-seed", "set-unknown", "set-malformed"])
def test_every_variant_is_checked_before_the_first_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    """A bad value in any variant (of any seed), or a bad --seeds or --encoders, fails in
    seconds with one line; nothing is written."""
    from cli_helpers import uqa_inprocess

    out = tmp_path / "study"
    code, err = uqa_inprocess(capsys, "study", *argv, "--out", str(out))
    assert code == 2 and "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], err
    assert not out.exists()


def test_table2_takes_a_plugin_encoder_among_its_encoders(tmp_path: Path) -> None:
    variants = STUDIES["table2"](StudyArgs(out=tmp_path, encoders=("sasrec", "hstu")))
    assert [v.label for v in variants] == ["sasrec", "hstu"]
    assert variants[0].options.baselines == ["text20", "text50", "none"]


def test_a_study_over_two_seeds_reports_whether_its_ranking_holds(
        tmp_path: Path, tiny_llm_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``uqa study table2 --encoders A,B --seeds 0,1``: each seed's study in its own folder
    (its own data), then accuracies, ranks and tau-b across the seeds; ``none`` beside the
    first variant gives every variant of its seed acc_pmi."""
    from uqa_cli.main import main
    from uqa_data.layout import RunLayout

    out = tmp_path / "study"
    main(["study", "table2", "--preset", "tiny", "--llm", str(tiny_llm_dir), "--encoders",
          "gru4rec,sasrec", "--seeds", "0,1", "--baselines", "none", "--out", str(out), "--yes"])
    printed, notes = capsys.readouterr()
    # after seed 0's first variant: its second and seed 1's two are left (--yes: no stop)
    assert "the other 3 would take about" in notes
    for seed in (0, 1):
        study = json.loads((out / f"seed-{seed}" / "study.json").read_text())
        assert study["seed"] == seed
        assert [v["label"] for v in study["variants"]] == ["gru4rec", "sasrec"]
        sasrec = RunLayout(out / f"seed-{seed}" / "sasrec")
        assert sasrec.report_json.is_file()
        assert not sasrec.baseline("none").predictions.is_file()
        report = json.loads(sasrec.report_json.read_text())
        assert report["overall"].get("acc_pmi") is not None  # the sibling's none
    assert ((out / "seed-0" / "gru4rec" / "raw" / "interactions.arrow").read_bytes()
            != (out / "seed-1" / "gru4rec" / "raw" / "interactions.arrow").read_bytes())
    agreement = json.loads((out / "report" / "seeds.json").read_text())
    assert agreement["seeds"] == [0, 1] and agreement["labels"] == ["gru4rec", "sasrec"]
    assert agreement["metrics"] == ["acc", "acc_pmi"]
    for metric in ("acc", "acc_pmi"):
        for column in ("interest_perception", "overall"):
            res = agreement["results"][metric][column]
            assert set(res["rank"]) == {"gru4rec", "sasrec"}
            assert len(res["tau"]) == 1
            tau = res["tau"][0]  # two runs: tau-b is +-1, or undefined when they tie
            if tau["tau_b"] is not None:
                assert -1 <= tau["lo"] <= tau["hi"] <= 1
            assert {(p["a"], p["b"]) for p in res["pairs"]} == {
                ("gru4rec", "sasrec"), ("gru4rec", "none"), ("sasrec", "none")}
            for seed in ("0", "1"):
                acc = [res["accuracy"][lab][seed]["acc"] for lab in ("gru4rec", "sasrec")]
                expected = {"gru4rec": 1.0, "sasrec": 2.0} if acc[0] > acc[1] else (
                    {"gru4rec": 2.0, "sasrec": 1.0} if acc[1] > acc[0] else
                    {"gru4rec": 1.5, "sasrec": 1.5})
                assert {lab: res["rank"][lab][seed] for lab in expected} == expected
    assert "Kendall tau-b, seeds 0 and 1" in (out / "report" / "seeds.md").read_text()
    assert "across seeds: acc_pmi, Int. Avg." in printed
    assert json.loads((out / "study.json").read_text())["seeds"] == [0, 1]

    # `uqa report` on the study: both seeds' runs side by side, and the seeds again
    (out / "report" / "seeds.md").unlink()
    main(["report", str(out)])
    printed = capsys.readouterr().out
    assert "across seeds: acc, Overall" in printed
    assert (out / "report" / "seeds.md").is_file()
    comparison = json.loads((out / "report" / "report.json").read_text())
    assert {r["run_dir"] for r in comparison["runs"]} >= {
        str(out / f"seed-{s}" / lab) for s in (0, 1) for lab in ("gru4rec", "sasrec")}
    # a seed that has not finished: the comparison is written, the seeds wait (a warning)
    import shutil

    shutil.rmtree(out / "seed-1" / "sasrec" / "predictions")
    shutil.rmtree(out / "seed-1" / "sasrec" / "report")
    main(["report", str(out)])
    assert "no agreement over seeds or alignments yet" in capsys.readouterr().err


def test_a_study_over_two_alignments_averages_each_run_over_them(
        tmp_path: Path, tiny_llm_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``uqa study table2 --encoders sasrec --seeds 0,1 --align-seeds 0,1``: in each seed
    the second alignment seed reuses the first's data, questions and pre-training and
    aligns again; the run and its controls are averaged over both alignments in
    OUT/seed-<s>/report/alignments.* (two encoders' pairs:
    tests/eval/test_report_alignments.py), and the seeds compared in OUT/report/seeds.*;
    ``uqa report OUT`` rebuilds them and ``uqa report --replicates`` reads run directories."""
    from uqa_cli.main import main
    from uqa_data.layout import RunLayout

    out = tmp_path / "study"
    main(["study", "table2", "--preset", "tiny", "--llm", str(tiny_llm_dir), "--encoders",
          "sasrec", "--seeds", "0,1", "--align-seeds", "0,1", "--baselines", "none,shuffled",
          "--out", str(out), "--yes"])
    printed, notes = capsys.readouterr()
    assert "the other 3 would take about" in notes  # align.seed 1, then seed 1's two
    assert json.loads((out / "study.json").read_text())["align_seeds"] == [0, 1]
    seed0 = out / "seed-0"
    assert json.loads((seed0 / "study.json").read_text())["align_seeds"] == [0, 1]
    first, second = (RunLayout(seed0 / f"align-{a}" / "sasrec") for a in (0, 1))
    stages = second.record().stages
    for stage in ("synth", "prepare", "questions", "pretrain", "embed"):
        assert stages[stage]["reused_from"] == str(first.root), stage
        assert stages[stage]["fingerprint"] == first.record().stages[stage]["fingerprint"]
    assert "reused_from" not in stages["align"]
    assert stages["align"]["config"]["seed"] == 1
    assert first.record().stages["align"]["config"]["seed"] == 0
    assert (second.encoder / "model.safetensors").read_bytes() == (
        first.encoder / "model.safetensors").read_bytes()
    assert (second.adapter / "adapter.safetensors").read_bytes() != (
        first.adapter / "adapter.safetensors").read_bytes()
    other = RunLayout(out / "seed-1" / "align-0" / "sasrec").record().stages
    assert "reused_from" not in other["pretrain"]  # another seed: its own data and encoder
    agreement = json.loads((seed0 / "report" / "alignments.json").read_text())
    assert agreement["replicates"] == [{"name": "seed 0", "align_seed": 0},
                                       {"name": "seed 1", "align_seed": 1}]
    assert agreement["labels"] == ["sasrec"]
    assert agreement["metrics"] == ["acc", "acc_pmi"]
    res = agreement["results"]["acc"]["overall"]
    assert {(p["a"], p["b"]) for p in res["pairs"]} == {
        ("sasrec", "none"), ("sasrec", "sasrec/shuffled")}
    for label in ("sasrec", "sasrec/shuffled", "none"):
        per = [json.loads(RunLayout(run).report_json.read_text())["overall"]["acc"]
               for run in agreement["runs"][label]]
        assert res["accuracy"][label]["per_replicate"] == pytest.approx(per)
        assert res["accuracy"][label]["acc"] == pytest.approx(sum(per) / 2)
    assert res["accuracy"]["none"]["spread"] == 0  # answered once, linked into both
    seeds = json.loads((out / "report" / "seeds.json").read_text())
    assert seeds["seeds"] == [0, 1] and seeds["labels"] == ["sasrec"]
    across = seeds["results"]["acc"]["overall"]
    assert across["accuracy"]["sasrec"]["0"]["acc"] == pytest.approx(
        res["accuracy"]["sasrec"]["acc"])
    assert across["pairs"][0]["per_seed"]["0"] == res["pairs"][0]
    assert "across seeds: acc_pmi, Int. Avg. (%, 95% over questions and alignments)" in printed

    for written in (seed0 / "report" / "alignments.md", out / "report" / "seeds.md"):
        written.unlink()
    main(["report", str(out)])
    assert "across seeds: acc, Overall" in capsys.readouterr().out
    assert (seed0 / "report" / "alignments.md").is_file()
    assert "averaged over its alignments (2, 2 per seed)" in (
        out / "report" / "seeds.md").read_text()

    # two run directories as alignment replicates; the same alignment twice is refused
    main(["report", "--replicates", str(first.root), str(second.root), "--out",
          str(tmp_path / "two")])
    two = json.loads((tmp_path / "two" / "alignments.json").read_text())
    assert two["labels"] == ["SASRec"]
    assert two["results"]["acc"]["overall"]["accuracy"]["SASRec"]["per_replicate"] == \
        pytest.approx(res["accuracy"]["sasrec"]["per_replicate"])
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--replicates", str(first.root), str(first.root), "--out",
              str(tmp_path / "same")])
    assert exit_info.value.code == 2
    assert "the same alignment as" in capsys.readouterr().err
    assert not (tmp_path / "same").exists()
    # a copy of a run being aligned again: its shuffled control answered with the old
    # adapter until the new one is done, so it is refused until then
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(second.root, copy)
    record = json.loads((copy / "run.json").read_text())
    record["stages"]["align"]["status"] = "running"
    (copy / "run.json").write_text(json.dumps(record))
    with pytest.raises(SystemExit):
        main(["report", "--replicates", str(first.root), str(copy), "--out",
              str(tmp_path / "stale")])
    assert "its alignment (align in run.json) is running, not done" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "said"), [
    (["--align-seeds", "0,0"], "--align-seeds 0,0: expected at least two distinct seeds"),
    (["--align-seeds", "0,x"], "--align-seeds 0,x: 'x' is not an integer"),
    (["--align-seeds", "0,1", "--seeds", "0,1", "--set", "pretrain.seed=3"],
     "--set pretrain.seed: --seeds sets it per seed"),
    (["--align-seeds", "0,1", "--set", "align.seed=3"],
     "--set align.seed: --align-seeds sets it per alignment"),
    (["--align-seeds", "0,1", "--encoders", "sasrec", "--baselines", ""],
     "--align-seeds: study 'table2' has one variant and no baseline to compare it with"),
])
def test_align_seeds_are_checked_before_anything_runs(
        argv: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from uqa_cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["study", "table2", "--preset", "tiny", "--out", str(tmp_path / "s"), *argv])
    assert exit_info.value.code == 2
    assert said in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_report_replicates_wants_two_directories(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from uqa_cli.main import main

    for argv, said in ((["--replicates", str(tmp_path)], "--replicates: 1 path given"),
                       (["--replicates", str(tmp_path), str(tmp_path / "nope")],
                        "nope: no such directory"),
                       (["--replicates", str(tmp_path), str(tmp_path)],
                        "neither a run nor a study directory")):
        with pytest.raises(SystemExit) as exit_info:
            main(["report", *argv])
        assert exit_info.value.code == 2
        assert said in capsys.readouterr().err


def test_set_reaches_every_variants_config_beside_its_own_settings(tmp_path: Path) -> None:
    """``uqa study --set``: each variant's resolved stage configs carry the setting, and a
    variant's own setting of another key stays its own."""
    from uqa_cli.run import checked_configs
    from uqa_cli.studies import study_variants

    args = StudyArgs(out=tmp_path, preset="tiny",
                     settings={"align": {"epochs": 1}, "pretrain": {"dropout": 0.0}})
    variants = study_variants("ablation-pretrain", args)
    for v in variants:
        cfgs = checked_configs(v.options)
        assert cfgs["align"].epochs == 1 and cfgs["pretrain"].dropout == 0.0
        assert (cfgs["pretrain"].input_mode, cfgs["pretrain"].loss) == (
            v.facts["inputs"], v.facts["loss"])
    assert not (tmp_path / "full-ce").exists()
