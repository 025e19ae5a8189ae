"""Training curves in every run's report: pre-training loss and HR@10 per epoch, alignment
loss per step beside the controls aligned on their own, as PNG and as arrays."""

from __future__ import annotations

import json
from pathlib import Path

from uqa_eval.report import summarize, write_report


def test_report_carries_the_curves_of_the_run_and_its_controls(tmp_path: Path) -> None:
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_align.train import AlignConfig, align
    from uqa_data.prepare import PrepareConfig, prepare
    from uqa_data.synth import synthesize
    from uqa_encoders.pretrain import PretrainConfig, pretrain
    from uqa_eval.curves import attach_curves

    run = tmp_path / "run"
    synthesize(run, preset="tiny", seed=1)
    prepare(run / "raw", run / "data", PrepareConfig.from_preset("tiny"))
    pretrain(run / "data", run / "encoder", PretrainConfig.from_preset("tiny", encoder="gru4rec"))
    q, e = write_probe(tmp_path, 16, n_cats=4)
    align(q, e, None, run / "adapter", AlignConfig.from_preset("tiny", steps=6), llm=tiny_llm())
    align(q, e, None, run / "baselines" / "random" / "adapter",
          AlignConfig.from_preset("tiny", steps=4, seed=5), llm=tiny_llm())
    (run / "baselines" / "shuffled").mkdir()  # evaluated with the run's own adapter

    report = attach_curves(summarize(["df", "ip", "li"], [True, False, True],
                                     meta={"run": "demo"}), run)
    written = write_report(report, run / "report")

    png = (run / "report" / "curves.png").read_bytes()
    assert written["curves"].endswith("curves.png") and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run / "report" / "accuracy.png").is_file()
    saved = json.loads((run / "report" / "report.json").read_text())["curves"]
    history = json.loads((run / "encoder" / "metrics.json").read_text())["history"]
    assert saved["pretrain"]["epoch"] == [1, 2, 3]
    assert saved["pretrain"]["loss"] == [h["loss"] for h in history]
    assert saved["pretrain"]["hr@10"] == [h["hr@10"] for h in history]
    assert 0 <= saved["pretrain"]["most_popular_hr@10"] <= 1
    losses = json.loads((run / "adapter" / "metrics.json").read_text())["losses"]
    assert saved["align"] == {"step": [1, 2, 3, 4, 5, 6], "loss": losses}
    assert saved["controls"]["random"]["step"] == [1, 2, 3, 4]
    assert saved["shared_adapter"] == ["shuffled"]


def test_a_report_without_training_files_has_no_curves(tmp_path: Path) -> None:
    from uqa_eval.curves import attach_curves

    report = attach_curves(summarize(["df"], [True], meta={"run": "x"}), tmp_path)
    written = write_report(report, tmp_path / "report")
    assert "curves" not in report and "curves" not in written
    assert not (tmp_path / "report" / "curves.png").exists()
