"""Parser-level mistakes print the usage line and one error line, exit 2, no traceback.

Checked against the typer that ``make install`` installs (it vendors its own click
as ``typer._click``), and its version range is pinned in the packages' metadata.
"""

from __future__ import annotations

from importlib import metadata

import pytest
from cli_helpers import run_uqa
from packaging.requirements import Requirement

CASES = [
    (["rnu"], "Usage: uqa [OPTIONS] COMMAND", "No such command 'rnu'. Did you mean 'run'?"),
    (["run", "--seed", "abc"], "Usage: uqa run [OPTIONS]", "Invalid value for '--seed'"),
    (["run", "--outt", "x"], "Usage: uqa run [OPTIONS]", "No such option: --outt"),
    (["data", "import", "--out", "/tmp/x", "in.csv"], "Usage: uqa data import",
     "Missing option '--format'"),
]


@pytest.mark.parametrize(("args", "usage", "error"), CASES)
def test_usage_error_prints_usage_and_one_error_line(args, usage, error) -> None:
    proc = run_uqa(*args)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert usage in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and error in errors[0], proc.stderr


def test_mistyped_option_suggests_the_close_one() -> None:
    proc = run_uqa("run", "--outt", "x")
    assert "Possible options: --out" in proc.stderr


def test_uqa_eval_missing_option() -> None:
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "uqa_eval.cli", "score-embeddings", "--embeddings", "e.arrow"],
        capture_output=True, text=True, env=dict(os.environ, UQA_PROGRESS="0"), timeout=300,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert "Usage: uqa-eval score-embeddings" in proc.stderr
    assert "Missing option '--align-questions'" in proc.stderr


@pytest.mark.parametrize("dist", ["uqa-cli", "uqa-eval"])
def test_typer_range_is_pinned_and_installed(dist: str) -> None:
    """An upper bound on typer, met by the installed one, whose click is typer._click."""
    reqs = [Requirement(r) for r in metadata.requires(dist) or []]
    typer_req = next(r for r in reqs if r.name == "typer")
    assert any(s.operator in ("<", "<=", "==", "~=") for s in typer_req.specifier), typer_req
    installed = metadata.version("typer")
    assert typer_req.specifier.contains(installed), (typer_req, installed)

    from typer._click.exceptions import UsageError
    from uqa_eval.console_script import click_exception_types

    assert UsageError in click_exception_types()["usage"] or any(
        issubclass(UsageError, t) for t in click_exception_types()["usage"])


LOGS = """
import logging, typer
from uqa_eval.console_script import run_console_app
app = typer.Typer()

@app.command()
def speak() -> None:
    logging.getLogger("uqa_align.train").warning("align step %d: skipped", 3)

@app.command()
def other() -> None:
    pass

run_console_app(app, ["speak"])
"""


def test_log_records_print_as_the_commands_own_lines() -> None:
    """A library's ``log.warning`` reads like a ``warnings.warn`` line: ``warning: ...``
    (in a fresh interpreter: a test process has pytest's own log handlers)."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", LOGS], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "warning: align step 3: skipped", proc.stderr
