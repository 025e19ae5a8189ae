"""What every single-stage command does around its work: lock the run directory, and
record what it does for the message an interrupt prints."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from uqa_data import activity
from uqa_data.rundir import run_lock


@contextlib.contextmanager
def writing_into(out: Path, command: str, *, resume: str | Callable[[], str] = "",
                 flag: str = "--out") -> Iterator[Path]:
    """Hold ``out``'s lock (:func:`uqa_data.rundir.run_lock`) while ``uqa COMMAND`` writes.

    :param resume: how to continue after an interrupt (default: re-run the command).
    """
    hint = resume or "files already written are kept (writes are atomic); re-run it to finish"
    with run_lock(out, flag=flag), activity.doing(f"`uqa {command}` in {out}", resume=hint):
        yield out


def resume_from(checkpoint: Path) -> Callable[[], str]:
    """The hint of a training command, told when the interrupt comes: continue with
    ``--resume`` from ``checkpoint`` if one has been written by then, else start over."""

    def hint() -> str:
        if checkpoint.is_dir() and any(checkpoint.iterdir()):
            return f"re-run it with --resume to continue from {checkpoint}"
        return (f"no checkpoint was written yet ({checkpoint}); re-running starts over "
                "(checkpoints come every checkpoint_every steps)")

    return hint
