"""write_text_atomic: the atomic writer of the symbolic package."""
import os

import pytest

from symbolic.files import write_text_atomic


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_files_get_the_permissions_the_umask_allows(tmp_path, umask):
    previous = os.umask(umask)
    try:
        path = write_text_atomic(tmp_path / "maps" / "a.json", "{}")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in path.parent.iterdir()] == ["a.json"]


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    path = write_text_atomic(tmp_path / "a.txt", "old")
    with pytest.raises(TypeError, match="a.txt"):
        write_text_atomic(path, b"bytes")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]
