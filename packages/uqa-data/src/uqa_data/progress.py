"""Progress of every stage of every uqa package: rich bars on a terminal, plain lines elsewhere.

Usage::

    with stage_progress("pre-train sasrec", total=steps) as bar:
        for step in range(steps):
            ...
            bar.advance(loss=f"{loss:.3f}")

On a terminal this is a rich progress bar. When stderr is not a terminal (CI,
SLURM log files, ``nohup ... > log``), where rich would print nothing until the
stage ends, it prints one plain line when the stage starts, then one every
``UQA_PROGRESS_INTERVAL`` seconds (default 30) or every 10% of the steps,
whichever comes first, and one when it ends::

    [uqa] align mean_linear/adapter: 16/160 (10%) loss=1.234 elapsed 0:00:48 eta 0:07:12

``UQA_PROGRESS=0`` silences both (tests); ``UQA_PROGRESS=plain`` prints the
plain lines on a terminal too.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
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

DEFAULT_INTERVAL = 30.0
"""Seconds between two plain progress lines (``UQA_PROGRESS_INTERVAL``)."""


class StageBar:
    """One progress bar; ``advance`` moves it and shows key=value facts beside it.

    ``StageBar(None, None)`` is a bar that shows nothing.
    """

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


class PlainBar(StageBar):
    """Plain progress lines on stderr: at the start, every ``interval`` s or 10%, at the end."""

    def __init__(self, description: str, total: int | None, interval: float) -> None:
        super().__init__(None, None)
        self.description = description
        self.total = total
        self.interval = interval
        self.completed = 0
        self.facts: dict[str, Any] = {}  # the latest value of each fact given
        self._advanced = False
        self._start_completed = 0  # where this process started (a resumed stage)
        self._started = time.monotonic()
        self._last_time = self._started
        self._last_decile = 0

    def advance(self, n: int = 1, **info: Any) -> None:
        self.completed += n
        self._advanced = True
        self.facts.update(info)
        now = time.monotonic()
        decile = self._decile()
        if self.total and self.completed >= self.total:
            return  # the end gets its own line from finish()
        if decile > self._last_decile or now - self._last_time >= self.interval:
            self._last_decile = decile
            self._print()

    def update(
        self, *, total: int | None = None, completed: int | None = None, **info: Any
    ) -> None:
        if total is not None:
            self.total = total
        if completed is not None:
            self.completed = completed
            if not self._advanced:  # resuming: progress and rate count from here
                self._start_completed = completed
                self._last_decile = self._decile()
        self.facts.update(info)

    def start(self) -> None:
        steps = f" ({self.total} steps)" if self.total else ""
        self._write(f"[uqa] {self.description}: started{steps}")

    def finish(self, failed: bool = False) -> None:
        self._print("stopped" if failed else "done")

    def _decile(self) -> int:
        return min(10, math.floor(10 * self.completed / self.total)) if self.total else 0

    def _print(self, word: str = "") -> None:
        now = time.monotonic()
        elapsed = now - self._started
        parts = [f"[uqa] {self.description}:"]
        if self.total:
            pct = 100.0 * self.completed / self.total
            parts.append(f"{self.completed}/{self.total} ({pct:.0f}%)")
        else:
            parts.append(str(self.completed))
        if self.facts:
            parts.append(" ".join(f"{k}={v}" for k, v in self.facts.items()))
        if word:
            parts.append(word)
        parts.append(f"elapsed {_clock(elapsed)}")
        done = self.completed - self._start_completed
        if not word and self.total and done > 0 and self.completed < self.total:
            parts.append(f"eta {_clock(elapsed / done * (self.total - self.completed))}")
        self._write(" ".join(parts))
        self._last_time = now

    @staticmethod
    def _write(line: str) -> None:
        console.file.write(line + "\n")
        console.file.flush()


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


PROGRESS_VALUES = ("1", "true", "yes", "0", "false", "no", "plain")
"""What ``UQA_PROGRESS`` may be: on (a bar on a terminal), off, or plain lines."""

_warned: set[str] = set()


def _ignored(name: str, raw: str, expected: str) -> None:
    """Warn once per process that ``name=raw`` is ignored."""
    if name not in _warned:
        _warned.add(name)
        warnings.warn(f"{name}={raw!r} is ignored; expected {expected}", stacklevel=3)


def _progress_setting() -> str:
    raw = os.environ.get("UQA_PROGRESS", "1").strip().lower() or "1"
    if raw not in PROGRESS_VALUES:
        _ignored("UQA_PROGRESS", raw, "0 (off), 1 (on) or plain")
        return "1"
    return raw


def enabled() -> bool:
    return _progress_setting() not in ("0", "false", "no")


def plain() -> bool:
    """Whether progress goes out as plain lines: stderr is not a terminal, or asked for."""
    return _progress_setting() == "plain" or not console.is_terminal


def interval() -> float:
    """Seconds between plain progress lines (``UQA_PROGRESS_INTERVAL``, default 30)."""
    raw = os.environ.get("UQA_PROGRESS_INTERVAL")
    if not raw:
        return DEFAULT_INTERVAL
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        _ignored("UQA_PROGRESS_INTERVAL", raw, "seconds, a number >= 0")
        return DEFAULT_INTERVAL
    return value


@contextlib.contextmanager
def stage_progress(description: str, total: int | None) -> Iterator[StageBar]:
    """A progress bar (plain lines off a terminal) for one long step; a no-op when
    ``UQA_PROGRESS=0``."""
    if not enabled():
        yield StageBar(None, None)
        return
    if plain():
        bar = PlainBar(description, total, interval())
        bar.start()
        try:
            yield bar
        except BaseException:
            bar.finish(failed=True)
            raise
        bar.finish()
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
