"""ClickHouse tests on the real engine: chdb in process, through clickhouse-connect.

chdb allows one engine path per process, so the whole session shares one
folder; every test gets its own database in it.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

clickhouse_connect = pytest.importorskip("clickhouse_connect")
pytest.importorskip("chdb")

from moosegen import render  # noqa: E402
from moosegen.build import generate  # noqa: E402
from moosegen.diagnostics import Diagnostic  # noqa: E402
from moosegen.schema.canonical import fingerprint  # noqa: E402
from moosegen.spec.load import load_project  # noqa: E402
from moosegen.targets import SchemaVersion, StreamUnit, clickhouse  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def engine_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture
def database(engine_path: Path) -> str:
    return f"t{next(_counter)}"


@pytest.fixture
def client(engine_path: Path, database: str) -> Iterator[Any]:
    admin = clickhouse_connect.get_client(dsn=f"chdb://{engine_path}")
    admin.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    c = clickhouse_connect.get_client(
        dsn=f"chdb://{engine_path}", database=database, tz_mode="schema"
    )
    yield c
    c.close()
    admin.close()


def build_into(specs: Path, out: Path) -> Path:
    """Run the generator on a specs folder and write its output tree; fail on errors."""
    result = generate(specs)
    assert result.ok, "\n".join(d.text() for d in result.diagnostics)
    for name, data in result.files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return out


def write_specs(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def diagnostics_of(specs: Path) -> list[Diagnostic]:
    return generate(specs).diagnostics


def history_unit(
    tmp_path: Path, spec: str, schemas: list[str], extra: dict[str, str] | None = None
) -> StreamUnit:
    """A StreamUnit whose history is `schemas` (oldest first); the last one is the current spec."""
    records = []
    stream = config = None
    for i, schema in enumerate(schemas, start=1):
        folder = write_specs(
            tmp_path / f"v{i}", {"s.yaml": spec, "s.avsc": schema, **(extra or {})}
        )
        project = load_project(folder)
        errors = [d.text() for d in project.diagnostics if d.severity == "error"]
        assert not errors, errors
        stream, config = project.streams[0], project.config
        records.append(stream.schema)
    assert stream is not None and config is not None
    versions = [SchemaVersion(i + 1, i + 1, fingerprint(r), r) for i, r in enumerate(records)]
    return StreamUnit(stream, config, versions)


def migrations(unit: StreamUnit, diags: list[Diagnostic] | None = None) -> list[tuple[str, str]]:
    """(file name, text) of every migration of `unit`, rendered by the built-in templates."""
    env = render.environment()
    jobs = clickhouse.render_jobs(clickhouse.plan(unit, diags), unit.header)
    return [
        (job.output.rsplit("/", 1)[1], render.render(env, job.template, job.context))
        for job in jobs
        if "/migrations/" in job.output
    ]
