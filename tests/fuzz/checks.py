"""What must hold after any run of moosegen, whatever its input (fuzz test and script)."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

DIAGNOSTIC = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (error|warning)\[[A-Z0-9_]+\]: "
)
INFO = re.compile(r"^moosegen: (registered |\d+ files in |would change|changed|no changes)")
MAX_READ = 16 * 2**20

Snapshot = dict[str, tuple[int, str]]


def snapshot(root: Path) -> Snapshot:
    """Every entry under `root` (not following symlinks) with its type and content hash."""
    out: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            info = os.lstat(path)
            digest = ""
            if stat.S_ISREG(info.st_mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                digest = os.readlink(path)
            out[path.relative_to(root).as_posix()] = (stat.S_IFMT(info.st_mode), digest)
    return out


def changed_paths(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def output_problems(stderr: str, cwd: Path) -> list[str]:
    """Tracebacks, unlocated errors, and locations that name no existing file position."""
    problems: list[str] = []
    if "Traceback (most recent call last)" in stderr:
        problems.append("traceback")
    for line in stderr.splitlines():
        if line.startswith("moosegen: error:"):
            problems.append(f"unlocated: {line}")
            continue
        m = DIAGNOSTIC.match(line)
        if m is None:
            if line.startswith("moosegen:") and not INFO.match(line):
                problems.append(f"unexpected: {line}")
            continue
        if problem := _location_problem(cwd / m["path"], int(m["line"]), int(m["col"])):
            problems.append(f"{problem}: {line}")
    return problems


def _location_problem(path: Path, line: int, col: int) -> str | None:
    if not os.path.lexists(path):
        return "no such path"
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = 0  # a dangling symlink: only 1:1 makes sense
    if not stat.S_ISREG(mode) or os.stat(path).st_size > MAX_READ:
        return None if (line, col) == (1, 1) else "position in something that is not a file"
    lines = path.read_bytes().decode("utf-8", "replace").removeprefix("\ufeff").split("\n")
    if line > len(lines):
        return f"line {line} past the end ({len(lines)} lines)"
    if col > len(lines[line - 1]) + 1:
        return f"column {col} past the end of line {line}"
    return None


def compile_problems(root: Path, skip: Path | None = None) -> list[str]:
    """Every generated `.py` under `root` compiles (nothing is executed)."""
    problems = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if skip is not None and here == skip.parent:
            dirnames[:] = [d for d in dirnames if here / d != skip]
        for name in filenames:
            if name.endswith(".py"):
                path = here / name
                try:
                    compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
                except (SyntaxError, ValueError) as exc:
                    problems.append(f"{path}: {exc}")
    return problems
