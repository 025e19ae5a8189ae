"""One writer per run directory; ``--out`` that cannot be a run directory is named."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import file_text, run_uqa, stage_status, start_uqa, uqa_env, wait_for


def test_second_writer_is_refused_naming_the_holder(tmp_path: Path) -> None:
    out = tmp_path / "r"
    first = start_uqa("run", "--preset", "tiny", "--out", str(out), "--baselines", "",
                      "--until", "pretrain", "--set", "pretrain.epochs=200")
    try:
        lock = out / ".uqa.lock"
        wait_for(lambda: f'"pid": {first.pid}' in file_text(lock), first, "the lock")
        wait_for(lambda: stage_status(out, "pretrain") == "running", first, "pre-training")
        second = run_uqa("run", "--preset", "tiny", "--out", str(out), "--encoder", "gru4rec",
                         "--baselines", "", "--until", "pretrain")
        assert second.returncode == 2, second.stderr[-2000:]
        assert "Traceback" not in second.stderr
        assert f"is in use by pid {first.pid} on host {socket.gethostname()}" in second.stderr
        settings = json.loads((out / "run.json").read_text())["settings"]
        assert settings["encoder"] == "sasrec"  # the second run changed nothing
        # every single-stage command takes the same lock
        stage = run_uqa("pretrain", "--out", str(out), "--preset", "tiny")
        assert stage.returncode == 2 and f"pid {first.pid}" in stage.stderr
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=120)
    assert not (out / ".uqa.lock").exists()


def test_lock_of_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "r"
    code = ("import os, sys\nfrom uqa_data.rundir import run_lock\n"
            "held = run_lock(sys.argv[1], 'uqa run (killed)')\nheld.__enter__()\n"
            "os.kill(os.getpid(), 9)\n")
    dead = subprocess.run([sys.executable, "-c", code, str(out)], env=uqa_env(), timeout=120)
    assert dead.returncode == -signal.SIGKILL
    assert '"uqa run (killed)"' in (out / ".uqa.lock").read_text()  # left behind
    proc = run_uqa("data", "synth", "--out", str(out), "--preset", "tiny")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "took over the lock left by pid" in proc.stderr
    assert "uqa run (killed)" in proc.stderr and "no longer running" in proc.stderr
    assert (out / "raw" / "interactions.arrow").is_file()
    assert not (out / ".uqa.lock").exists()


def test_out_that_is_a_file_is_named(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("mine\n")
    for args in (["run", "--preset", "tiny"], ["data", "synth", "--preset", "tiny"]):
        proc = run_uqa(*args, "--out", str(target))
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr
        assert f"--out {target}: is a file, not a directory" in proc.stderr
    assert target.read_text() == "mine\n"
    proc = run_uqa("data", "synth", "--preset", "tiny", "--out", str(target / "sub"))
    assert proc.returncode == 2 and f"({target} is a file)" in proc.stderr


def test_out_on_a_read_only_file_system_is_named(tmp_path: Path) -> None:
    """A read-only bind mount in a private mount namespace (``unshare``): real EROFS."""
    unshare = shutil.which("unshare")
    ro = tmp_path / "ro"
    (ro / "existing").mkdir(parents=True)
    script = (f"mount --bind {ro} {ro} && mount -o remount,ro,bind {ro} && "
              f"{sys.executable} -m uqa_cli.main data synth --preset tiny --out {ro}/new; "
              f"echo status=$?; {sys.executable} -m uqa_cli.main run --preset tiny "
              f"--out {ro}/existing; echo status=$?")
    if unshare is None or subprocess.run([unshare, "-rm", "true"]).returncode != 0:
        pytest.skip("needs unshare -rm (user and mount namespaces)")
    proc = subprocess.run([unshare, "-rm", "sh", "-c", script], capture_output=True, text=True,
                          env=uqa_env(), timeout=300)
    text = proc.stdout + proc.stderr
    assert text.count("status=2") == 2, text[-3000:]
    assert "Traceback" not in text
    assert f"--out {ro}/new: cannot create the directory: Read-only file system" in text
    assert (f"--out {ro}/existing: cannot write the lock file .uqa.lock: Read-only file "
            "system") in text
    assert os.listdir(ro / "existing") == []


def test_a_failed_command_leaves_no_directory_it_made(tmp_path: Path) -> None:
    """The lock's directory, made for a command that then fails with nothing written, goes;
    one that existed before, or holds anything, stays."""
    from uqa_data.errors import UqaInputError
    from uqa_data.rundir import run_lock

    made = tmp_path / "made"
    with pytest.raises(UqaInputError), run_lock(made):
        raise UqaInputError("bad input")
    assert not made.exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    with pytest.raises(UqaInputError), run_lock(kept):
        raise UqaInputError("bad input")
    assert kept.is_dir() and not any(kept.iterdir())
    written = tmp_path / "written"
    with pytest.raises(UqaInputError), run_lock(written):
        (written / "raw").mkdir()
        raise UqaInputError("bad input")
    assert (written / "raw").is_dir()
    with run_lock(made):
        pass
    assert made.is_dir()  # a command that succeeds keeps its directory


def test_import_of_a_bad_file_leaves_no_out_directory(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("uid,iid,ts\n1,10,100\n")
    out = tmp_path / "imported"
    proc = run_uqa("data", "import", str(log), "--format", "csv", "--out", str(out))
    assert proc.returncode == 2 and "missing column 'user_id'" in proc.stderr
    assert not out.exists()
