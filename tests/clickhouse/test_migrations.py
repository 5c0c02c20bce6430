"""Migrations from a schema history, applied by the runner on the engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.clickhouse.conftest import history_unit, migrations
from moosegen.diagnostics import Diagnostic
from moosegen.runtime.chvalues import column_converter
from moosegen.runtime.migrations import MigrationError, apply_migrations
from moosegen.targets.clickhouse import columns

SPEC = """\
stream: m
schema: s.avsc
key: [id]
table: {order_by: [id]}
"""


def avsc(fields: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "record", "name": "M", "namespace": "t", "fields": fields}, indent=1)


ID = {"name": "id", "type": "string"}
V1 = avsc(
    [
        ID,
        {"name": "n", "type": "int"},
        {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["A", "B"]}},
    ]
)
V2 = avsc(
    [
        ID,
        {"name": "n", "type": "int"},
        {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["A", "B"]}},
        {"name": "note", "type": "string", "default": "n/a"},
    ]
)
V3 = avsc(
    [
        ID,
        {"name": "n", "type": "long"},
        {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["C", "A", "B"]}},
        {"name": "note", "type": "string", "default": "n/a"},
    ]
)


def write(folder: Path, files: list[tuple[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files:
        (folder / name).write_text(sql, encoding="utf-8")
    return folder


def insert(client: Any, unit: Any, index: int, rows: list[dict[str, Any]], token: str) -> None:
    cols = [c for c in columns(unit, unit.stream.destinations[0]) if c.field is not None]
    if index < len(unit.versions) - 1:  # an older model: only the fields it knew
        known = {f.name for f in unit.versions[index].schema.fields}
        cols = [c for c in cols if c.name in known]
    data = []
    for c in cols:
        conv = column_converter(c.type)
        values = [r[c.name] for r in rows]
        data.append(values if conv is None else [conv(v) for v in values])
    client.insert(
        "m",
        data,
        column_names=[c.name for c in cols],
        column_oriented=True,
        settings={"async_insert": 0, "insert_deduplication_token": token},
    )


def test_three_versions(tmp_path: Path, client: Any, database: str) -> None:
    unit = history_unit(tmp_path, SPEC, [V1, V2, V3])
    diags: list[Diagnostic] = []
    files = migrations(unit, diags)
    assert [d for d in diags if d.severity == "error"] == []
    assert [name for name, _ in files] == ["0001_create.sql", "0002_add_note.sql", "0003_v3.sql"]
    sql = dict(files)
    assert (
        "ADD COLUMN IF NOT EXISTS `note` String DEFAULT 'n/a' AFTER `color`"
        in sql["0002_add_note.sql"]
    )
    assert "MODIFY COLUMN IF EXISTS `n` Int64" in sql["0003_v3.sql"]
    # stable numbering: C is new, so it gets the next number; A and B keep theirs
    assert "Enum8('A' = 1, 'B' = 2, 'C' = 3)" in sql["0003_v3.sql"]

    folder = tmp_path / "migrations"
    write(folder, files[:1])
    assert apply_migrations(client, folder, "m", database) == ["0001_create"]
    client.insert(
        "m",
        [["old"], [2**31 - 1], ["B"]],
        column_names=["id", "n", "color"],
        column_oriented=True,
        settings={"async_insert": 0},
    )
    write(folder, files)
    assert apply_migrations(client, folder, "m", database) == ["0002_add_note", "0003_v3"]
    insert(client, unit, 2, [{"id": "new", "n": 2**40, "color": "C", "note": "hello"}], "v3")
    rows = client.query("SELECT id, n, color, note FROM m ORDER BY id").result_rows
    assert rows == [("new", 2**40, "C", "hello"), ("old", 2**31 - 1, "B", "n/a")]
    described = dict((r[0], r[1]) for r in client.query("DESCRIBE TABLE m").result_rows)
    assert described == {c.name: c.type for c in columns(unit, unit.stream.destinations[0])}

    # running again changes nothing
    before = client.query("SELECT * FROM _moosegen_migrations ORDER BY id").result_rows
    assert apply_migrations(client, folder, "m", database) == []
    assert client.query("SELECT * FROM _moosegen_migrations ORDER BY id").result_rows == before
    assert client.command("SELECT count() FROM m") == 2

    # an edited migration is refused
    (folder / "0002_add_note.sql").write_text(sql["0002_add_note.sql"] + "\n-- edited\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        apply_migrations(client, folder, "m", database)
    (folder / "0002_add_note.sql").unlink()
    with pytest.raises(MigrationError, match="file is gone"):
        apply_migrations(client, folder, "m", database)


def test_removed_field_kept_unless_destructive(tmp_path: Path, client: Any, database: str) -> None:
    v2 = avsc([ID, {"name": "n", "type": "int"}])
    unit = history_unit(tmp_path / "a", SPEC, [V1, v2])
    diags: list[Diagnostic] = []
    files = migrations(unit, diags)
    assert [d.code for d in diags] == ["CH_COLUMN_KEPT"] and diags[0].severity == "warning"
    assert "DROP" not in files[1][1]
    unit = history_unit(
        tmp_path / "b", SPEC.replace("table: {", "table: {allow_destructive: true, "), [V1, v2]
    )
    files = migrations(unit, [])
    assert "ALTER TABLE `m` DROP COLUMN IF EXISTS `color`" in files[1][1]
    shutil.rmtree(tmp_path / "mig", ignore_errors=True)
    apply_migrations(client, write(tmp_path / "mig", files), "m", database)
    assert [r[0] for r in client.query("DESCRIBE TABLE m").result_rows] == ["id", "n"]


def test_not_migratable_is_a_located_error(tmp_path: Path) -> None:
    v2 = avsc(
        [
            ID,
            {"name": "n", "type": "string"},
            {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["A", "B"]}},
            {"name": "extra", "type": "long"},
        ]
    )
    unit = history_unit(tmp_path, SPEC, [V1, v2])
    diags: list[Diagnostic] = []
    migrations(unit, diags)
    errors = {d.code: d for d in diags if d.severity == "error"}
    assert set(errors) == {"CH_TYPE_NOT_MIGRATABLE", "CH_FIELD_WITHOUT_DEFAULT"}
    for d in errors.values():
        assert d.path.endswith("s.avsc") and d.line > 1


def test_widenings(tmp_path: Path, client: Any, database: str) -> None:
    dec = {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}
    v1 = avsc(
        [
            ID,
            {"name": "f", "type": "float"},
            {"name": "d", "type": dec},
            {"name": "o", "type": "int"},
        ]
    )
    v2 = avsc(
        [
            ID,
            {"name": "f", "type": "double"},
            {"name": "d", "type": {**dec, "precision": 20}},
            {"name": "o", "type": ["null", "long"], "default": None},
        ]
    )
    unit = history_unit(tmp_path, SPEC, [v1, v2])
    diags: list[Diagnostic] = []
    files = migrations(unit, diags)
    assert not [d for d in diags if d.severity == "error"]
    apply_migrations(client, write(tmp_path / "mig", files), "m", database)
    described = dict((r[0], r[1]) for r in client.query("DESCRIBE TABLE m").result_rows)
    assert described == {
        "id": "String",
        "f": "Float64",
        "d": "Decimal(20, 2)",
        "o": "Nullable(Int64)",
    }


def test_a_field_name_longer_than_a_file_name_names_the_migration_by_its_version(
    tmp_path: Path,
) -> None:
    """A migration is named after its one change while that name is short (a field name
    of 300 characters made `0002_add_xxx….sql`, a file name the system refuses)."""
    long = "x" * 300
    v2 = avsc([ID, {"name": "n", "type": "int"},
               {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["A", "B"]}},
               {"name": long, "type": "string", "default": ""}])
    files = migrations(history_unit(tmp_path, SPEC, [V1, v2]), [])
    assert [name for name, _ in files] == ["0001_create.sql", "0002_v2.sql"]
    assert f"ADD COLUMN IF NOT EXISTS `{long}` String" in dict(files)["0002_v2.sql"]
