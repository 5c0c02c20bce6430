"""The generator's own sources are held to the rules its output is held to."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import REPO


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600
    )


def test_ruff_on_the_generator() -> None:
    check = run("ruff", "check", "generator", "bench")
    assert check.returncode == 0, check.stdout
    fmt = run("ruff", "format", "--check", "generator")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict_on_the_generator() -> None:
    result = run("mypy", "--strict", "generator/moosegen")
    assert result.returncode == 0, result.stdout
