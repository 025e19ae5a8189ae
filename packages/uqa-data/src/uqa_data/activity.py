"""What the process is doing right now, for the message an interrupt prints.

Stages push an entry with :func:`doing` (what runs, and how to resume it);
:func:`describe` gives the innermost entry. Only the console script reads it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Activity:
    """One thing in progress: ``what`` (``stage 'align' of runs/x``) and ``resume`` (a hint,
    or a function giving it when the interrupt comes: whether a checkpoint exists by then)."""

    what: str
    resume: str | Callable[[], str] = ""

    def hint(self) -> str:
        return self.resume() if callable(self.resume) else self.resume


_stack: list[Activity] = []


@contextlib.contextmanager
def doing(what: str, resume: str | Callable[[], str] = "") -> Iterator[Activity]:
    """Record ``what`` as in progress for the duration of the block."""
    entry = Activity(what, resume)
    _stack.append(entry)
    try:
        yield entry
    finally:
        with contextlib.suppress(ValueError):
            _stack.remove(entry)


def current() -> Activity | None:
    """The innermost activity in progress, or None."""
    return _stack[-1] if _stack else None


def describe() -> str:
    """The innermost activity, then every resume hint from outer to inner, ``;``-joined.

    ``"stage 'align' of runs/x; finished stages are kept; re-run `uqa run ...` to
    resume; alignment then continues from its last checkpoint"``, or ``""`` when
    nothing runs.
    """
    now = current()
    if now is None:
        return ""
    hints = [h for h in (a.hint() for a in _stack) if h]
    return "; ".join([now.what, *hints])
