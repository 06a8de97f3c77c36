"""Writing files so that readers never see half of one.

:func:`write_atomic` is the one writer for perception and the bridge: the
data goes to a temporary file in the target's folder, which then replaces
the target with :func:`os.replace`. A write interrupted at any point leaves
the previous file intact.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | Path, data: bytes | str, *, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Args:
        path: the file to write; missing parent folders are created.
        data: bytes, or text (written as UTF-8).
        fsync: flush the data to disk before the rename, so the new file
            also survives a power cut (False for many small files that can
            be regenerated, such as a dataset's images).

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
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            if fsync:
                file.flush()
                os.fsync(file.fileno())
        _readable(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _readable(temporary: str) -> None:
    """Give a temporary file the permissions a plain ``open`` would (mkstemp makes it private)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
