"""JSON columns on the real engine: the generated DDL, both insert paths, queries by path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from moosegen.runtime.chvalues import column_converter, parse_type
from moosegen.runtime.columns import ColumnBuilder, RowSource
from moosegen.runtime.config import ColumnConfig
from moosegen.runtime.migrations import apply_migrations

from tests.clickhouse.conftest import ROOT, build_into, diagnostics_of, write_specs

SPECS = ROOT / "tests" / "models" / "data" / "json_fields"

ROWS: list[dict[str, Any]] = [
    {
        "id": "d1",
        "data": {"a": {"b": 7, "s": "x"}, "list": [1, None, 3], "gone": None},
        "extra": None,
        "props": {"source": "app", "secret": "s3", "tmp_x": 1, "n": {"m": [{"k": 1}]}},
        "tags": [{"t": 1}, {}],
    },
    {
        "id": "d2",
        "data": {"a": {"b": -1}, "objs": [{"k": "v"}, {"k": None}]},
        "extra": {"e": True},
        "props": {"source": "web"},
        "tags": [],
    },
]


@pytest.fixture
def documents(client: Any, database: str, tmp_path: Path) -> list[ColumnConfig]:
    out = build_into(SPECS, tmp_path / "out")
    apply_migrations(client, out / "documents" / "migrations", "documents", database)
    described = client.query("DESCRIBE TABLE documents").result_rows
    return [ColumnConfig(name, name, ch_type) for name, ch_type, *_ in described]


def _sources(n: int) -> list[RowSource]:
    return [RowSource("t", 0, i, 0) for i in range(n)]


def _stored(client: Any) -> list[tuple[Any, ...]]:
    return client.query(
        "SELECT id, data.a.b, data.a.s, data.list, data.objs[].k, extra.e, props.source, "
        "toTypeName(props.source), props.secret, props.tmp_x, props.n.m, "
        "toJSONString(data), length(tags) FROM documents ORDER BY id"
    ).result_rows


EXPECTED = [
    (
        "d1",
        7,
        "x",
        [1, None, 3],
        [],  # no objects at data.objs: an empty array of k
        None,
        "app",
        "LowCardinality(String)",
        None,
        None,
        [{"k": 1}],
        '{"a":{"b":7,"s":"x"},"list":[1,null,3]}',
        2,
    ),
    ("d2", -1, None, None, ["v", None], True, "web", "LowCardinality(String)", None, None, None,
     '{"a":{"b":-1},"objs":[{"k":"v"},{}]}', 0),
]


def test_generated_ddl_has_json_columns_with_their_shape(documents: list[ColumnConfig]) -> None:
    types = {c.name: c.type for c in documents}
    assert types["data"] == "JSON" and types["extra"] == "Nullable(JSON)"
    assert types["tags"] == "Array(JSON)"
    props = types["props"]
    assert props.startswith("JSON(") and "max_dynamic_paths=16" in props
    assert "source LowCardinality(String)" in props and "SKIP secret" in props
    assert "SKIP REGEXP '^tmp_'" in props
    assert str(parse_type(props)) == props  # DESCRIBE's form reads back as it is


def test_arrow_path_stores_objects_queried_by_path(
    client: Any, documents: list[ColumnConfig]
) -> None:
    builder = ColumnBuilder(documents)
    data = builder.build(ROWS, _sources(len(ROWS)))
    assert builder.to_arrow(data) is None  # Array(JSON) has no Arrow form here: Native
    top = [c for c in documents if c.name != "tags"]
    arrow_builder = ColumnBuilder(top)
    arrow_data = arrow_builder.build(ROWS, _sources(len(ROWS)))
    assert arrow_builder.to_arrow(arrow_data) is not None
    arrow_builder.insert(client, "documents", arrow_data)
    got = client.query(
        "SELECT id, data.a.b, data.list, extra.e, props.source, props.secret "
        "FROM documents ORDER BY id"
    ).result_rows
    assert got == [(r[0], r[1], r[3], r[5], r[6], r[8]) for r in EXPECTED]


def test_native_path_stores_objects_queried_by_path(
    client: Any, documents: list[ColumnConfig]
) -> None:
    builder = ColumnBuilder(documents)
    builder.insert(client, "documents", builder.build(ROWS, _sources(len(ROWS))))
    assert _stored(client) == EXPECTED


def test_json_text_columns_and_values() -> None:
    conv = column_converter("Nullable(JSON)")
    assert conv is not None
    assert conv(None) is None and conv({"a": [1, None]}) == '{"a":[1,null]}'
    assert conv('{"as": "text"}') == '{"as": "text"}'
    with pytest.raises(TypeError, match="JSON needs a dict"):
        conv([1, 2])
    with pytest.raises(ValueError):
        conv({"nan": float("nan")})  # no JSON text for it


def test_string_override_stores_the_json_text(client: Any, database: str, tmp_path: Path) -> None:
    out = build_into(SPECS, tmp_path / "out")
    apply_migrations(client, out / "changes" / "migrations", "changes", database)
    described = {r[0]: r[1] for r in client.query("DESCRIBE TABLE changes").result_rows}
    assert described == {"id": "String", "after": "Nullable(JSON)", "raw": "String"}
    builder = ColumnBuilder([ColumnConfig(n, n, t) for n, t in described.items()])
    rows = [{"id": "c1", "after": {"qty": 3}, "raw": {"z": [1, {"y": None}]}}]
    builder.insert(client, "changes", builder.build(rows, _sources(1)))
    got = client.query("SELECT after.qty, raw, JSONExtractInt(raw, 'z', 1) FROM changes")
    assert got.result_rows == [(3, '{"z":[1,{"y":null}]}', 1)]


def test_json_options_are_checked(tmp_path: Path) -> None:
    specs = write_specs(
        tmp_path / "specs",
        {
            "moosegen.yaml": "namespace: x\n",
            "bad.yaml": """\
                stream: bad
                fields:
                  id: string
                  doc: json
                table:
                  columns:
                    id: {json: {max_dynamic_paths: 4}}
                    doc: {json: {paths: {a.b: "Nope(", "": String}}}
                """,
        },
    )
    found = {(d.code, d.line, d.col) for d in diagnostics_of(specs) if d.severity == "error"}
    assert found == {("CH_JSON_OPTIONS", 7, 16), ("CH_BAD_TYPE", 8, 31), ("CH_BAD_TYPE", 8, 44)}
