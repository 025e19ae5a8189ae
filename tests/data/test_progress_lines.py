"""Progress off a terminal (CI, SLURM, nohup): plain lines at a steady interval, not silence."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

SCRIPT = """
import sys, time
from uqa_data.progress import stage_progress
total = int(sys.argv[1])
with stage_progress("align demo", total=total or None) as bar:
    for i in range(int(sys.argv[2])):
        time.sleep(float(sys.argv[3]))
        bar.advance(loss=f"{1.0 / (i + 1):.3f}")
"""


def run_with_stderr_file(tmp_path: Path, *args: str, **env: str) -> list[str]:
    log = tmp_path / "stderr.log"
    clean = {k: v for k, v in os.environ.items() if k != "UQA_PROGRESS"}
    with log.open("w") as fh:
        proc = subprocess.run([sys.executable, "-c", SCRIPT, *args], stderr=fh,
                              stdout=subprocess.DEVNULL, env={**clean, **env}, timeout=60)
    assert proc.returncode == 0, log.read_text()
    return log.read_text().splitlines()


def test_a_stage_prints_a_line_every_tenth_with_loss_elapsed_and_eta(tmp_path: Path) -> None:
    lines = run_with_stderr_file(tmp_path, "40", "40", "0")
    assert lines[0] == "[uqa] align demo: started (40 steps)"
    middle = lines[1:-1]
    assert [int(re.search(r": (\d+)/40 ", m).group(1)) for m in middle] == list(range(4, 40, 4))
    for m in middle:
        assert re.search(r"\(\d+%\) loss=\d\.\d{3} elapsed \d:\d\d:\d\d eta \d:\d\d:\d\d$", m), m
    assert re.fullmatch(r"\[uqa\] align demo: 40/40 \(100%\) loss=0\.025 done elapsed \S+",
                        lines[-1])


def test_lines_also_come_at_the_time_interval(tmp_path: Path) -> None:
    # 1000 steps: no tenth is reached in 6 steps, so only the clock prints them
    lines = run_with_stderr_file(tmp_path, "1000", "6", "0.12", UQA_PROGRESS_INTERVAL="0.1")
    steps = [m for m in lines if re.search(r": \d+/1000 \(\d+%\) loss=", m) and "done" not in m]
    assert len(steps) >= 4, lines


def test_progress_zero_still_silences(tmp_path: Path) -> None:
    assert run_with_stderr_file(tmp_path, "10", "10", "0", UQA_PROGRESS="0") == []


@pytest.mark.parametrize(("name", "raw", "expected"), [
    ("UQA_PROGRESS", "bogus", "UQA_PROGRESS='bogus' is ignored; expected 0 (off), 1 (on) or "
     "plain"),
    ("UQA_PROGRESS_INTERVAL", "abc", "UQA_PROGRESS_INTERVAL='abc' is ignored; expected "
     "seconds"),
    ("UQA_PROGRESS_INTERVAL", "-1", "UQA_PROGRESS_INTERVAL='-1' is ignored"),
])
def test_a_bad_progress_setting_is_named_once_and_the_default_kept(
        monkeypatch: pytest.MonkeyPatch, name: str, raw: str, expected: str) -> None:
    from uqa_data import progress

    monkeypatch.setattr(progress, "_warned", set())
    monkeypatch.delenv("UQA_PROGRESS", raising=False)
    monkeypatch.setenv(name, raw)
    with pytest.warns(UserWarning, match=expected.replace("(", r"\(").replace(")", r"\)")):
        on, every = progress.enabled(), progress.interval()
    assert on and every == progress.DEFAULT_INTERVAL  # the defaults
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per process
        progress.enabled()
        progress.interval()
