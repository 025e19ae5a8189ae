"""Running a typer app as a console script, shared by ``uqa`` and ``uqa-eval``.

It lives in uqa-eval, the lowest package with a console script, which declares the
typer it knows (``typer>=0.29,<0.30``); uqa-cli, which depends on uqa-eval, uses it too.

Outcomes and exit statuses:

- a usage error (unknown command or option, a missing or mistyped value): the
  usage line, a ``Try ... --help`` line and one ``Error:`` line (with a close
  match for a mistyped command or option), status 2;
- a :class:`~uqa_data.errors.UqaError`: one red ``error:`` line, status 2;
- Ctrl-C (SIGINT) or SIGTERM: one line naming what was interrupted and how
  to resume it (:mod:`uqa_data.activity`), status 130 (SIGINT) or 143 (SIGTERM);
- warnings print as one yellow line each.

typer vendors its own copy of click (``typer._click``) whose exceptions are not
``click``'s; both families are caught, so the outcome does not depend on which
one the installed typer raises.
"""

from __future__ import annotations

import logging
import signal
import sys
import warnings
from collections.abc import Callable
from types import FrameType
from typing import Any

from rich.markup import escape
from uqa_data import activity
from uqa_data.distributed import is_rank_zero
from uqa_data.errors import UqaError
from uqa_data.progress import console


class Interrupted(BaseException):
    """Raised by the signal handler; a BaseException so that no ``except Exception``
    (nor typer's own ``except KeyboardInterrupt``) swallows it."""

    def __init__(self, signum: int, during: str = "") -> None:
        super().__init__(signum)
        self.signum = signum
        self.during = during  # read when the signal came: the stack unwinds before we print


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


class _LogLines(logging.Handler):
    """Log records as the command's other lines: ``warning: ...``, ``error: ...`` on the
    console (stderr), like :func:`warnings.warn` messages."""

    def emit(self, record: logging.LogRecord) -> None:
        level = record.levelname.lower()
        colour = "yellow" if level == "warning" else "red" if level in ("error", "critical") \
            else "blue"
        console.print(f"[{colour}]{level}:[/] {escape(record.getMessage())}", highlight=False,
                      soft_wrap=True)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    # A second Ctrl-C while cleaning up ends the process at once.
    signal.signal(signum, signal.SIG_DFL)
    raise Interrupted(signum, activity.describe())


def click_exception_types() -> dict[str, tuple[type[BaseException], ...]]:
    """``{"usage": ..., "exit": ..., "abort": ...}``: exception classes of every click
    flavour importable here (typer's vendored ``typer._click`` and ``click``)."""
    modules = []
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            modules.append(__import__(name, fromlist=["ClickException"]))
        except ImportError:
            continue
    usage: list[type[BaseException]] = []
    exits: list[type[BaseException]] = []
    aborts: list[type[BaseException]] = []
    for mod in modules:
        usage.append(mod.ClickException)
        for attr, into in (("Exit", exits), ("Abort", aborts)):
            if hasattr(mod, attr):
                into.append(getattr(mod, attr))
    try:
        import typer

        exits.append(typer.Exit)
        aborts.append(typer.Abort)
    except ImportError:  # pragma: no cover - uqa always installs typer
        pass
    return {"usage": tuple(usage), "exit": tuple(exits), "abort": tuple(aborts)}


def console_app(name: str, help: str) -> Any:
    """A typer app as every uqa console script makes it: help when called bare, no shell
    completion, no rich tracebacks (:func:`run_console_app` reports errors), and
    ``--version`` printing the versions a run records (:func:`print_versions`)."""
    import typer

    app = typer.Typer(name=name, help=help, no_args_is_help=True, add_completion=False,
                      pretty_exceptions_enable=False)

    def show_version(value: bool) -> None:
        if value:
            print_versions()
            raise typer.Exit()

    @app.callback()
    def _options(
        version: bool = typer.Option(
            False, "--version", is_eager=True, callback=show_version,
            help="Print the versions of uqa's packages, their main dependencies, every "
            "plugin distribution loaded and Python, then exit."),
    ) -> None:
        pass

    return app


def print_versions() -> None:
    """One ``name version`` line per distribution that ``run.json`` records
    (:func:`uqa_eval.pipeline.package_versions`), then Python's."""
    import platform

    from uqa_eval.pipeline import package_versions

    for dist, version in package_versions().items():
        print(f"{dist} {version}")
    print(f"python {platform.python_version()}")


def run_console_app(
    app: Callable[..., Any], argv: list[str] | None = None, *, interrupted: str = "",
    prog_name: str | None = None,
) -> None:
    """Call a typer/click ``app`` and turn its outcome into an exit status.

    :param app: the typer app (called with ``standalone_mode=False``).
    :param argv: arguments (default: ``sys.argv[1:]``).
    :param interrupted: what to say on an interrupt when no stage recorded an
        activity (e.g. "finished stages are kept").
    :param prog_name: the command's name in usage lines (``uqa``), however it was started.
    """
    warnings.showwarning = _show_warning
    logging.basicConfig(level=logging.WARNING, handlers=[_LogLines()])
    kinds = click_exception_types()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, _on_signal)
    try:
        result = app(args=argv, prog_name=prog_name, standalone_mode=False)
    except Interrupted as exc:
        _report_interrupt(exc.signum, exc.during or interrupted)
    except KeyboardInterrupt:  # raised where no handler of ours ran (another thread's handler)
        _report_interrupt(signal.SIGINT, interrupted)
    except UqaError as exc:
        if is_rank_zero():  # under torchrun every rank finds the same error
            console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except kinds["exit"] as exc:
        sys.exit(getattr(exc, "exit_code", 0) or 0)
    except kinds["abort"]:
        console.print("[red]aborted[/]")
        sys.exit(130)
    except kinds["usage"] as exc:
        if is_rank_zero():
            exc.show()  # usage line, "Try ... --help", "Error: ..." (with close matches)
        sys.exit(getattr(exc, "exit_code", 2))
    finally:
        for s, handler in previous.items():
            if handler is not None:
                signal.signal(s, handler)
    # typer turns a KeyboardInterrupt it sees into Exit(130) and, without standalone
    # mode, returns the code instead of raising it.
    if isinstance(result, int) and not isinstance(result, bool) and result:
        if result == 130:
            _report_interrupt(signal.SIGINT, interrupted)
        sys.exit(result)


def _report_interrupt(signum: int, what: str) -> None:
    name = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
    console.print(f"[red]interrupted[/] ({name}){': ' + what if what else ''}",
                  highlight=False, soft_wrap=True)
    sys.exit(128 + int(signum))
