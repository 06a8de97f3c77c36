"""Writing files so that a crash never leaves half of one."""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    Missing parent folders are created. A crash mid-write leaves the previous
    file (or none), never half of one. The file gets the permissions a plain
    ``open(path, "w")`` gives: ``0o666`` less the process umask.

    Returns:
        The path written.

    Example:
        >>> path = Path(tempfile.mkdtemp()) / "maps" / "a.json"
        >>> write_text_atomic(path, "{}").read_text(), sorted(p.name for p in path.parent.iterdir())
        ('{}', ['a.json'])
    """
    path = Path(path)
    if not isinstance(text, str):
        raise TypeError(f"write_text_atomic writes str. Received {type(text).__name__} for {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = _create_temporary(path)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def _create_temporary(path: Path) -> tuple[int, Path]:
    """Open a new temporary file beside ``path``; ``os.open`` applies the umask to mode 0o666
    (``tempfile.mkstemp`` would make it private to the owner)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
