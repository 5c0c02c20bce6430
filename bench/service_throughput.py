"""Sync-path throughput of the consumer runtime, side by side in one run.

    PYTHONPATH=generator:. python bench/service_throughput.py [N]

(a) transport ceiling: ClickHouse parses the raw JSON payloads itself
    (INSERT ... FORMAT JSONEachRow of the same messages, one insert per batch);
(b) the runtime's sync path: batch validation with the TypedDict adapter, column
    building, column-oriented insert (Kafka consumption simulated from an
    in-memory list of messages: this measures the runtime, not the broker);
(c) one pydantic model per message, then the same columns and insert.
All three use the same chdb engine, table layout and batch size.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import clickhouse_connect
from moosegen.runtime.columns import ColumnBuilder, RowSource
from moosegen.runtime.config import ColumnConfig, DeadLetterConfig, DestinationConfig, ServiceConfig
from moosegen.runtime.pipeline import Pipeline

from tests.runtime import events_models

ENUM = "Enum8('click' = 1, 'view' = 2, 'purchase' = 3, 'analytics' = 4, 'important' = 5)"
COLUMNS = (
    ColumnConfig("id", "id", "UUID"),
    ColumnConfig("timestamp", "timestamp", "DateTime64(3, 'UTC')"),
    ColumnConfig("user_id", "user_id", "String"),
    ColumnConfig("event_type", "event_type", ENUM, "click"),
    ColumnConfig("amount", "amount", "Nullable(Decimal(18, 4))"),
    ColumnConfig("data", "data", "Map(String, String)", {}),
    ColumnConfig("processed_by", "processed_by", "Nullable(String)"),
)


class Msg:
    __slots__ = ("_v", "_o")

    def __init__(self, value: bytes, offset: int) -> None:
        self._v, self._o = value, offset

    def value(self) -> bytes:
        return self._v

    def offset(self) -> int:
        return self._o

    def partition(self) -> int:
        return 0

    def topic(self) -> str:
        return "events"

    def timestamp(self) -> tuple[int, int]:
        return (1, 1767322000000)

    def key(self) -> None:
        return None

    def headers(self) -> None:
        return None


def payloads(n: int) -> list[bytes]:
    kinds = ["click", "view", "purchase"]
    return [json.dumps({"id": str(uuid.uuid4()), "timestamp": "2026-01-02T03:04:05.678Z",
                        "user_id": f"user{i % 1000}", "event_type": kinds[i % 3],
                        "amount": f"{i % 100}.2500", "data": {"k": str(i)}}).encode()
            for i in range(n)]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    batch = 20_000
    folder = tempfile.mkdtemp(prefix="moosegen-bench-")
    client = clickhouse_connect.get_client(dsn=f"chdb://{Path(folder) / 'db'}")
    body = ", ".join(f"`{c.name}` {c.type}" for c in COLUMNS)
    for t in ("a", "b", "c"):
        client.command(f"CREATE TABLE {t} ({body}) ENGINE = MergeTree ORDER BY tuple()")
    data = payloads(n)
    msgs = [Msg(p, i) for i, p in enumerate(data)]
    dest = DestinationConfig("b", COLUMNS)
    cfg = ServiceConfig(stream="events", topic="events", models=events_models,
                        destinations=(dest,), dead_letter=DeadLetterConfig("dlq"))
    pipeline = Pipeline(cfg)
    builder = ColumnBuilder(COLUMNS)
    settings = {"async_insert": 0}

    def run_a() -> None:
        for i in range(0, n, batch):
            client.command("INSERT INTO a FORMAT JSONEachRow\n" + "\n".join(
                p.decode() for p in data[i:i + batch]),
                settings={**settings, "date_time_input_format": "best_effort"})

    def run_b() -> None:
        for i in range(0, n, batch):
            items, failures = pipeline.decode(msgs[i:i + batch])
            assert not failures
            routed, _ = pipeline.route_items(items)
            r = routed["b"]
            sources = [RowSource("events", 0, it.msg.offset(), 0) for it in r.items]
            cols = builder.build(r.rows, sources)
            client.insert("b", data=cols, column_names=builder.names, column_oriented=True,
                          settings={**settings, "insert_deduplication_token": f"b{i}"})

    def run_c() -> None:
        model = events_models.MODEL
        for i in range(0, n, batch):
            rows: list[dict[str, Any]] = [model.model_validate_json(p).model_dump()
                                          for p in data[i:i + batch]]
            cols = builder.build(rows, [])
            client.insert("c", data=cols, column_names=builder.names, column_oriented=True,
                          settings=settings)

    results = {}
    for name, fn in (("a", run_a), ("b", run_b), ("c", run_c)):
        started = time.perf_counter()
        fn()
        results[name] = n / (time.perf_counter() - started)
    for t in ("a", "b", "c"):
        assert client.query(f"SELECT count() FROM {t}").result_rows[0][0] == n
    print(f"messages: {n}, batch: {batch}, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d}")
    print(f"(a) ClickHouse parses JSONEachRow   {results['a']:>10,.0f} msg/s")
    print(f"(b) runtime sync path (TypedDict)   {results['b']:>10,.0f} msg/s   "
          f"(b)/(a) = {results['b'] / results['a']:.2f}")
    print(f"(c) one model per message           {results['c']:>10,.0f} msg/s   "
          f"(c)/(a) = {results['c'] / results['a']:.2f}")


if __name__ == "__main__":
    main()
