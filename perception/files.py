"""Writing files so that readers never see half of one.

:func:`write_atomic` is the one writer for perception and the bridge: the
data goes to a temporary file in the target's folder, which then replaces
the target with :func:`os.replace`. A write interrupted at any point leaves
the previous file intact; a process killed mid-write leaves at most a
temporary ``.<name>.<pid>.<random>.tmp`` beside it, which
:func:`remove_orphans` deletes once that process is gone.
The temporary file is created like any ``open(path, "w")`` file: mode
``0o666`` less the process umask.
"""
from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path
from typing import Callable

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")
_OLDER_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp$")  # tempfile.mkstemp's, no process id
_OLDER_TEMPORARY_AGE_S = 3600.0  # those are orphans once an hour old


def write_atomic(path: str | Path, data: bytes | str, *, fsync: bool = True,
                 before_replace: Callable[[Path], None] | None = None) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Args:
        path: the file to write; missing parent folders are created.
        data: bytes, or text (written as UTF-8).
        fsync: flush the data to disk before the rename, so the new file
            also survives a power cut (False for many small files that can
            be regenerated, such as a dataset's images).
        before_replace: called with the temporary file once its data is
            written, before it replaces ``path``; raising there keeps the
            previous file.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "a" / "b.txt"
        >>> write_atomic(path, "hello").read_text(), write_atomic(path, b"hi").read_bytes()
        ('hello', b'hi')
        >>> [p.name for p in path.parent.iterdir()]
        ['b.txt']
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"write_atomic writes bytes or str. Received {type(data).__name__} for {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = _create_temporary(path)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            if fsync:
                file.flush()
                os.fsync(file.fileno())
        if before_replace is not None:
            before_replace(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def _create_temporary(path: Path) -> tuple[int, Path]:
    """Open a new temporary file beside ``path``, mode 0o666 less the umask (as ``open`` would)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    while True:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue


def remove_orphans(folder: str | Path, name: str | None = None) -> list[Path]:
    """Delete the temporary files that killed writers left in ``folder``.

    A temporary ``.<name>.<pid>.<random>.tmp`` is an orphan once process
    ``pid`` no longer runs (one of a live process is its write in
    progress); a ``.<name>.<random>.tmp`` without a process id, once it is
    an hour old.

    Args:
        folder: where to look (a missing folder holds no orphans).
        name: only the temporaries of this file name (default: all).

    Returns:
        The files deleted.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / ".m.safetensors.999999999.0123abcd.tmp").write_bytes(b"half")
        >>> [p.name for p in remove_orphans(folder)], list(folder.iterdir())
        (['.m.safetensors.999999999.0123abcd.tmp'], [])
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    pattern = f".{name}.*.tmp" if name is not None else ".*.tmp"
    for candidate in folder.glob(pattern):
        if _is_orphan(candidate, name):
            try:
                candidate.unlink()
            except FileNotFoundError:  # its writer finished or another cleaner was first
                continue
            removed.append(candidate)
    return sorted(removed)


def _is_orphan(candidate: Path, name: str | None) -> bool:
    match = _TEMPORARY.match(candidate.name)
    if match:
        if name is not None and match["name"] != name:
            return False   # the temporary of another file whose name starts with ``name``
        return not _process_runs(int(match["pid"]))
    older = _OLDER_TEMPORARY.match(candidate.name)
    if not older or (name is not None and older["name"] != name):
        return False   # not a temporary of ours
    try:
        return time.time() - candidate.stat().st_mtime > _OLDER_TEMPORARY_AGE_S
    except FileNotFoundError:
        return False


def _process_runs(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True   # another user's process (or an id this system cannot name): leave its file alone
    return True
