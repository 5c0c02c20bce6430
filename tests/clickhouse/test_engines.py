"""Every MergeTree engine the spec offers, created on the engine from the generated DDL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.clickhouse.conftest import build_into, write_specs
from moosegen.runtime.migrations import apply_migrations

FIELDS = "fields: {id: {type: string, key: true}, v: long, sign: int, n: long, m: double}\n"


@pytest.mark.parametrize(
    ("table", "engine"),
    [
        ("{engine: ReplacingMergeTree, version_column: v}", "ReplacingMergeTree(v)"),
        ("{engine: SummingMergeTree, sum_columns: [n, m]}", "SummingMergeTree((n, m))"),
        ("{engine: AggregatingMergeTree}", "AggregatingMergeTree"),
        ("{engine: CollapsingMergeTree, sign_column: sign}", "CollapsingMergeTree(sign)"),
        (
            "{engine: VersionedCollapsingMergeTree, sign_column: sign, version_column: v}",
            "VersionedCollapsingMergeTree(sign, v)",
        ),
        (
            "{order_by: [id, 'cityHash64(id)'], primary_key: [id], partition_by: 'n % 4'}",
            "MergeTree",
        ),
    ],
)
def test_engine(table: str, engine: str, tmp_path: Path, client: Any, database: str) -> None:
    specs = write_specs(tmp_path / "specs", {"s.yaml": f"stream: s\n{FIELDS}table: {table}\n"})
    out = build_into(specs, tmp_path / "gen")
    apply_migrations(client, out / "s" / "migrations", "s", database)
    got = client.query(
        "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = 's'",
        parameters={"db": database},
    ).result_rows[0][0]
    assert got.startswith(engine)
    assert "non_replicated_deduplication_window = 10000" in got
