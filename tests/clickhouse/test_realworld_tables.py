"""The real-world corpus on the ClickHouse engine: DDL, migrations and both column paths.

For each stream of tests/corpus/realworld: `table.sql` and the migrations run on chdb;
25 derandomized records (every union branch, edge values) go through the service's
in-process column path into the migrated table and through the worker path (Arrow
IPC, as a worker process builds it) into the `table.sql` table; both read back the
same rows, one per record.
"""

from __future__ import annotations

import importlib
import io
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import clickhouse_connect
import pytest
from fastavro import schemaless_writer
from hypothesis import HealthCheck, given, settings
from moosegen.runtime.columns import ColumnBuilder, Lineage
from moosegen.runtime.migrations import apply_migrations
from moosegen.runtime.pipeline import Pipeline
from moosegen.runtime.workers import WorkerSpec, prepare_block, table_from_ipc

from tests.clickhouse.conftest import ROOT, build_into
from tests.models.avro_strategies import AvroStrategies

SPECS = ROOT / "tests/corpus/realworld/specs"
STREAMS = sorted(p.stem for p in SPECS.glob("*.yaml") if p.name != "moosegen.yaml")
PACKAGE = "mg_realworld_ch"
RECORDS = 25


class Msg:
    """A consumed message as confluent-kafka gives it (what the pipeline reads)."""

    def __init__(self, value: bytes, offset: int) -> None:
        self._value, self._offset = value, offset

    def value(self) -> bytes:
        return self._value

    def offset(self) -> int:
        return self._offset

    def partition(self) -> int:
        return 0

    def topic(self) -> str:
        return "realworld"

    def key(self) -> bytes | None:
        return None

    def headers(self) -> list[tuple[str, bytes]]:
        return []

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_700_000_000_000 + self._offset)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("realworld_ch")
    build_into(SPECS, root / PACKAGE)
    (root / PACKAGE / "__init__.py").touch()
    sys.path.insert(0, str(root))
    return root / PACKAGE


def draw_records(strategies: AvroStrategies) -> list[Any]:
    drawn: list[Any] = []

    @settings(
        max_examples=RECORDS,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategies.records())
    def draw(record: Any) -> None:
        drawn.append(record)

    draw()
    return drawn


def payloads(models: ModuleType, strategies: AvroStrategies, fmt: str) -> list[bytes]:
    out = []
    for record in draw_records(strategies):
        buffer = io.BytesIO()
        schemaless_writer(buffer, strategies.schema, record)
        raw = buffer.getvalue()
        if fmt == "json":  # the producer's JSON form of the record fastavro wrote
            out.append(models.encode_json(models.MODEL.model_validate(models.decode_avro(raw))))
        else:  # Avro single-object encoding of fastavro's own bytes
            out.append(b"\xc3\x01" + models.FINGERPRINT + raw)
    return out


def connect(engine_path: Path, database: str) -> Any:
    return clickhouse_connect.get_client(
        dsn=f"chdb://{engine_path}", database=database, tz_mode="schema"
    )


def run_ddl(engine_path: Path, generated: Path, stream: str, database: str) -> tuple[Any, Any]:
    """The migrations into `database`, table.sql into `database`_sql: their clients."""
    migrated = connect(engine_path, database)
    migrated.command(f"CREATE DATABASE IF NOT EXISTS `{database}_sql`")
    apply_migrations(migrated, generated / stream / "migrations", stream, database)
    created = connect(engine_path, f"{database}_sql")
    text = (generated / stream / "table.sql").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    for statement in code.split(";\n"):
        if statement.strip():
            created.command(statement)
    return migrated, created


@pytest.mark.parametrize("stream", STREAMS)
def test_ddl_and_migrations_run(
    generated: Path,
    client: Any,
    database: str,
    engine_path: Path,
    stream: str,
) -> None:
    run_ddl(engine_path, generated, stream, database)


def read_back(client: Any, table: str) -> list[str]:
    result = client.query(f"SELECT * FROM `{table}`")
    return sorted(repr(row) for row in result.result_rows)


@pytest.mark.parametrize("stream", STREAMS)
def test_records_reach_the_table_by_both_column_paths(
    generated: Path, client: Any, database: str, engine_path: Path, stream: str
) -> None:
    service = importlib.import_module(f"{PACKAGE}.{stream}.service")
    models = service.models
    config = service.CONFIG
    strategies = AvroStrategies(json.loads(models.SCHEMA_JSON))
    values = payloads(models, strategies, config.format)
    msgs = [Msg(v, k) for k, v in enumerate(values)]

    migrated, other = run_ddl(engine_path, generated, stream, database)

    pipeline = Pipeline(config)
    items, failures = pipeline.decode(msgs)
    assert not failures, [f"{f.stage}: {f.error}" for f in failures]
    (dest,) = config.destinations
    builder = ColumnBuilder(dest.columns)
    data = builder.build([i.row for i in items], Lineage([i.msg for i in items]))
    builder.insert(migrated, dest.name, data)

    spec = WorkerSpec(models.__name__, stream, "realworld", config.format, (dest,), 1 << 20)
    offsets = list(range(len(values)))
    stamps = [m.timestamp()[1] for m in msgs]
    block = prepare_block(spec, "realworld", 0, values, offsets, stamps)
    if builder.arrow is None:
        # A column without an Arrow form (Tuple, Variant): the worker hands the block
        # back and the service prepares it in process, as above.
        assert block is None
        builder.insert(other, dest.name, data)
    else:
        assert block is not None and block.failed == [], "the worker path refused the block"
        other.insert_arrow(dest.name, table_from_ipc(block.tables[dest.name]))

    in_process, by_workers = read_back(migrated, dest.name), read_back(other, dest.name)
    assert len(in_process) == len(values) == RECORDS
    assert in_process == by_workers
    assert len(set(in_process)) > 1  # the records differ
