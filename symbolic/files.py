"""Writing files so that a crash never leaves half of one."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    Missing parent folders are created. A crash mid-write leaves the previous
    file (or none), never half of one.

    Returns:
        The path written.

    Example:
        >>> path = Path(tempfile.mkdtemp()) / "maps" / "a.json"
        >>> write_text_atomic(path, "{}").read_text(), sorted(p.name for p in path.parent.iterdir())
        ('{}', ['a.json'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
