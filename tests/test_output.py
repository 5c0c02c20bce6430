"""The output writer never writes or removes anything outside its folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from moosegen.output import MANIFEST, OutputError, check_tree, safe_relpath, write_tree


@pytest.mark.parametrize("rel", ["../x.py", "/etc/passwd", "a/../../x", "a/./b", "", "a\\..\\b"])
def test_rejects_paths_that_leave_the_folder(rel: str) -> None:
    with pytest.raises(OutputError):
        safe_relpath(rel)


def test_refuses_to_write_through_an_escaping_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    write_tree(out, {MANIFEST: b"{}\n"})
    (out / "events").symlink_to(outside)
    with pytest.raises(OutputError, match="symlink"):
        write_tree(out, {MANIFEST: b"{}\n", "events/models.py": b"x = 1\n"})
    assert list(outside.iterdir()) == []


def test_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("mine")
    with pytest.raises(OutputError, match="not a moosegen output folder"):
        write_tree(out, {MANIFEST: b"{}\n"})
    assert (out / "precious.txt").read_text() == "mine"


def test_removes_files_no_longer_generated_and_empty_folders(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(out, {MANIFEST: b"1\n", "old/a.py": b"a\n", "keep/b.py": b"b\n"})
    (out / "old" / "__pycache__").mkdir()
    (out / "old" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    written, removed = write_tree(out, {MANIFEST: b"2\n", "keep/b.py": b"b\n"})
    assert written == [MANIFEST]
    assert removed == ["old/a.py"]
    assert not (out / "old").exists()
    assert check_tree(out, {MANIFEST: b"2\n", "keep/b.py": b"b\n"}) == []


def test_unchanged_files_are_not_rewritten(tmp_path: Path) -> None:
    out = tmp_path / "out"
    files = {MANIFEST: b"1\n", "a.py": b"a\n"}
    write_tree(out, files)
    mtime = (out / "a.py").stat().st_mtime_ns
    assert write_tree(out, files) == ([], [])
    assert (out / "a.py").stat().st_mtime_ns == mtime
