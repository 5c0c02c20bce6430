"""JSON Schema streams: models from datamodel-code-generator, columns from the lowered
schema, located errors for what cannot map, compatibility through `build`."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest
from moosegen.build import generate

from tests.helpers import moosegen
from tests.jsonschema.project import order, orders_project, schema, write_schema


def build(tmp: Path, specs: Path) -> subprocess.CompletedProcess[str]:
    return moosegen("build", str(specs), "--output", str(tmp / "generated"), cwd=tmp)


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    specs, _ = orders_project(tmp_path)
    res = build(tmp_path, specs)
    assert res.returncode == 0, res.stderr
    return tmp_path, specs


def import_models(tmp: Path) -> Any:
    """`generated.orders.models` of the tree under `tmp`; the repository's `generated`
    package is back in place afterwards (other tests import it)."""
    ours = {n: m for n, m in sys.modules.items() if n == "generated" or n.startswith("generated.")}
    for name in ours:
        del sys.modules[name]
    sys.path.insert(0, str(tmp))
    try:
        return importlib.import_module("generated.orders.models")
    finally:
        sys.path.remove(str(tmp))
        for name in [n for n in sys.modules if n == "generated" or n.startswith("generated.")]:
            del sys.modules[name]
        sys.modules.update(ours)


def test_models_come_from_datamodel_code_generator(built: tuple[Path, Path]) -> None:
    tmp, _ = built
    text = (tmp / "generated" / "orders" / "models.py").read_text()
    assert "datamodel-codegen" not in text and "filename:" not in text  # its header is dropped
    assert "class Order(BaseModel):" in text and "class Status(str, Enum):" in text
    assert 'extra="forbid"' in text
    m = import_models(tmp)
    good = m.MODEL.model_validate(order(3))
    assert good.status is m.Status.paid and good.address.city == "Oslo"
    assert m.decode_json(m.encode_json(good)) == good
    framed = m.encode_confluent_json(good)
    assert framed[:5] == b"\x00" + m.SCHEMA_ID.to_bytes(4, "big")
    assert m.decode_json(framed) == good
    assert m.KEY_FIELDS == ("order_id",) and set(m.DESTINATIONS) == {"orders"}
    rows = m.ROWS.validate_json(json.dumps([order(1), order(2, ship_by="2026-02-01")]))
    assert isinstance(rows[0], dict) and rows[1]["ship_by"].isoformat() == "2026-02-01"
    for bad in (order(1, quantity=0), order(1, status="lost"), order(1, extra_field=1),
                order(1, customer=""), {k: v for k, v in order(1).items() if k != "address"},
                order(1, placed_at="2026-01-02T03:04:05")):  # no time zone
        with pytest.raises(ValueError):
            m.ROWS.validate_json(json.dumps([bad]))
    with pytest.raises(ValueError, match="schema id 999"):
        m.decode_json(b"\x00" + (999).to_bytes(4, "big") + m.encode_json(good))


def test_generated_models_pass_mypy_strict(built: tuple[Path, Path]) -> None:
    tmp, _ = built
    res = subprocess.run([sys.executable, "-m", "mypy", "--strict", "generated/orders/models.py"],
                         cwd=tmp, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout


def test_the_same_schema_gives_the_same_bytes(tmp_path: Path) -> None:
    specs, _ = orders_project(tmp_path)
    first = generate(specs)
    assert first.ok, [d.text() for d in first.diagnostics]
    second = generate(specs)
    assert first.files == second.files


def test_ddl_maps_formats_enums_nullables_and_nesting(built: tuple[Path, Path]) -> None:
    tmp, _ = built
    ddl = (tmp / "generated" / "orders" / "table.sql").read_text()
    for column in ("`order_id` UUID", "`placed_at` DateTime64(6, 'UTC')",
                   "`ship_by` Nullable(Date32)",
                   "`status` Enum8('new' = 1, 'paid' = 2, 'shipped' = 3) DEFAULT 'new'",
                   "`quantity` Int64", "`total` Float64", "`tags` Array(String) DEFAULT []",
                   "`address` Tuple(`city` String, `zip` String)",
                   "`attributes` Map(String, String) DEFAULT map()"):
        assert column in ddl
    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp / 'chdb'}")
    for migration in sorted((tmp / "generated" / "orders" / "migrations").glob("*.sql")):
        for stmt in migration.read_text().split(";\n"):
            lines = stmt.strip().splitlines()
            if lines and not all(line.startswith("--") for line in lines):
                client.command(stmt)
    described = {r[0]: r[1] for r in client.query("DESCRIBE TABLE orders").result_rows}
    assert " ".join(described["address"].split()) == "Tuple( city String, zip String)"
    assert described["ship_by"] == "Nullable(Date32)" and described["status"].startswith("Enum8(")


# (property, the text on the line the error points at, the message)
UNMAPPABLE = [
    ({"note": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}, '"oneOf"', "keyword 'oneOf'"),
    ({"note": {"type": ["string", "integer"]}}, '"type"', "is not one type"),
    ({"note": {"type": "object"}}, '"note"', "needs `properties`"),
    ({"note": {"$ref": "https://example.com/x.json"}}, '"$ref"', "only local references"),
    ({"note": {"type": "string", "enum": ["a b"]}}, '"enum"', "not an identifier"),
]


@pytest.mark.parametrize(("prop", "marker", "message"), UNMAPPABLE)
def test_unmappable_constructs_are_located_errors(
    tmp_path: Path, prop: dict[str, Any], marker: str, message: str
) -> None:
    specs, _ = orders_project(tmp_path)
    data = schema(specs)
    data["properties"].update(prop)
    write_schema(specs, data)
    res = build(tmp_path, specs)
    assert res.returncode == 2  # a schema error, not a compatibility finding
    text = (specs / "orders.schema.json").read_text().splitlines()
    note = next(i for i, t in enumerate(text, 1) if '"note"' in t)
    line = next(i for i, t in enumerate(text, 1) if i >= note and marker in t)
    located = [ln for ln in res.stderr.splitlines() if "error[JSONSCHEMA_UNMAPPABLE]" in ln]
    assert located and located[0].startswith(f"specs/orders.schema.json:{line}:"), res.stderr
    assert message in located[0]
    assert not (tmp_path / "generated").exists()  # nothing written


def test_compatible_change_registers_a_version_and_a_migration(built: tuple[Path, Path]) -> None:
    tmp, specs = built
    data = schema(specs)
    data["properties"]["coupon"] = {"type": "string"}  # optional: old data stays valid
    data["additionalProperties"] = False
    write_schema(specs, data)
    res = build(tmp, specs)
    assert res.returncode == 0, res.stderr
    index = json.loads((specs / "registry" / "index.json").read_text())
    assert [(e["version"], e["schema_type"]) for e in index["orders"]] == [(1, "JSON"), (2, "JSON")]
    assert (specs / "registry" / "orders" / "v2.schema.json").is_file()
    migrations = sorted(p.name for p in (tmp / "generated" / "orders" / "migrations").iterdir())
    assert len(migrations) == 2
    added = (tmp / "generated" / "orders" / "migrations" / migrations[1]).read_text()
    assert "ADD COLUMN IF NOT EXISTS `coupon` Nullable(String)" in added
    m = import_models(tmp)
    assert sorted(m.WRITER_SCHEMAS) == [index["orders"][0]["id"], index["orders"][1]["id"]]


def test_incompatible_change_is_refused_with_a_located_finding(built: tuple[Path, Path]) -> None:
    tmp, specs = built
    before = (specs / "registry" / "index.json").read_text()
    data = schema(specs)
    data["properties"]["quantity"] = {"type": "integer", "minimum": 5}  # narrows: BACKWARD fails
    write_schema(specs, data)
    res = build(tmp, specs)
    assert res.returncode == 1
    line = next(i for i, t in enumerate((specs / "orders.schema.json").read_text().splitlines(), 1)
                if '"minimum": 5' in t)
    findings = [ln for ln in res.stderr.splitlines() if ": error[" in ln]
    assert findings and findings[0].startswith(f"specs/orders.schema.json:{line}:"), res.stderr
    assert "BACKWARD against v1 of orders" in findings[0]
    assert (specs / "registry" / "index.json").read_text() == before  # nothing registered
    assert moosegen("check", str(specs), "--output", str(tmp / "generated"),
                    cwd=tmp).returncode == 1


DRAFT7 = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Order",
    "type": "object",
    "definitions": {
        "money": {"type": "object", "properties": {"units": {"type": "integer"},
                                                   "currency": {"type": "string"}},
                  "required": ["units", "currency"]},
    },
    "properties": {
        "order_id": {"type": "string", "format": "uuid"},
        "placed_at": {"type": "string", "format": "date-time"},
        "price": {"$ref": "#/definitions/money"},
        "notes": {"type": ["array", "null"], "items": {"type": "string"}},
    },
    "required": ["order_id", "placed_at", "price"],
}


def test_draft_07_with_definitions(tmp_path: Path) -> None:
    specs, _ = orders_project(tmp_path)
    write_schema(specs, DRAFT7)
    res = build(tmp_path, specs)
    assert res.returncode == 0, res.stderr
    ddl = (tmp_path / "generated" / "orders" / "table.sql").read_text()
    assert "`price` Tuple(`units` Int64, `currency` String)" in ddl
    assert "`notes` Array(String)" in ddl and "warning[CH_NULLABLE_COMPOSITE]" in res.stderr
    m = import_models(tmp_path)
    good = {"order_id": str(uuid.UUID(int=1)), "placed_at": "2026-01-02T03:04:05Z",
            "price": {"units": 5, "currency": "EUR"}}
    assert m.ROWS.validate_json(json.dumps([good]))[0]["price"] == {"units": 5, "currency": "EUR"}
    with pytest.raises(ValueError):
        m.ROWS.validate_json(json.dumps([{**good, "price": {"units": "5", "currency": "EUR"}}]))


def test_a_json_schema_stream_is_json_on_the_wire(tmp_path: Path) -> None:
    specs, _ = orders_project(tmp_path)
    spec = specs / "orders.yaml"
    spec.write_text(spec.read_text().replace("format: json", "format: avro"))
    res = build(tmp_path, specs)
    line = next(i for i, t in enumerate(spec.read_text().splitlines(), 1) if t.startswith("format"))
    assert res.returncode == 2
    assert f"specs/orders.yaml:{line}:9: error[BAD_VALUE]: a JSON Schema stream" in res.stderr


def test_a_recursive_reference_is_a_located_error(tmp_path: Path) -> None:
    specs, _ = orders_project(tmp_path)
    data = schema(specs)
    data["$defs"] = {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}}
    data["properties"]["tree"] = {"$ref": "#/$defs/node"}
    write_schema(specs, data)
    res = build(tmp_path, specs)
    assert res.returncode == 2, res.stderr
    lines = (specs / "orders.schema.json").read_text().splitlines()
    line = next(i for i, t in enumerate(lines, 1)
                if '"#/$defs/node"' in t and "next" in lines[i - 2])
    assert f"specs/orders.schema.json:{line}:" in res.stderr
    assert "recursive reference '#/$defs/node'" in res.stderr and "Traceback" not in res.stderr
