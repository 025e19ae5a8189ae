"""One writer per run directory: an exclusive lock file, and checks of ``--out``.

:func:`run_lock` takes ``RUN_DIR/.uqa.lock`` with ``fcntl.flock`` for as long as
a command writes into the directory, and writes into it who holds it (pid,
host, command, start time). The kernel drops a ``flock`` when its process
ends, however it ends, so a lock file left behind by a killed process is
free: the next command takes it over and says whose it was. A second writer
while the first is alive gets :class:`RunDirBusyError` naming the holder.

The lock is re-entrant within a process (``uqa run`` holds it while its
stages run) and only rank 0 of a ``torchrun`` job takes it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uqa_data.distributed import is_rank_zero
from uqa_data.errors import UqaError, UqaInputError

if TYPE_CHECKING:
    from uqa_data.layout import RunLayout

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locking
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".uqa.lock"


class RunDirBusyError(UqaError):
    """Another live process holds the run directory's lock."""


_held: dict[str, list[Any]] = {}  # resolved dir -> [fd, depth]


def check_dir_path(path: str | os.PathLike[str], flag: str = "--out",
                   expected: str = "a directory") -> Path:
    """``path`` can be, or be made, a directory: neither it nor a parent is a file.
    Nothing is created.

    :raises UqaInputError: naming ``flag``, the path and the file in the way.
    """
    p = Path(path)
    clash = next((q for q in (p, *p.parents) if q.exists() and not q.is_dir()), None)
    if clash is not None:
        where = "is a file" if clash == p else f"cannot be made ({clash} is a file)"
        raise UqaInputError(f"{flag} {p}: {where}; expected {expected}")
    return p


def check_out_dir(path: str | os.PathLike[str], flag: str = "--out") -> Path:
    """Create ``path`` (and parents) as a writable directory, or raise naming it.

    :raises UqaInputError: ``path`` (or a parent) is a file, or the directory
        cannot be created or written (read-only file system, permissions).
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UqaInputError(f"{flag} {p}: is a file, not a directory; pass a directory "
                            "(it is created when missing)")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        parent = next((q for q in p.parents if q.exists() and not q.is_dir()), None)
        where = f" ({parent} is a file)" if parent is not None else ""
        raise UqaInputError(f"{flag} {p}: cannot create the directory{where}") from exc
    except OSError as exc:
        raise UqaInputError(
            f"{flag} {p}: cannot create the directory: {exc.strerror or exc}"
        ) from exc
    return p


def _whoami(command: str | None) -> dict[str, Any]:
    argv = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "python"
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command or argv,
        "started": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def _read_holder(fd: int) -> dict[str, Any] | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 65536).decode("utf-8", "replace")
        info = json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def describe_holder(info: dict[str, Any] | None) -> str:
    """``pid 123 on host h (uqa run --out x, since 2025-01-01T10:00:00+00:00)``."""
    if not info:
        return "another process (its lock file names no holder)"
    return (f"pid {info.get('pid', '?')} on host {info.get('host', '?')} "
            f"({info.get('command', '?')}, since {info.get('started', '?')})")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def run_lock(
    run_dir: str | os.PathLike[str], command: str | None = None, *, flag: str = "--out"
) -> Iterator[Path]:
    """Hold the exclusive lock of ``run_dir`` (created if needed) for the block.

    :param command: what to record as the holder (default: this process's command line).
    :param flag: the option that named ``run_dir``, for messages.
    :raises RunDirBusyError: another live process holds it.
    :raises UqaInputError: ``run_dir`` is a file or cannot be created or written.
    """
    made = _missing(Path(run_dir))  # what this call creates, deepest first
    run_dir = check_out_dir(run_dir, flag)
    key = str(run_dir.resolve())
    if key in _held:
        _held[key][1] += 1
        try:
            yield run_dir
        finally:
            _held[key][1] -= 1
        return
    if fcntl is None or not is_rank_zero():
        yield run_dir
        return
    path = run_dir / LOCK_NAME
    fd = _acquire(path, run_dir, flag, command)
    _held[key] = [fd, 1]
    failed = True
    try:
        yield run_dir
        failed = False
    finally:
        del _held[key]
        with contextlib.suppress(OSError):
            os.unlink(path)  # still holding the lock: nobody can have taken it
        os.close(fd)  # releases the flock
        if failed:  # directories this call made, left empty by a failed command
            for d in made:
                with contextlib.suppress(OSError):
                    d.rmdir()


def _missing(path: Path) -> list[Path]:
    """``path`` and its parents that do not exist yet, deepest first."""
    out = []
    for p in (path, *path.parents):
        if p.exists() or p == p.parent:
            break
        out.append(p)
    return out


def _acquire(path: Path, run_dir: Path, flag: str, command: str | None) -> int:
    """Open and flock ``path``; retry when it was replaced between open and flock."""
    from uqa_data.progress import console

    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise UqaInputError(
                f"{flag} {run_dir}: cannot write the lock file {path.name}: "
                f"{exc.strerror or exc}"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_holder(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RunDirBusyError(
                    f"{run_dir} is in use by {describe_holder(holder)}; wait for it to "
                    f"finish, or write somewhere else ({flag} ANOTHER_DIR)"
                ) from exc
            raise UqaInputError(f"{flag} {run_dir}: cannot lock {path}: {exc}") from exc
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the previous holder removed it as we opened it: take the new one
            os.close(fd)
            continue
        stale = _read_holder(fd)
        if stale and stale.get("pid") != os.getpid():
            here = stale.get("host") == socket.gethostname()
            pid = stale.get("pid")
            state = ("which is no longer running" if here and isinstance(pid, int)
                     and not _pid_alive(pid) else "which no longer holds it")
            console.print(
                f"[yellow]warning:[/] {run_dir}: took over the lock left by "
                f"{describe_holder(stale)}, {state}; files it was writing were never "
                "renamed into place, finished stages are kept",
                highlight=False, soft_wrap=True,
            )
        info = json.dumps(_whoami(command)).encode()
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, info + b"\n")
        except OSError as exc:
            os.close(fd)
            raise UqaInputError(
                f"{flag} {run_dir}: cannot write the lock file {path.name}: "
                f"{exc.strerror or exc}"
            ) from exc
        return fd


def check_no_import(layout: RunLayout, who: str = "a run on synthetic data") -> None:
    """Synthesizing writes ``raw/``: refuse when ``raw/`` holds a click log ``uqa data
    import`` wrote (no ``synth.json``, no synth stage in ``run.json``), which the
    synthetic one would replace."""
    from uqa_data.prepare import is_synthetic

    if (not (layout.raw / "interactions.arrow").is_file() or is_synthetic(layout.raw)
            or (layout.raw / "truth.arrow").is_file()):  # a synthetic log being written
        return
    record = layout.record()
    if record is not None and record.stage("synth") is not None:
        return  # our own synth stage, interrupted before synth.json
    raise UqaInputError(
        f"--out {layout.root}: {layout.raw} holds an imported click log, which {who} "
        f"would replace; benchmark it with `uqa run --dataset {layout.root}` and another "
        "--out")
