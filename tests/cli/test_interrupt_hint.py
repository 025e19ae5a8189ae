"""What an interrupted training command says about resuming is true when it is said."""

from __future__ import annotations

from pathlib import Path

from uqa_cli.writing import resume_from, writing_into
from uqa_data import activity


def test_the_hint_follows_the_checkpoint(tmp_path: Path) -> None:
    checkpoint = tmp_path / "run" / "adapter" / "checkpoint"
    with writing_into(tmp_path / "run", "align", resume=resume_from(checkpoint)):
        before = activity.describe()
        checkpoint.mkdir(parents=True)
        (checkpoint / "state.safetensors").write_bytes(b"x")
        after = activity.describe()
    assert before.startswith(f"`uqa align` in {tmp_path / 'run'}; ")
    assert "no checkpoint was written yet" in before and "--resume" not in before
    assert after.endswith(f"re-run it with --resume to continue from {checkpoint}")
    assert activity.describe() == ""
