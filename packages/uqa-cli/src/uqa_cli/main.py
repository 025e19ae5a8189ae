"""The ``uqa`` command: typer app assembled from the modules in ``uqa_cli.commands``."""

from __future__ import annotations

import importlib
import logging
import sys
import warnings

import typer
from uqa_data.errors import UqaError
from uqa_data.progress import console

COMMAND_MODULES: tuple[str, ...] = (
    "uqa_cli.commands.run",
    "uqa_cli.commands.data",
    "uqa_cli.commands.questions",
    "uqa_cli.commands.pretrain",
    "uqa_cli.commands.align",
    "uqa_cli.commands.eval",
    "uqa_cli.commands.report",
    "uqa_cli.commands.registry",
    "uqa_cli.commands.study",
)

app = typer.Typer(
    name="uqa",
    help="Benchmark user embeddings as soft prompts for LLMs (UQABench).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    console.print(f"[yellow]warning:[/] {message}", highlight=False)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app, turning UqaError into a clean message."""
    warnings.showwarning = _show_warning
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(args=argv, standalone_mode=False)
    except UqaError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        sys.exit(code or 0)
    except typer.Abort:
        console.print("[red]aborted[/]")
        sys.exit(130)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]: finished stages are kept; re-run to resume")
        sys.exit(130)
    except Exception as exc:
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
