"""bench/vs_official.py: its batches are next-click pairs, and our side of a step runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="module")
def vo(bench_script):  # type: ignore[no-untyped-def]
    module = bench_script("vs_official")
    module.CONFIGS["tiny-test"] = {"encoder": "gru4rec", "batch": 4, "length": 12, "vocab": 30,
                                   "ours": {"dim": 8, "layers": 2, "hidden": 16}}
    return module


@pytest.mark.parametrize("bucket", [False, True])
@pytest.mark.parametrize("regime", ["full", "paper"])
def test_batches_are_inputs_and_their_next_clicks(vo, regime: str, bucket: bool) -> None:  # type: ignore[no-untyped-def]
    batches = vo.make_batches(regime, 4, 12, 30, 5, 0, bucket=bucket)
    assert len(batches) == 5
    for ids, lengths, targets in batches:
        width = int(lengths.max()) if bucket else 12
        assert ids.shape == targets.shape == (4, width)
        valid = torch.arange(width)[None, :] < lengths[:, None]
        assert bool((ids[valid] > 0).all()) and bool((targets[valid] > 0).all())
        assert bool((ids[~valid] == 0).all()) and bool((targets[~valid] == 0).all())
        # targets are the inputs shifted by one click
        assert torch.equal(targets[:, :-1][valid[:, 1:]], ids[:, 1:][valid[:, 1:]])
        if regime == "full":
            assert bool((lengths == 12).all())


def test_our_side_of_a_step_runs_and_reports(vo) -> None:  # type: ignore[no-untyped-def]
    row = vo.peak_side("tiny-test", "ours", "paper", None, "fp32", 0)
    assert row["side"] == "ours" and row["iters"] == 1 and row["seq_per_s"] > 0
    assert row["peak_rss_mib"] > 0
    assert row["first_loss"] == pytest.approx(float(torch.log(torch.tensor(29.0))), abs=0.3)


def test_a_folder_without_the_official_modules_is_refused(vo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit, match="uqa_bench/modules"):
        vo.official_backbone(tmp_path, "sasrec", {"dim": 8}, 12)


def test_alone_times_each_side_in_a_child_of_its_own(vo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[list[str]] = []

    def child(args: list[str]) -> dict:
        calls.append(args)
        if args[4] == "ours:bf16":
            return {"error": "boom", "args": args}
        return {"rows": [{"spec": args[4]}]}

    monkeypatch.setattr(vo, "_child", child)
    got = vo._time_child("tiny-test", "full", Path("/x"), ["official:fp32", "ours:fp32"], 3, 1,
                         0)
    assert [c[4] for c in calls] == ["official:fp32", "ours:fp32"]
    assert got == {"rows": [{"spec": "official:fp32"}, {"spec": "ours:fp32"}]}
    calls.clear()  # taking turns: one child for every side
    assert vo._time_child("tiny-test", "full", Path("/x"), ["official:fp32,ours:fp32"], 3, 1,
                          0) == {"rows": [{"spec": "official:fp32,ours:fp32"}]}
    assert len(calls) == 1
    assert "error" in vo._time_child("tiny-test", "full", Path("/x"),
                                     ["official:fp32", "ours:bf16", "ours:fp32"],
                                     3, 1, 0)


def test_several_processes_keep_each_sides_median_process(vo) -> None:  # type: ignore[no-untyped-def]
    """With --processes, each side's row is its median process's, beside every process's
    seq/s, and the Markdown row shows the range."""
    runs = [{"rows": [{"side": "official", "seq_per_s": o, "round": i},
                      {"side": "ours", "seq_per_s": u, "round": i}]}
            for i, (o, u) in enumerate([(2.5, 3.0), (1.7, 3.1), (1.9, 2.9)])]
    got = vo._median_processes(runs)["rows"]
    assert [r["seq_per_s"] for r in got] == [1.9, 3.0]
    assert [r["round"] for r in got] == [2, 0]
    assert got[0]["seq_per_s_each"] == [2.5, 1.7, 1.9]
    assert vo._speeds(got[0]) == "1.9 (1.7-2.5)"
    assert vo._speeds({"seq_per_s": 4.0}) == "4.0"
    even = vo._median_processes(runs[:2])["rows"]  # the lower middle of an even count
    assert [r["seq_per_s"] for r in even] == [1.7, 3.0]


def test_ours_is_set_against_the_official_side_in_its_own_precision(vo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With the official side in fp32 and bf16, our bf16 (and `auto` resolved to bf16) row
    is divided by the official bf16 row, our fp32 row by the official fp32 row."""
    speed = {"official:fp32": 1.0, "official:bf16": 2.0, "ours:fp32": 1.5, "ours:auto": 5.0}
    runs_in = {"official:fp32": "fp32", "official:bf16": "bf16", "ours:fp32": "fp32",
               "ours:auto": "bf16"}

    def child(args: list[str]) -> dict:
        if args[0] == "_peak":
            return {"peak_rss_mib": 100}
        rows = []
        for spec in args[4].split(","):
            side, precision = spec.split(":")
            rows.append({"side": side, "precision": precision, "runs_in": runs_in[spec],
                         "seq_per_s": speed[spec], "batch": 4, "length": 12, "vocab": 30,
                         "backbone_params": 1000})
        return {"rows": rows}

    monkeypatch.setattr(vo, "_child", child)
    res = vo.run(Path("/x"), ["tiny-test"], ["full"], ["fp32", "auto"], 3, 1, 0, [],
                 official_precisions=("fp32", "bf16"))
    got = {(r["ours"]["precision"], r["official"]["precision"]): r["ratio"]
           for r in res["rows"]}
    assert got == {("fp32", "fp32"): 1.5, ("auto", "bf16"): 2.5}
    md = vo.markdown(res)
    assert "| auto (bf16) / bf16 |" in md and "| fp32 / fp32 |" in md
    # with the official side in fp32 only, every row of ours is set against it
    res = vo.run(Path("/x"), ["tiny-test"], ["full"], ["auto"], 3, 1, 0, [])
    assert [r["ratio"] for r in res["rows"]] == [5.0]


def test_the_official_side_refuses_a_precision_it_has_no_path_for(vo) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit, match="official side: precision 'auto'"):
        vo.build_side("tiny-test", "official", "auto", Path(vo.__file__).parent)
