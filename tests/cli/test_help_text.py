"""Every option's help prints whole: rich markup must not swallow a bracketed word."""

from __future__ import annotations

import re

import pytest
import typer.main
from uqa_cli.main import app, main

BRACKETED = re.compile(r"\\?(\[[^\]\s\[]+\])")


def _commands(group, path: tuple[str, ...] = ()):
    if hasattr(group, "commands"):  # a group (of typer's own vendored click)
        for name, sub in group.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path, group


CASES = [(path, m.group(1)) for path, cmd in _commands(typer.main.get_command(app))
         for p in cmd.params for m in BRACKETED.finditer(getattr(p, "help", None) or "")]


def test_some_help_has_brackets() -> None:
    assert (("run",), "[tensorboard]") in CASES


@pytest.mark.parametrize(("path", "word"), CASES)
def test_bracketed_help_survives(path: tuple[str, ...], word: str, capsys,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    try:
        main([*path, "--help"])
    except SystemExit as exc:
        assert not exc.code
    assert word in capsys.readouterr().out
