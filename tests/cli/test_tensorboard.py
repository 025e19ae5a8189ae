"""``--log-dir``: pre-training and alignment write TensorBoard event files with the
tensorboard package's writer; read back here with the package's own event reader."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from uqa_cli.main import main


def read_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series of the event files in ``folder``, by the reader TensorBoard's
    own server uses (which drops what a restarted session logged twice)."""
    from tensorboard.backend.event_processing.plugin_event_accumulator import (
        EventAccumulator,
    )
    from tensorboard.util import tensor_util

    acc = EventAccumulator(str(folder), size_guidance={"tensors": 0})  # 0: keep every event
    acc.Reload()
    return {tag: [(e.step, float(tensor_util.make_ndarray(e.tensor_proto)))
                  for e in acc.Tensors(tag)] for tag in acc.Tags()["tensors"]}


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_pretrain_and_align_write_event_files(tmp_path: Path, capsys) -> None:
    run, logs = tmp_path / "run", tmp_path / "logs"
    for args in (["data", "synth", "-o", str(run), "--preset", "tiny"],
                 ["data", "prepare", "-o", str(run), "--preset", "tiny"],
                 ["pretrain", "--out", str(run), "--preset", "tiny", "--log-dir", str(logs)]):
        code, text = cli(args, capsys)
        assert code == 0, text
    pre = read_scalars(logs / "pretrain")
    assert {"train/loss", "train/lr", "train/grad_norm", "train/steps_per_s",
            "eval/hr@10", "eval/ndcg@10", "train/epoch_loss"} <= set(pre)
    import json

    metrics = json.loads((run / "encoder" / "metrics.json").read_text())
    assert len(pre["train/loss"]) == metrics["steps"]
    assert [s for s, _ in pre["eval/hr@10"]] == [h["step"] for h in metrics["history"]]
    assert [round(v, 5) for _, v in pre["eval/hr@10"]] == [
        round(h["hr@10"], 5) for h in metrics["history"]]

    from uqa_align.testing import tiny_llm, write_probe
    from uqa_align.train import AlignConfig, align

    q, e = write_probe(tmp_path, 16, n_cats=4)
    align(q, e, None, tmp_path / "adapter", AlignConfig.from_preset("tiny", steps=5),
          llm=tiny_llm(), log_dir=logs)
    al = read_scalars(logs / "align")
    assert {"train/loss", "train/lr", "train/grad_norm", "train/steps_per_s"} <= set(al)
    assert [s for s, _ in al["train/loss"]] == [1, 2, 3, 4, 5]
    adapter = json.loads((tmp_path / "adapter" / "metrics.json").read_text())
    assert [round(v, 4) for _, v in al["train/loss"]] == [round(x, 4) for x in adapter["losses"]]


def test_log_dir_without_tensorboard_is_one_clear_line(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['tensorboard'] = None\n"
            "from uqa_cli.main import main; main(sys.argv[1:])")
    env = dict(os.environ, UQA_PROGRESS="0")
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", code, "run", "--preset", "tiny", "--out",
                           str(out), "--log-dir", str(tmp_path / "logs")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "pip install 'uqa-cli[tensorboard]'" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


def test_a_resumed_alignment_logs_each_step_once(tmp_path: Path, monkeypatch) -> None:
    """The interrupted process logged a step after its last checkpoint; the resumed one
    logs it again. The resumed event file restarts the session there, so TensorBoard's
    reader keeps each step once."""
    from uqa_align import train as train_mod
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_align.train import AlignConfig, align
    from uqa_data.scalars import ScalarLog

    q, e = write_probe(tmp_path, 16, n_cats=4)
    cfg = AlignConfig.from_preset("tiny", steps=6, checkpoint_every=4, batch_size=4)
    logs = tmp_path / "logs"
    original = ScalarLog.step

    def die_after_step_5(self, step, **values):
        original(self, step, **values)
        if step == 5:  # one step past the checkpoint at 4
            raise KeyboardInterrupt

    monkeypatch.setattr(ScalarLog, "step", die_after_step_5)
    with pytest.raises(KeyboardInterrupt):
        align(q, e, None, tmp_path / "a", cfg, llm=tiny_llm(), log_dir=logs)
    assert (tmp_path / "a" / train_mod.CHECKPOINT_DIR).is_dir()
    monkeypatch.setattr(ScalarLog, "step", original)
    align(q, e, None, tmp_path / "a", cfg, llm=tiny_llm(), log_dir=logs, resume=True)
    assert [s for s, _ in read_scalars(logs / "align")["train/loss"]] == [1, 2, 3, 4, 5, 6]
