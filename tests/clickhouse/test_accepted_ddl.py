"""DDL the engine always accepts: awkward Avro shapes, created and migrated on chdb."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.clickhouse.conftest import (
    build_into,
    diagnostics_of,
    history_unit,
    migrations,
    write_specs,
)
from moosegen.diagnostics import Diagnostic
from moosegen.runtime.migrations import apply_migrations, split_statements
from moosegen.targets.clickhouse import columns

SPEC = "stream: m\nschema: m.avsc\nkey: [id]\n"
ID = {"name": "id", "type": "string"}


def _record(name: str, field: str, ch: str = "int") -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": [{"name": field, "type": ch}]}


# Pairs ClickHouse calls "similar": refused in one Variant unless the statement allows it.
SIMILAR = [
    {"name": "num", "type": ["int", "double"]},
    {"name": "txt", "type": ["string", {"type": "enum", "name": "E", "symbols": ["a", "b"]}]},
    {
        "name": "when",
        "type": [
            {"type": "int", "logicalType": "date"},
            {"type": "long", "logicalType": "timestamp-millis"},
        ],
    },
    {
        "name": "raw",
        "type": [
            {"type": "fixed", "name": "F8", "size": 8},
            {"type": "fixed", "name": "F16", "size": 16},
        ],
    },
    {"name": "shape", "type": [_record("A", "a"), _record("B", "b")]},
    {"name": "maybe", "type": ["null", "int", "double"]},
]


def _avsc(fields: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "record", "name": "M", "namespace": "t", "fields": fields})


def _described(client: Any, table: str = "m") -> dict[str, str]:
    return dict(
        client.query(
            "SELECT name, type FROM system.columns WHERE database = currentDatabase() "
            "AND table = {t:String} ORDER BY position",
            parameters={"t": table},
        ).result_rows
    )


def _as_engine_names(client: Any, types: dict[str, str]) -> dict[str, str]:
    """The engine's own spelling of each type (it sorts Variant members by name)."""
    client.command("DROP TABLE IF EXISTS _types")
    client.command(
        "CREATE TABLE _types ("
        + ", ".join(f"`{name}` {t}" for name, t in types.items())
        + ") ENGINE = Memory SETTINGS allow_suspicious_variant_types = 1"
    )
    return _described(client, "_types")


def test_similar_variants_are_created(tmp_path: Path, client: Any, database: str) -> None:
    specs = write_specs(tmp_path / "specs", {"m.yaml": SPEC, "m.avsc": _avsc([ID, *SIMILAR])})
    out = build_into(specs, tmp_path / "gen")
    assert "allow_suspicious_variant_types = 1" in (out / "m" / "table.sql").read_text()
    apply_migrations(client, out / "m" / "migrations", "m", database)
    described = _described(client)
    for f in SIMILAR:
        assert described[f["name"]].startswith("Variant("), (f["name"], described[f["name"]])
    client.command("INSERT INTO m (id, num, txt) VALUES ('x', 1.5::Float64, 'free text')")
    assert client.query("SELECT variantType(num), txt FROM m").result_rows == [
        ("Float64", "free text")
    ]


def test_similar_variants_are_added_by_a_migration(
    tmp_path: Path, client: Any, database: str
) -> None:
    spec = SPEC.replace("m.avsc", "s.avsc")
    unit = history_unit(tmp_path, spec, [_avsc([ID]), _avsc([ID, *SIMILAR])])
    diags: list[Diagnostic] = []
    files = migrations(unit, diags)
    assert [d.text() for d in diags if d.severity == "error"] == []
    folder = tmp_path / "mig"
    folder.mkdir()
    for name, text in files:
        (folder / name).write_text(text)
    assert apply_migrations(client, folder, "m", database) == ["0001_create", "0002_v2"]
    planned = {c.name: c.type for c in columns(unit, unit.stream.destinations[0])}
    assert _described(client) == _as_engine_names(client, planned)
    assert len(_described(client)) == 1 + len(SIMILAR)


def test_null_field_has_no_column(tmp_path: Path, client: Any, database: str) -> None:
    fields = [ID, {"name": "nothing", "type": "null"}, {"name": "n", "type": "long"}]
    specs = write_specs(tmp_path / "specs", {"m.yaml": SPEC, "m.avsc": _avsc(fields)})
    warnings = [(d.code, d.line) for d in diagnostics_of(specs) if d.code == "CH_NULL_COLUMN"]
    assert len(warnings) == 1 and warnings[0][1] > 0
    out = build_into(specs, tmp_path / "gen")
    apply_migrations(client, out / "m" / "migrations", "m", database)
    assert list(_described(client)) == ["id", "n"]


def test_record_without_storable_fields_is_a_located_error(tmp_path: Path) -> None:
    specs = write_specs(
        tmp_path / "specs",
        {"m.yaml": "stream: m\nschema: m.avsc\n", "m.avsc": _avsc([{"name": "x", "type": "null"}])},
    )
    errors = [d for d in diagnostics_of(specs) if d.severity == "error"]
    assert [(d.code, d.path.endswith("m.yaml"), d.line) for d in errors] == [
        ("CH_NO_COLUMNS", True, 2)
    ]


def test_record_with_no_fields_but_lineage(tmp_path: Path, client: Any, database: str) -> None:
    specs = write_specs(
        tmp_path / "specs",
        {"m.yaml": "stream: m\nschema: m.avsc\ntable: {lineage: true}\n", "m.avsc": _avsc([])},
    )
    out = build_into(specs, tmp_path / "gen")
    apply_migrations(client, out / "m" / "migrations", "m", database)
    assert list(_described(client)) == ["_topic", "_partition", "_offset", "_timestamp"]


def test_nested_nullable_record_default(tmp_path: Path, client: Any, database: str) -> None:
    inner = {"type": "record", "name": "Inner", "fields": [{"name": "x", "type": "int"}]}
    outer = {
        "type": "record",
        "name": "Outer",
        "fields": [
            {"name": "opt", "type": ["null", inner], "default": None},
            {"name": "maybe", "type": ["null", "int"], "default": None},
            {"name": "s", "type": "string"},
        ],
    }
    fields = [ID, {"name": "o", "type": outer, "default": {"opt": None, "maybe": None, "s": "q"}}]
    specs = write_specs(tmp_path / "specs", {"m.yaml": SPEC, "m.avsc": _avsc(fields)})
    out = build_into(specs, tmp_path / "gen")
    assert "tuple(NULL" not in (out / "m" / "table.sql").read_text()
    apply_migrations(client, out / "m" / "migrations", "m", database)
    client.command("INSERT INTO m (id) VALUES ('k')")
    row = client.query("SELECT o.opt.x, o.maybe, o.s FROM m").result_rows
    assert row == [(0, None, "q")]


def test_distributed_table_carries_the_variant_setting(tmp_path: Path, client: Any) -> None:
    """Distributed copies the storage table's columns, so it needs the setting too. The
    embedded engine has no cluster: past the type check it stops at the cluster look-up."""
    specs = write_specs(
        tmp_path / "specs",
        {
            "m.yaml": SPEC,
            "m.avsc": _avsc([ID, SIMILAR[0]]),
            "moosegen.yaml": "cluster: {name: main}\n",
        },
    )
    out = build_into(specs, tmp_path / "gen")
    storage, front = split_statements((out / "m" / "table.sql").read_text())
    assert "Distributed(" in front and "allow_suspicious_variant_types = 1" in front
    client.command(
        "CREATE TABLE m_local (id String, num Variant(Int32, Float64)) "
        "ENGINE = MergeTree ORDER BY id SETTINGS allow_suspicious_variant_types = 1"
    )
    local = front.replace(" ON CLUSTER `main`", "")
    with pytest.raises(Exception, match="CLUSTER_DOESNT_EXIST"):
        client.command(local)
    without = local.replace("\nSETTINGS allow_suspicious_variant_types = 1", "")
    with pytest.raises(Exception, match="similar types"):
        client.command(without)
