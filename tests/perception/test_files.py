"""write_atomic: the one atomic writer of perception and the bridge."""
import os

import pytest

from perception.files import write_atomic


def test_writes_text_and_bytes_and_creates_folders(tmp_path):
    path = tmp_path / "a" / "b" / "c.json"
    assert write_atomic(path, "héllo\n") == path
    assert path.read_bytes() == "héllo\n".encode("utf-8")
    write_atomic(str(path), b"\x00\x01", fsync=False)
    assert path.read_bytes() == b"\x00\x01"


def test_leaves_no_temporary_file_and_normal_permissions(tmp_path):
    path = write_atomic(tmp_path / "x.txt", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_failed_write_keeps_the_previous_file(tmp_path):
    path = write_atomic(tmp_path / "x.txt", "old")
    with pytest.raises(TypeError):
        write_atomic(path, 42)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


@pytest.mark.parametrize("umask", [0o027, 0o002, 0o077])
def test_files_get_the_permissions_the_umask_allows(tmp_path, umask):
    previous = os.umask(umask)
    try:
        path = write_atomic(tmp_path / "x.txt", "x")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_orphans_of_dead_writers_go_and_live_writers_stay(tmp_path):
    import subprocess
    import sys

    from perception.files import remove_orphans

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    dead = tmp_path / f".a.csv.{process.pid}.0123abcd.tmp"
    live = tmp_path / f".a.csv.{os.getpid()}.0123abcd.tmp"
    other = tmp_path / f".a.csv.bak.{process.pid}.0123abcd.tmp"   # another file's, when only a.csv is cleaned
    for path in (dead, live, other):
        path.write_bytes(b"")
    assert remove_orphans(tmp_path, "a.csv") == [dead]
    assert remove_orphans(tmp_path) == [other] and live.exists()
    stale, fresh, foreign = tmp_path / ".a.csv.k3x_9q0z.tmp", tmp_path / ".b.csv.k3x_9q0z.tmp", tmp_path / ".notes.tmp"
    for path in (stale, fresh, foreign):   # names without a process id: an older writer's, or someone else's
        path.write_bytes(b"")
    two_hours_ago = os.path.getmtime(stale) - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    os.utime(foreign, (two_hours_ago, two_hours_ago))
    assert remove_orphans(tmp_path) == [stale] and fresh.exists() and foreign.exists()
