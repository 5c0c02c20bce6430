"""Skip the whole pipeline when nothing that shapes the output has changed.

A successful build or check records, outside the project (in the user's cache
folder), the hash of everything that determines the output — every file of the
specs folder (registry included), the built-in and user templates, the
generator's own source (runtime included) and the pinned formatter — with the
hash of the manifest it produced and the warnings it printed. The next `check` or
`build` with the same key, whose output tree still matches that manifest file for
file, is answered from the record. Anything else (a changed byte anywhere, a missing
record, a tree edited by hand) takes the full path.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from moosegen import pyformat, render
from moosegen.diagnostics import Diagnostic
from moosegen.output import MANIFEST, existing_files

GENERATOR_ROOT = Path(__file__).resolve().parent
_SKIPPED_DIRS = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".git"}


def cache_dir() -> Path | None:
    """`MOOSEGEN_BUILD_CACHE` (`off` disables), else `builds/` in moosegen's cache folder."""
    chosen = os.environ.get("MOOSEGEN_BUILD_CACHE")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("MOOSEGEN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "moosegen"
    )
    return Path(base) / "builds"


def _tree_files(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
        out += [Path(dirpath, n) for n in sorted(filenames)]
    return out


def input_key(
    specs_dir: Path,
    user_templates: Path | None,
    generator_root: Path = GENERATOR_ROOT,
    templates_root: Path | None = None,
) -> str:
    """One hash over every input of the output (file names and contents)."""
    digest = hashlib.sha256(pyformat.RUFF_VERSION.encode())
    # Third-party code that shapes the output: JSON Schema streams' models, schema.json.
    for package in ("datamodel-code-generator", "pydantic"):
        digest.update(f"\0{package}=={metadata.version(package)}".encode())
    roots = [
        ("specs", specs_dir),
        ("generator", generator_root),
        ("templates", templates_root or render.builtin_templates()),
    ]
    if user_templates is not None:
        roots.append(("user-templates", user_templates))
    for label, root in roots:
        for path in _tree_files(root):
            if label == "generator" and path.suffix not in (".py", ".typed"):
                continue
            digest.update(f"\0{label}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(_content(path))
    return digest.hexdigest()


def _content(path: Path) -> bytes:
    """A file's bytes. A FIFO or a device is never opened (reading could block or never
    end): its kind is hashed instead, and the loader refuses it with a location."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return f"\0kind {stat.S_IFMT(info.st_mode)}".encode()
        return path.read_bytes()
    except OSError as exc:
        return f"\0unreadable {exc.errno}".encode()


@dataclass(frozen=True)
class Record:
    key: str
    output: str  # the output folder, absolute
    manifest_sha256: str
    file_count: int
    warnings: list[Diagnostic]


def _entry(specs_dir: Path, output: Path | None, user_templates: Path | None) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    # Diagnostics name paths as given on the command line: the working folder counts.
    who = json.dumps(
        [os.getcwd(), str(specs_dir), str(output) if output else None, str(user_templates)]
    )
    return folder / (hashlib.sha256(who.encode()).hexdigest()[:32] + ".json")


def lookup(
    specs_dir: Path, output: Path | None, user_templates: Path | None, key: str
) -> Record | None:
    """The record of the last build with this key, if the output tree still matches it."""
    entry = _entry(specs_dir, output, user_templates)
    if entry is None:
        return None
    try:
        raw = json.loads(entry.read_text())
        record = Record(
            raw["key"],
            raw["output"],
            raw["manifest_sha256"],
            raw["file_count"],
            [Diagnostic(**d) for d in raw["warnings"]],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if record.key != key:
        return None
    out = Path(record.output)
    try:
        manifest = (out / MANIFEST).read_bytes()
        if hashlib.sha256(manifest).hexdigest() != record.manifest_sha256:
            return None
        files: dict[str, str] = json.loads(manifest)["files"]
        if existing_files(out) != {*files, MANIFEST}:
            return None
        for rel, sha in files.items():
            if hashlib.sha256((out / rel).read_bytes()).hexdigest() != sha:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record


def store(
    specs_dir: Path,
    output: Path | None,
    user_templates: Path | None,
    key: str,
    out: Path,
    diagnostics: list[Diagnostic],
) -> None:
    """Remember a build that succeeded and whose tree `out` now holds; best effort."""
    entry = _entry(specs_dir, output, user_templates)
    if entry is None:
        return
    try:
        manifest = (out / MANIFEST).read_bytes()
        record = {
            "key": key,
            "output": str(out.resolve()),
            "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
            "file_count": len(json.loads(manifest)["files"]) + 1,
            "warnings": [d.__dict__ for d in diagnostics if d.severity != "error"],
        }
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record))
        os.replace(tmp, entry)
    except (OSError, ValueError, KeyError):
        return
