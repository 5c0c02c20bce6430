"""The Avro → ClickHouse type table, and the generated DDL executed on the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from moosegen.build import generate
from moosegen.runtime.chvalues import parse_type
from moosegen.runtime.migrations import apply_migrations, split_statements
from moosegen.targets import StreamUnit
from moosegen.targets.clickhouse import columns

from tests.clickhouse.conftest import ROOT, build_into

# The mapping table, column by column, for the type corpus.
CORPUS_TYPES = {
    "id": "String",
    "flag": "Bool",
    "small": "Int32",
    "big": "Int64",
    "ratio": "Float32",
    "precise": "Float64",
    "blob": "String",
    "text": "String",
    "amount": "Decimal(18, 4)",
    "fixed_amount": "Decimal(12, 2)",
    "uid": "UUID",
    "day": "Date32",
    "t_ms": "Time64(3)",
    "t_us": "Time64(6)",
    "ts_ms": "DateTime64(3, 'UTC')",
    "ts_us": "DateTime64(6, 'UTC')",
    "ts_ns": "DateTime64(9, 'UTC')",
    "lts_ms": "DateTime64(3)",
    "lts_us": "DateTime64(6)",
    "lts_ns": "DateTime64(9)",
    "span": "Tuple(months UInt32, days UInt32, milliseconds UInt32)",
    "color": "Enum8('RED' = 1, 'GREEN' = 2, 'BLUE' = 3)",
    "digest": "FixedString(16)",
    "tags": "Array(String)",
    "scores": "Map(String, Int64)",
    "home": "Tuple(street String, zip Nullable(String))",
    "maybe_count": "Nullable(Int64)",
    "maybe_day": "Nullable(Date32)",
    "count_or_null": "Nullable(Int64)",
    "either": "Variant(Int64, String)",
    "maybe_tags": "Array(Int64)",
    "children": "Array(Tuple(label String, next Nullable(String)))",
    "class": "String",
    "renamed": "Int32",
}
PROJECTS = [ROOT / "specs", ROOT / "tests/corpus/types/specs"]


def norm(ch_type: str) -> str:
    return str(parse_type(ch_type))


def units(specs: Path) -> list[StreamUnit]:
    result = generate(specs)
    assert result.ok
    return result.units


def test_corpus_mapping_table() -> None:
    (unit,) = units(ROOT / "tests/corpus/types/specs")
    got = {c.name: c.type for c in columns(unit, unit.stream.destinations[0])}
    assert {k: norm(v) for k, v in got.items()} == {k: norm(v) for k, v in CORPUS_TYPES.items()}


def test_lossy_mappings_are_located_warnings() -> None:
    result = generate(ROOT / "tests/corpus/types/specs")
    found = {
        (d.code, d.severity, d.path.endswith("all_types.avsc"), d.line)
        for d in result.diagnostics
        if d.code.startswith("CH_")
    }
    assert ("CH_NULLABLE_COMPOSITE", "warning", True, 37) in found
    assert ("CH_RECURSIVE_RECORD", "warning", True, 40) in found


def test_example_columns_api() -> None:
    by_stream = {u.stream.name: u for u in units(ROOT / "specs")}
    events = by_stream["events"]
    cols = columns(events, events.stream.destinations[0])
    assert [(c.name, c.field, c.insertable) for c in cols][-4:] == [
        ("_topic", None, True),
        ("_partition", None, True),
        ("_offset", None, True),
        ("_timestamp", None, True),
    ]
    user = next(c for c in cols if c.name == "user_id")
    assert user.type == "LowCardinality(String)" and user.field == "user_id"
    data = next(c for c in cols if c.name == "data")
    assert data.codec == "ZSTD(3)"


def _system_columns(client: Any, database: str, table: str) -> list[tuple[Any, ...]]:
    return client.query(
        "SELECT name, type, default_kind, default_expression, comment, compression_codec "
        "FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position",
        parameters={"db": database, "t": table},
    ).result_rows


@pytest.mark.parametrize("specs", PROJECTS, ids=lambda p: p.parent.name + "/" + p.name)
def test_generated_ddl_runs_and_matches_mapping(
    specs: Path, tmp_path: Path, client: Any, database: str
) -> None:
    out = build_into(specs, tmp_path / "gen")
    for unit in units(specs):
        package = unit.stream.package
        # every migration, through the runner; then table.sql in a second database
        applied = apply_migrations(client, out / package / "migrations", package, database)
        assert len(applied) == len(unit.versions)
        assert applied[0] == "0001_create"
        assert apply_migrations(client, out / package / "migrations", package, database) == []
        other = database + "_t"
        client.command(f"CREATE DATABASE IF NOT EXISTS `{other}`")
        client.database = other
        for statement in split_statements((out / package / "table.sql").read_text()):
            client.command(statement)
        client.database = database
        for dest in unit.stream.destinations:
            described = client.query(f"DESCRIBE TABLE `{dest.name}`").result_rows
            expected = [(c.name, norm(c.type)) for c in columns(unit, dest)]
            assert [(r[0], norm(r[1])) for r in described] == expected
            # table.sql and the migrations build the same table
            assert _system_columns(client, database, dest.name) == _system_columns(
                client, other, dest.name
            )
            settings = client.command(
                "SELECT create_table_query FROM system.tables WHERE database = {db:String} "
                "AND name = {t:String}",
                parameters={"db": database, "t": dest.name},
            )
            assert "non_replicated_deduplication_window = 10000" in settings


def test_cluster_mode_text(tmp_path: Path) -> None:
    from tests.clickhouse.conftest import write_specs

    specs = write_specs(
        tmp_path / "specs",
        {
            "moosegen.yaml": "cluster: {name: main, sharding_key: cityHash64(id)}\n",
            "s.yaml": """\
            stream: s
            fields: {id: {type: string, key: true}, v: long}
            table: {engine: ReplacingMergeTree, version_column: v}
            """,
        },
    )
    result = generate(specs)
    assert result.ok, [d.text() for d in result.diagnostics]
    sql = result.files["s/table.sql"].decode()
    assert "CREATE TABLE IF NOT EXISTS `s_local` ON CLUSTER `main`" in sql
    assert (
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', "
        "'{replica}', `v`)"
    ) in sql
    assert "CREATE TABLE IF NOT EXISTS `s` ON CLUSTER `main` AS `s_local`" in sql
    assert "ENGINE = Distributed('main', currentDatabase(), 's_local', cityHash64(id))" in sql
    assert "non_replicated_deduplication_window" not in sql
    assert result.files["s/migrations/0001_create.sql"].decode().count("ON CLUSTER `main`") == 2


def test_cluster_without_distributed(tmp_path: Path) -> None:
    from tests.clickhouse.conftest import write_specs

    specs = write_specs(
        tmp_path / "specs",
        {
            "moosegen.yaml": "cluster: {name: main, distributed: false}\n",
            "s.yaml": "stream: s\nfields: {id: {type: string, key: true}}\n",
        },
    )
    sql = generate(specs).files["s/table.sql"].decode()
    assert "CREATE TABLE IF NOT EXISTS `s` ON CLUSTER `main`" in sql
    assert (
        "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', "
        "'{replica}')" in sql
    )
    assert "Distributed" not in sql
