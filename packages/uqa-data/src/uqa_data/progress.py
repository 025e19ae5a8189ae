"""Rich progress bars shared by every stage of every uqa package.

Usage::

    with stage_progress("pre-train sasrec", total=steps) as bar:
        for step in range(steps):
            ...
            bar.advance(loss=f"{loss:.3f}")

Set ``UQA_PROGRESS=0`` to silence bars (tests, logs).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
"""The stderr console every package prints progress and tables to."""


class StageBar:
    """One progress bar; ``advance`` moves it and shows key=value facts beside it."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress = progress
        self._task = task

    def advance(self, n: int = 1, **info: Any) -> None:
        if self._progress is None or self._task is None:
            return
        facts = " ".join(f"{k}={v}" for k, v in info.items())
        self._progress.update(self._task, advance=n, facts=facts)

    def update(
        self, *, total: int | None = None, completed: int | None = None, **info: Any
    ) -> None:
        if self._progress is None or self._task is None:
            return
        kwargs: dict[str, Any] = {}
        if total is not None:
            kwargs["total"] = total
        if completed is not None:
            kwargs["completed"] = completed
        if info:
            kwargs["facts"] = " ".join(f"{k}={v}" for k, v in info.items())
        self._progress.update(self._task, **kwargs)


def enabled() -> bool:
    return os.environ.get("UQA_PROGRESS", "1") not in ("0", "false", "no")


@contextlib.contextmanager
def stage_progress(description: str, total: int | None) -> Iterator[StageBar]:
    """A progress bar for one long step; a no-op when ``UQA_PROGRESS=0``."""
    if not enabled():
        yield StageBar(None, None)
        return
    progress = Progress(
        TextColumn("[bold blue]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[facts]}"),
        console=console,
    )
    with progress:
        task = progress.add_task(description, total=total, facts="")
        yield StageBar(progress, task)
