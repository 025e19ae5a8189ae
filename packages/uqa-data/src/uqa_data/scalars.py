"""Training scalars as TensorBoard event files (``--log-dir``), written with the
``tensorboard`` package's own writer (an optional dependency: ``uqa-cli[tensorboard]``).

Pre-training and alignment each write into their own folder under the log directory
(``pretrain/``, ``align/``, ``align-<baseline>/``), so ``tensorboard --logdir DIR`` shows
them as separate runs. Tags: ``train/loss``, ``train/lr``, ``train/grad_norm``,
``train/steps_per_s`` per optimizer step; ``eval/hr@10``, ``eval/ndcg@10`` and
``train/epoch_loss`` per pre-training epoch.
"""

from __future__ import annotations

import importlib.util
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from uqa_data.errors import UqaInputError

INSTALL_HINT = "pip install 'uqa-cli[tensorboard]' (or pip install tensorboard)"


def require_tensorboard(flag: str = "--log-dir") -> None:
    """Raise a one-line :class:`UqaInputError` when the ``tensorboard`` package is missing."""
    try:
        found = importlib.util.find_spec("tensorboard") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise UqaInputError(
            f"{flag} writes TensorBoard event files with the 'tensorboard' package, which is "
            f"not installed; install it with {INSTALL_HINT}"
        )


def check_log_dir(log_dir: str | os.PathLike[str], flag: str = "--log-dir") -> None:
    """``log_dir`` can take event files: tensorboard is installed and neither the folder
    nor a parent of it is a file. Nothing is created."""
    from uqa_data.rundir import check_dir_path

    require_tensorboard(flag)
    check_dir_path(log_dir, flag, "a directory for the event files")


class ScalarLog:
    """One training stage's event files in ``log_dir``; ``step()`` also measures steps/s.

    :param start_step: the steps a resumed stage had finished (its checkpoint's), else 0.
        Each event file opens with a session start at the next step; for a resumed stage
        TensorBoard reads it as a restart and drops what the interrupted process logged
        after its last checkpoint, instead of showing those steps twice (steps are logged
        1-based: step 1 is the first optimizer step).
    """

    def __init__(self, log_dir: str | os.PathLike[str], start_step: int = 0) -> None:
        require_tensorboard()
        from tensorboard.summary import DirectoryOutput, Writer

        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        output = DirectoryOutput(str(self.log_dir))
        # every session opens with a START (TensorBoard takes the first as no restart)
        _session_start(output, start_step + 1)
        self._writer = Writer(output)
        self._last: float | None = None

    def scalars(self, step: int, values: Mapping[str, Any]) -> None:
        """Write each finite value of ``values`` (tag -> number) at ``step``."""
        for tag, value in values.items():
            if value is None:
                continue
            v = float(value)
            if math.isfinite(v):
                self._writer.add_scalar(tag, v, int(step))

    def step(self, step: int, **values: Any) -> None:
        """The scalars of one optimizer step under ``train/``, plus ``train/steps_per_s``."""
        now = time.perf_counter()
        if self._last is not None and now > self._last:
            values["steps_per_s"] = 1.0 / (now - self._last)
        self._last = now
        self.scalars(step, {f"train/{k}": v for k, v in values.items()})

    def close(self) -> None:
        self._writer.close()


def _session_start(output: Any, step: int) -> None:
    """Open ``output``'s event file with a session START at ``step``: after a first one,
    TensorBoard purges the run's earlier events at or after ``step`` (a restart)."""
    from tensorboard.compat.proto.event_pb2 import Event, SessionLog

    writer = getattr(output, "_ev_writer", None)  # DirectoryOutput's file writer
    if writer is not None:
        writer.add_event(Event(wall_time=time.time(), step=int(step),
                               session_log=SessionLog(status=SessionLog.START)))


def open_log(log_dir: str | os.PathLike[str] | None, name: str, rank: int = 0,
             start_step: int = 0) -> ScalarLog | None:
    """``ScalarLog(log_dir / name, start_step)`` on rank 0 when ``log_dir`` is given, else
    None."""
    if log_dir is None or rank != 0:
        return None
    return ScalarLog(Path(log_dir) / name, start_step)
