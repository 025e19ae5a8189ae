"""Reading and writing the Arrow, JSON and text files passed between stages.

Every write is atomic: the bytes go to a temporary file in the same folder,
which is then renamed over the target. An interrupted stage therefore leaves
either the old file or the new one, never half of one. Files and folders get
the permissions ``open()`` and ``mkdir()`` would give them (0666 / 0777 less
the umask), not the private 0600 / 0700 of temporary files.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from uqa_data.errors import UqaInputError


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, but brief)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: 0666 less the umask."""
    return 0o666 & ~current_umask()


def dir_mode() -> int:
    """The mode ``mkdir`` gives a new folder: 0777 less the umask."""
    return 0o777 & ~current_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    On an exception the temporary file is removed and ``path`` is untouched.
    The file ends with the umask's permissions, as ``open()`` would create it.
    """
    target = Path(path)
    if target.is_dir():
        raise UqaInputError(f"{target}: is a directory; expected a file path to write")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # after the write: some writers (safetensors) replace the file they are given
        os.chmod(tmp, file_mode())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; rename it to ``path`` on success.

    The folder and everything in it get ``mkdir``'s and ``open``'s permissions
    (umask honoured). When ``path``
    already exists once the block ends (another process made it first), the
    temporary folder is removed and ``path`` is kept. On an exception the
    temporary folder is removed.
    """
    import shutil

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        # what the block wrote gets open()'s and mkdir()'s permissions too (some writers
        # create private temporary files and rename them into place)
        for root, dirs, files in os.walk(tmp):
            for d in dirs:
                os.chmod(os.path.join(root, d), dir_mode())
            for f in files:
                os.chmod(os.path.join(root, f), file_mode())
        os.chmod(tmp, dir_mode())
        try:
            os.replace(tmp, target)
        except OSError:
            if not target.is_dir():
                raise
            shutil.rmtree(tmp)  # someone else finished it first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    """``path`` as a Path when it is an existing file, else raise saying why not.

    :raises UqaInputError: ``{what} not found: PATH`` or ``PATH: is a directory``.
    """
    p = Path(path)
    if p.is_dir():
        raise UqaInputError(f"{what} {p}: is a directory; expected a file")
    if not p.is_file():
        raise UqaInputError(f"{what} not found: {p}")
    return p


def write_table(table: pa.Table, path: str | os.PathLike[str]) -> Path:
    """Write ``table`` as an Arrow IPC file, atomically."""
    with atomic_path(path) as tmp, pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(
        sink, table.schema
    ) as writer:
        writer.write_table(table)
    return Path(path)


def write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    text = json.dumps(obj, indent=2, default=_json_default)
    return write_text(text + "\n", path)


def write_text(text: str, path: str | os.PathLike[str]) -> Path:
    """Write ``text`` (UTF-8), atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(data: bytes, path: str | os.PathLike[str]) -> Path:
    """Write ``data``, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def file_digest(path: str | os.PathLike[str]) -> str:
    """A digest of the whole file's bytes (cached by path, size and modification time, so
    a file written again is read again)."""
    p = Path(path).resolve()
    st = p.stat()
    return _digest(str(p), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_json(path: str | os.PathLike[str], what: str = "JSON file") -> Any:
    """Read JSON, with an error naming the file when it is missing or malformed."""
    p = check_file(path, what)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UqaInputError(f"{p}: not valid JSON ({exc})") from exc


ColumnCheck = Callable[[pa.DataType], bool]

INT = pa.types.is_integer
FLOAT = pa.types.is_floating
STRING = lambda t: pa.types.is_string(t) or pa.types.is_large_string(t)  # noqa: E731


def list_of(inner: ColumnCheck) -> ColumnCheck:
    """A check for ``list<inner>`` (any list flavour)."""

    def check(t: pa.DataType) -> bool:
        return (
            pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
        ) and inner(t.value_type)

    check.__name__ = f"list<{getattr(inner, '__name__', 'value')}>"
    return check


def is_arrow_stream(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` starts like an Arrow IPC *stream* (``pyarrow.ipc.new_stream``):
    a continuation marker, where the IPC *file* format starts with ``ARROW1``."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\xff\xff\xff\xff"
    except OSError:
        return False


def read_table(
    path: str | os.PathLike[str],
    columns: Mapping[str, tuple[ColumnCheck, str]] | None = None,
    *,
    what: str = "Arrow file",
    allow_empty: bool = True,
) -> pa.Table:
    """Read an Arrow IPC (or Parquet, by suffix) file and check its columns.

    :param columns: column name -> (type check, expected type in words).
    :raises UqaInputError: naming the file and the first problem found.
    """
    p = check_file(path, what)
    try:
        if p.suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(p)
        elif is_arrow_stream(p):  # pyarrow.ipc.new_stream's format, read the same
            with pa.memory_map(str(p), "r") as source:
                table = ipc.open_stream(source).read_all()
        else:
            with pa.memory_map(str(p), "r") as source:
                table = ipc.open_file(source).read_all()
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise UqaInputError(
            f"{p}: not a readable Arrow IPC file (truncated or another format?): {exc}"
        ) from exc
    if columns:
        check_columns(table, columns, p)
    if not allow_empty and table.num_rows == 0:
        raise UqaInputError(f"{p}: has no rows; expected at least one")
    return table


def check_columns(
    table: pa.Table, columns: Mapping[str, tuple[ColumnCheck, str]], path: str | os.PathLike[str]
) -> None:
    """Raise :class:`UqaInputError` for the first missing or mistyped column."""
    names = set(table.column_names)
    for name, (check, expected) in columns.items():
        if name not in names:
            raise UqaInputError(
                f"{path}: missing column '{name}' (expected {expected}); "
                f"columns present: {', '.join(table.column_names) or '(none)'}"
            )
        dtype = table.schema.field(name).type
        if not check(dtype):
            raise UqaInputError(f"{path}: column '{name}' has type {dtype}; expected {expected}")
