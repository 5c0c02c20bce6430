"""Build spec folders into importable packages for the model tests."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from moosegen import pyformat, render
from moosegen.build import generate, runtime_files
from moosegen.output import write_tree
from moosegen.schema.canonical import fingerprint
from moosegen.spec.load import load_project
from moosegen.targets import SchemaVersion, StreamUnit, pydantic

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


def build_package(specs: Path, parent: Path, package: str) -> Path:
    """`moosegen build specs -o parent/package`; the folder is importable as `package`."""
    result = generate(specs)
    assert result.ok, [str(d) for d in result.diagnostics]
    out = parent / package
    write_tree(out, result.files)
    return out


def import_models(parent: Path, package: str, stream: str) -> ModuleType:
    if str(parent) not in sys.path:
        sys.path.insert(0, str(parent))
    return importlib.import_module(f"{package}.{stream}.models")


def build_versions(version_dirs: list[Path], parent: Path, package: str) -> Path:
    """One stream built with every folder's schema registered as versions 1..N (ids 101..)."""
    versions = []
    stream = None
    config = None
    for number, folder in enumerate(version_dirs, start=1):
        project = load_project(folder)
        assert not [d for d in project.diagnostics if d.severity == "error"]
        stream = project.streams[0]
        config = project.config
        versions.append(
            SchemaVersion(number, 100 + number, fingerprint(stream.schema), stream.schema)
        )
    assert stream is not None and config is not None
    unit = StreamUnit(stream, config, versions)
    env = render.environment()
    sources = {
        job.output: render.render(env, job.template, job.context)
        for job in pydantic.render_jobs(pydantic.plan(unit, []), stream.package, unit.header)
    }
    files = {name: text.encode() for name, text in pyformat.format_python(sources).items()}
    files["__init__.py"] = b""
    files[f"{stream.package}/__init__.py"] = b""
    files.update(runtime_files())
    out = parent / package
    write_tree(out, files)
    return out
