"""Hostile names, docs, defaults and expressions: refused with a located error, or rendered so
ClickHouse sees exactly the intended identifier or literal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.clickhouse.conftest import build_into, diagnostics_of, write_specs
from moosegen.runtime.chvalues import quote_identifier, quote_string
from moosegen.runtime.migrations import MARKER, apply_migrations, split_statements

NASTY = [
    "it's",
    "back\\slash",
    "tick`",
    "semi; DROP TABLE x",
    "-- comment",
    "/* c */",
    "'); DROP--",
    "line\nbreak",
    f"x\n{MARKER}\nDROP TABLE m",
    "tab\tline\nfeed",
    "line\u2028separator",
    "é ü 漢字 🙂",
    "\\'",
]


def _avsc(doc: str, default: str) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": "M",
            "namespace": "t",
            "doc": doc,
            "fields": [
                {"name": "id", "type": "string", "doc": doc},
                {"name": "s", "type": "string", "default": default},
                {
                    "name": "e",
                    "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]},
                    "default": "B",
                },
            ],
        }
    )


@pytest.mark.parametrize("text", ["tab\tcr\r", "\x00nul", "nel\x85"])
def test_control_characters_in_docs_are_refused_at_their_line(text: str, tmp_path: Path) -> None:
    quoted = json.dumps(text)
    specs = write_specs(
        tmp_path / "specs",
        {
            "m.yaml": f"stream: m\ndescription: {quoted}\nschema: m.avsc\nkey: [id]\n",
            "m.avsc": _avsc("ok", "x"),
        },
    )
    errors = [d for d in diagnostics_of(specs) if d.severity == "error"]
    assert [(d.code, d.path.endswith("m.yaml"), d.line) for d in errors] == [
        ("CONTROL_CHARACTER", True, 2)
    ], [d.text() for d in errors]


@pytest.mark.parametrize("text", NASTY)
def test_literals_reach_clickhouse_exactly(
    text: str, tmp_path: Path, client: Any, database: str
) -> None:
    quoted = json.dumps(text, ensure_ascii=False)
    specs = write_specs(
        tmp_path / "specs",
        {
            "m.yaml": f"stream: m\ndescription: {quoted}\nschema: m.avsc\nkey: [id]\n"
            f"table: {{columns: {{e: {{comment: {quoted}}}}}}}\n",
            "m.avsc": _avsc(text, text),
        },
    )
    out = build_into(specs, tmp_path / "gen")
    for path in (out / "m" / "migrations").iterdir():
        assert len(split_statements(path.read_text())) == 1
    apply_migrations(client, out / "m" / "migrations", "m", database)
    comments = dict(
        client.query(
            "SELECT name, comment FROM system.columns WHERE database = {db:String} AND table = 'm'",
            parameters={"db": database},
        ).result_rows
    )
    assert comments["id"] == text and comments["e"] == text
    assert client.query(
        "SELECT comment FROM system.tables WHERE database = {db:String} AND name = 'm'",
        parameters={"db": database},
    ).result_rows == [(text,)]
    client.insert("m", [["k"]], column_names=["id"], settings={"async_insert": 0})
    row = client.query("SELECT s, e FROM m").result_rows[0]
    assert row == (text, "B")


@pytest.mark.parametrize("name", ["a`b", "x\\`; DROP TABLE t; --", "é", "a b", "sp\nace"])
def test_identifiers_quoted_exactly(name: str, client: Any, database: str) -> None:
    client.command(
        f"CREATE TABLE {quote_identifier(name)} ({quote_identifier(name)} String "
        f"DEFAULT {quote_string(name)}) ENGINE = MergeTree ORDER BY tuple()"
    )
    assert client.query(
        "SELECT table, name, default_expression FROM system.columns WHERE database = {db:String}",
        parameters={"db": database},
    ).result_rows[0][:2] == (name, name)


def _one_error(tmp_path: Path, spec: str, avsc: str | None = None) -> list[tuple[str, int, str]]:
    files = {"m.yaml": spec}
    files["m.avsc"] = avsc or json.dumps(
        {
            "type": "record",
            "name": "M",
            "fields": [{"name": "id", "type": "string"}, {"name": "ts", "type": "long"}],
        }
    )
    specs = write_specs(tmp_path / "specs", files)
    return [(d.code, d.line, d.path) for d in diagnostics_of(specs) if d.severity == "error"]


BASE = "stream: m\nschema: m.avsc\nkey: [id]\n"


@pytest.mark.parametrize(
    ("table", "code", "line"),
    [
        ("table: {order_by: [id, 'ts; DROP TABLE m']}", "CH_BAD_EXPRESSION", 4),
        ("table:\n  partition_by: toYYYYMM(ts) -- x", "CH_BAD_EXPRESSION", 5),
        ("table:\n  ttl: ts /* x */ + 1", "CH_BAD_EXPRESSION", 5),
        ("table:\n  columns:\n    ts: {codec: 'ZSTD(3'}", "CH_BAD_EXPRESSION", 6),
        ('table:\n  columns:\n    ts: {default: "\'x"}', "CH_BAD_EXPRESSION", 6),
        (
            "table:\n  columns:\n    ts: {materialized: 'now(); DROP TABLE m'}",
            "CH_BAD_EXPRESSION",
            6,
        ),
        ("table:\n  columns:\n    ts: {type: 'String) ENGINE = Log; --'}", "CH_BAD_TYPE", 6),
        ("table:\n  settings: {'a = 1, b': 2}", "CH_BAD_SETTING", 5),
        ("table:\n  columns:\n    ts: {low_cardinality: true}", "CH_LOW_CARDINALITY", 6),
    ],
)
def test_bad_expressions_are_located_errors(
    table: str, code: str, line: int, tmp_path: Path
) -> None:
    errors = _one_error(tmp_path, BASE + table + "\n")
    assert [(c, ln) for c, ln, _ in errors] == [(code, line)]
    assert errors[0][2].endswith("m.yaml")


def test_bad_names_never_reach_sql(tmp_path: Path) -> None:
    errors = _one_error(tmp_path, "stream: 'm`; DROP'\nschema: m.avsc\n")
    assert errors and errors[0][1] == 1
    bad_field = json.dumps(
        {"type": "record", "name": "M", "fields": [{"name": "a`b", "type": "string"}]}
    )
    errors = _one_error(tmp_path / "f", "stream: m\nschema: m.avsc\n", bad_field)
    assert errors and errors[0][2].endswith("m.avsc")


def test_string_values_are_kept_with_settings(tmp_path: Path) -> None:
    from moosegen.build import generate

    specs = write_specs(
        tmp_path / "specs",
        {
            "m.yaml": BASE + 'table: {settings: {storage_policy: "it\'s"}}\n',
            "m.avsc": json.dumps(
                {"type": "record", "name": "M", "fields": [{"name": "id", "type": "string"}]}
            ),
        },
    )
    sql = generate(specs).files["m/table.sql"].decode()
    assert "storage_policy = 'it\\'s'" in sql
