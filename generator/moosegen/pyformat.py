"""Generated Python gets its final layout from one pinned ruff, run once per build.

Templates lay out the text (one logical line per construct, structure and blank
lines roughly in place); ruff sorts the imports and formats. The version is pinned
exactly in pyproject.toml and checked here, so `build` and `check` give the same
bytes on every machine whatever other ruff a user has on PATH: the binary is the
one installed with moosegen's own `ruff` package, never a PATH lookup.
"""

from __future__ import annotations

import subprocess
import tempfile
from functools import cache
from pathlib import Path

RUFF_VERSION = "0.17.6"
# Independent of any ruff configuration in the user's project (`--isolated`).
_COMMON = ("--isolated", "--line-length", "100", "--target-version", "py310", "--quiet")


class FormatError(Exception):
    """The formatter is missing, has another version, or refused a generated file."""


@cache
def ruff_binary() -> str:
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]
    except ImportError as exc:
        raise FormatError(f"the ruff package (=={RUFF_VERSION}) is not installed") from exc
    binary = str(find_ruff_bin())
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    version = out.stdout.split()[-1] if out.stdout.split() else "?"
    if version != RUFF_VERSION:
        raise FormatError(
            f"moosegen formats generated code with ruff {RUFF_VERSION}, found {version}: "
            f"pip install ruff=={RUFF_VERSION}"
        )
    return binary


def format_python(files: dict[str, str]) -> dict[str, str]:
    """The same files, imports sorted and formatted; keys are relative output paths."""
    if not files:
        return {}
    binary = ruff_binary()
    with tempfile.TemporaryDirectory(prefix="moosegen-fmt-") as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        for args in (("check", "--select", "I", "--fix", "--exit-zero"), ("format",)):
            run = subprocess.run(
                [binary, *args, *_COMMON, "--no-cache", "."],
                cwd=root,
                capture_output=True,
                text=True,
                check=False,
            )
            if run.returncode != 0:
                raise FormatError(f"ruff {args[0]} failed: {run.stderr.strip() or run.stdout}")
        return {rel: (root / rel).read_text(encoding="utf-8") for rel in files}
