"""The ``uqa`` command: typer app assembled from the modules in ``uqa_cli.commands``."""

from __future__ import annotations

import importlib

from uqa_eval.console_script import console_app, run_console_app

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

app = console_app("uqa", "Benchmark user embeddings as soft prompts for LLMs (UQABench).")

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: usage errors, UqaError and interrupts become one line."""
    run_console_app(app, argv, interrupted="finished files are kept; re-run the command to resume",
                    prog_name="uqa")


if __name__ == "__main__":
    main()
