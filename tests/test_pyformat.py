"""Generated Python is formatted by moosegen's own pinned ruff, whatever else is installed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from moosegen import pyformat
from moosegen.output import existing_files

from tests.helpers import REPO, moosegen


def test_another_ruff_on_path_changes_nothing(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "ruff"
    fake.parent.mkdir()
    # A "ruff" that would wreck every file it formats and claims another version.
    fake.write_text("#!/bin/sh\necho 'ruff 0.0.1'\nfor f in \"$@\"; do :; done\nexit 0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"}
    out = tmp_path / "generated"
    result = moosegen("build", "specs", "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    names = existing_files(REPO / "generated")
    assert existing_files(out) == names
    for name in names:
        assert (out / name).read_bytes() == (REPO / "generated" / name).read_bytes(), name
    check = moosegen("check", "specs", env=env)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_formatter_of_another_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    pyformat.ruff_binary.cache_clear()
    monkeypatch.setattr(pyformat, "RUFF_VERSION", "0.0.1")
    try:
        with pytest.raises(pyformat.FormatError, match="ruff 0.0.1"):
            pyformat.format_python({"a.py": "x=1\n"})
    finally:
        pyformat.ruff_binary.cache_clear()


def test_imports_are_sorted_and_code_formatted() -> None:
    text = "from typing import Any\nimport uuid\nfrom pydantic import BaseModel\nx = {'a':1}\n"
    out = pyformat.format_python({"m/models.py": text})["m/models.py"]
    assert out == (
        'import uuid\nfrom typing import Any\n\nfrom pydantic import BaseModel\n\nx = {"a": 1}\n'
    )
