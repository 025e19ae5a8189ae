"""Running a typer app as a console script, shared by ``uqa`` and ``uqa-eval``.

Warnings print as one yellow line, a :class:`~uqa_data.errors.UqaError` as one
red line with exit status 2 (no traceback), an interrupt with status 130.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Callable
from typing import Any

from rich.markup import escape

from uqa_data.errors import UqaError
from uqa_data.progress import console


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


def run_console_app(
    app: Callable[..., Any], argv: list[str] | None = None, *, interrupted: str = ""
) -> None:
    """Call a typer/click ``app`` and turn its outcome into an exit status.

    :param app: the typer app (called with ``standalone_mode=False``).
    :param argv: arguments (default: ``sys.argv[1:]``).
    :param interrupted: extra words after "interrupted" on Ctrl-C.
    """
    import click

    warnings.showwarning = _show_warning
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(args=argv, standalone_mode=False)
    except UqaError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code or 0)
    except SystemExit as exc:
        sys.exit(exc.code or 0)
    except click.exceptions.Abort:
        console.print("[red]aborted[/]")
        sys.exit(130)
    except KeyboardInterrupt:
        console.print(f"[red]interrupted[/]{interrupted}")
        sys.exit(130)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
