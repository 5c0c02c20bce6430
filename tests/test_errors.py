"""Broken specs and their exact diagnostics: one folder per case, like sqlc's end-to-end tests.

Each `tests/errors/<case>/` holds `specs/` and `expected.txt`: the expected stderr
followed by `exit=<code>`. Paths in diagnostics are relative to the case folder.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import moosegen

CASES = sorted(p for p in (Path(__file__).parent / "errors").iterdir() if p.is_dir())
DIAGNOSTIC = re.compile(r"^[^:]+:\d+:\d+: (error|warning)\[[A-Z_]+\]: .+$")


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


def with_fifos(case: Path, tmp_path: Path) -> Path:
    """Git cannot hold a FIFO: a case lists the ones it needs in `fifos.txt`, and runs
    from a copy that has them."""
    listed = case / "fifos.txt"
    if not listed.exists():
        return case
    copy = tmp_path / case.name
    shutil.copytree(case, copy)
    for rel in listed.read_text().split():
        os.mkfifo(copy / rel)
    return copy


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_broken_spec(case: Path, tmp_path: Path) -> None:
    expected = (case / "expected.txt").read_text()
    case = with_fifos(case, tmp_path)
    result = moosegen("build", "specs", "-o", str(tmp_path / "out"), cwd=case)
    assert f"{result.stderr}exit={result.returncode}\n" == expected
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for line in result.stderr.splitlines():
        assert DIAGNOSTIC.match(line), line
    assert not (tmp_path / "out").exists(), "a failed build must write nothing"


def test_json_error_format() -> None:
    import json

    result = moosegen(
        "build",
        "specs",
        "-o",
        "/nonexistent-never-written",
        "--error-format",
        "json",
        cwd=Path(__file__).parent / "errors" / "many_errors",
    )
    findings = json.loads(result.stdout)
    assert result.returncode == 2
    assert [(f["path"], f["line"], f["col"], f["code"]) for f in findings] == [
        ("specs/things.yaml", 3, 21, "OUT_OF_RANGE"),
        ("specs/things.yaml", 3, 36, "BAD_DURATION"),
        ("specs/things.yaml", 4, 15, "OUT_OF_RANGE"),
        ("specs/things.yaml", 5, 12, "BAD_HOOK"),
    ]


def test_github_error_format() -> None:
    result = moosegen(
        "build",
        "specs",
        "-o",
        "/nonexistent-never-written",
        "--error-format",
        "github",
        cwd=Path(__file__).parent / "errors" / "bad_hook",
    )
    assert result.stderr.strip() == (
        "::error file=specs/things.yaml,line=3,col=12,title=BAD_HOOK::"
        "invalid hook 'hooks.things.enrich': expected 'package.module:function'"
    )
