"""What every single-stage command does around its work: lock the run directory, and
record what it does for the message an interrupt prints."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from uqa_data import activity
from uqa_data.rundir import run_lock


@contextlib.contextmanager
def writing_into(out: Path, command: str, *, resume: str = "", flag: str = "--out"
                 ) -> Iterator[Path]:
    """Hold ``out``'s lock (:func:`uqa_data.rundir.run_lock`) while ``uqa COMMAND`` writes.

    :param resume: how to continue after an interrupt (default: re-run the command).
    """
    hint = resume or "files already written are kept (writes are atomic); re-run it to finish"
    with run_lock(out, flag=flag), activity.doing(f"`uqa {command}` in {out}", resume=hint):
        yield out
