"""Sync-path throughput of the consumer runtime, side by side in one run.

    PYTHONPATH=generator:. python bench/service_throughput.py [N] [REPS] [--kafka=HOST:PORT]

With --kafka (a local broker, e.g. `scripts/kafka up --name bench`, whose last line is
the bootstrap address), (a) and (b) are also run end to end: both consume the same N
messages from the broker (see `end_to_end`), and both ratios are printed.

Everything comes from the generated example project: `generated/events/models.py`
(the TypedDict `ROWS` adapter and the model), the columns of the default destination
of `generated/events/service.py` (lineage columns included) and the vendored runtime
`generated/_runtime` that the generated service runs (rebuild with
`PYTHONPATH=generator python -m moosegen build specs` after changing the runtime).

(a) transport ceiling: ClickHouse parses the raw JSON payloads itself
    (INSERT ... FORMAT JSONEachRow of the same messages, one insert per batch);
(b) the runtime's plain sync path, as the runner does it: batch validation with the
    TypedDict adapter, routing, lineage, column building, column-oriented insert with
    clickhouse-connect (Kafka consumption simulated from an in-memory list of
    messages: this measures the runtime, not the broker);
(b') the same plain path with worker processes (`generated/_runtime/workers.py`, pool of
    WORKERS processes, env MOOSEGEN_WORKERS, default min(2, CPUs)): each block is split
    into one chunk per worker, decoded, validated and built into Arrow there, and sent
    back as Arrow IPC buffers; the bench process inserts block i while the workers
    prepare block i+1 (in memory; end to end it also consumes block i+2 meanwhile, as
    the runner does);
(c) one pydantic model per message, then the same columns and insert.

All three use the same chdb engine, table layout and batch size. The machine may be
shared and noisy, so the three are interleaved REPS times and the medians reported,
with a per-stage breakdown of (b).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import clickhouse_connect

from generated._runtime.columns import ColumnBuilder, Lineage, RowSource
from generated._runtime.config import DeadLetterConfig, DestinationConfig, ServiceConfig
from generated._runtime.pipeline import Pipeline
from generated._runtime.workers import WorkerPool, WorkerSpec, resolve_workers, table_from_ipc
from generated.events import models
from generated.events.service import CONFIG as SERVICE

DEST = next(d for d in SERVICE.destinations if d.is_default)
COLUMNS = DEST.columns
BATCH = 20_000


class Msg:
    __slots__ = ("_o", "_v")

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
        return (1, 1767322000000 + self._o)

    def key(self) -> None:
        return None

    def headers(self) -> None:
        return None


def payloads(n: int) -> list[bytes]:
    kinds = ["click", "view", "purchase"]
    return [
        json.dumps(
            {
                "id": str(uuid.uuid4()),
                "timestamp": "2026-01-02T03:04:05.678Z",
                "user_id": f"user{i % 1000}",
                "event_type": kinds[i % 3],
                "amount": f"{i % 100}.2500",
                "data": {"k": str(i)},
            }
        ).encode()
        for i in range(n)
    ]


def source_of(msg: Msg) -> RowSource:  # what the runner's _source does
    return RowSource(msg.topic(), msg.partition(), msg.offset(), msg.timestamp()[1])


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--kafka")]
    kafka = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--kafka=")), None)
    n = int(args[0]) if len(args) > 0 else 100_000
    reps = int(args[1]) if len(args) > 1 else 5
    folder = tempfile.mkdtemp(prefix="moosegen-bench-")
    client = clickhouse_connect.get_client(dsn=f"chdb://{Path(folder) / 'db'}")
    body = ", ".join(f"`{c.name}` {c.type}" for c in COLUMNS)
    for t in ("a", "b", "w", "c"):
        client.command(f"CREATE TABLE {t} ({body}) ENGINE = MergeTree ORDER BY tuple()")
    data = payloads(n)
    msgs = [Msg(p, i) for i, p in enumerate(data)]
    cfg = ServiceConfig(
        stream="events",
        topic="events",
        models=models,
        destinations=(DestinationConfig("b", COLUMNS),),
        dead_letter=DeadLetterConfig("events-dlq"),
    )
    pipeline = Pipeline(cfg)
    assert pipeline.plain
    builder = ColumnBuilder(COLUMNS)
    settings = {"async_insert": 0}
    workers = resolve_workers(None)
    pool = WorkerPool(
        WorkerSpec("generated.events.models", "events", "events", "json", (DEST,), 8 << 20),
        workers,
    )
    pool.start()
    for _ in range(3):  # untimed: the workers' first blocks load pyarrow and warm up
        assert pool.result(pool.submit(0, msgs[:BATCH])) is not None
    # The simulated topic (all N messages, held for the whole run) is a bench artifact: a
    # service holds one block. Keep it out of the collector's way, as a service's would be.
    gc.collect()
    gc.freeze()

    # The chdb engine's own share of an insert: wrap the backend's query call.
    backend = client._backend  # noqa: SLF001 - measuring only
    engine_time = [0.0]
    run = backend._run  # noqa: SLF001

    def timed_run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return run(*args, **kwargs)
        finally:
            engine_time[0] += time.perf_counter() - started

    backend._run = timed_run  # noqa: SLF001

    stages: dict[str, float] = {}

    def stage(name: str, started: float) -> float:
        now = time.perf_counter()
        stages[name] = stages.get(name, 0.0) + now - started
        return now

    def run_a(rep: int) -> None:
        for i in range(0, n, BATCH):
            client.command(
                "INSERT INTO a FORMAT JSONEachRow\n"
                + "\n".join(p.decode() for p in data[i : i + BATCH]),
                settings={**settings, "date_time_input_format": "best_effort"},
            )

    def run_b(rep: int) -> None:
        for i in range(0, n, BATCH):
            t = time.perf_counter()
            items, failures = pipeline.decode(msgs[i : i + BATCH])
            assert not failures
            t = stage("decode + validate", t)
            routed, _ = pipeline.route_items(items)
            r = routed["b"]
            sources = Lineage([it.msg for it in r.items])  # what the runner's _store_range does
            t = stage("route + lineage", t)
            cols = builder.build(r.rows, sources)
            t = stage("build columns", t)
            engine_before = engine_time[0]
            builder.insert(
                client,
                "b",
                cols,
                settings={**settings, "insert_deduplication_token": f"b{rep}-{i}"},
            )
            engine = engine_time[0] - engine_before
            stages["chdb engine"] = stages.get("chdb engine", 0.0) + engine
            stages["insert (client side)"] = (
                stages.get("insert (client side)", 0.0) + time.perf_counter() - t - engine
            )

    def run_w(rep: int) -> None:
        pending: Any = None
        starts: list[int | None] = [*range(0, n, BATCH), None]
        for i in starts:
            futures = pool.submit(0, msgs[i : i + BATCH]) if i is not None else None
            if pending is not None:  # insert the previous block while this one is prepared
                j, done = pending
                result = pool.result(done)
                assert result is not None and not result.failed
                client.insert_arrow(
                    "w",
                    table_from_ipc(result.tables[DEST.name]),
                    settings={**settings, "insert_deduplication_token": f"w{rep}-{j}"},
                )
            pending = (i, futures) if i is not None else None

    def run_c(rep: int) -> None:
        model = models.MODEL
        for i in range(0, n, BATCH):
            rows: list[dict[str, Any]] = [
                model.model_validate_json(p).model_dump() for p in data[i : i + BATCH]
            ]
            sources = [source_of(m) for m in msgs[i : i + BATCH]]
            cols = builder.build(rows, sources)
            builder.insert(client, "c", cols, settings=settings)

    runs: dict[str, Callable[[int], None]] = {"a": run_a, "b": run_b, "w": run_w, "c": run_c}
    rates: dict[str, list[float]] = {k: [] for k in runs}
    ratios: dict[str, list[float]] = {"b": [], "w": [], "c": []}
    breakdown: list[dict[str, float]] = []
    for rep in range(reps):
        rep_rates: dict[str, float] = {}
        for name, fn in runs.items():
            stages.clear()
            started = time.perf_counter()
            fn(rep)
            rep_rates[name] = n / (time.perf_counter() - started)
            rates[name].append(rep_rates[name])
            if name == "b":
                breakdown.append(dict(stages))
        ratios["b"].append(rep_rates["b"] / rep_rates["a"])
        ratios["w"].append(rep_rates["w"] / rep_rates["a"])
        ratios["c"].append(rep_rates["c"] / rep_rates["a"])
    for t in ("a", "b", "w", "c"):
        count = client.query(f"SELECT count() FROM {t}").result_rows[0][0]
        assert count == n * reps, (t, count)
    same = client.query(
        "SELECT count() FROM (SELECT * EXCEPT (_topic, _partition, _offset, _timestamp) FROM b"
        " EXCEPT SELECT * EXCEPT (_topic, _partition, _offset, _timestamp) FROM a)"
    ).result_rows[0][0]
    assert same == 0, f"{same} rows of (b) differ from what ClickHouse parsed in (a)"
    same = client.query("SELECT count() FROM (SELECT * FROM w EXCEPT SELECT * FROM b)")
    assert same.result_rows[0][0] == 0, "(b') stored other rows than (b)"

    med = {k: statistics.median(v) for k, v in rates.items()}
    print(
        f"messages: {n}, batch: {BATCH}, repetitions: {reps} (interleaved a, b, c; medians), "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d}"
    )
    print(f"(a) ClickHouse parses JSONEachRow   {med['a']:>10,.0f} msg/s")
    print(
        f"(b) runtime sync path (TypedDict)   {med['b']:>10,.0f} msg/s   "
        f"(b)/(a) = {statistics.median(ratios['b']):.2f}"
    )
    print(
        f"(b') sync path, {workers} worker processes {med['w']:>9,.0f} msg/s   "
        f"(b')/(a) = {statistics.median(ratios['w']):.2f}"
    )
    print(
        f"(c) one model per message           {med['c']:>10,.0f} msg/s   "
        f"(c)/(a) = {statistics.median(ratios['c']):.2f}"
    )
    print("    per repetition (b)/(a): " + ", ".join(f"{r:.2f}" for r in ratios["b"]))
    print("    per repetition (b')/(a): " + ", ".join(f"{r:.2f}" for r in ratios["w"]))
    print("(b) per stage, median µs per message:")
    total = 0.0
    for key in breakdown[0]:
        us = statistics.median(b[key] for b in breakdown) * 1e6 / n
        total += us
        print(f"    {key:<20} {us:6.2f}")
    print(f"    {'total':<20} {total:6.2f}")
    if kafka:
        memory = (statistics.median(ratios["b"]), statistics.median(ratios["w"]))
        end_to_end(client, kafka, data, reps, memory, pool)
    pool.close()


def end_to_end(
    client: Any,
    bootstrap: str,
    data: list[bytes],
    reps: int,
    memory: tuple[float, float],
    pool: WorkerPool,
) -> None:
    """(a) and (b) again, each consuming the same N messages from a real broker.

    The messages are produced once to a fresh one-partition topic; every repetition of
    each path reads all of them from offset 0 with its own consumer group (`assign`, no
    group rebalance to wait for), `Consumer.consume(num_messages=...)` into blocks of
    BATCH, and commits as it goes: (a) once per block, (b) as the runner does (the plan
    with the block's range before the insert, the end after it). The timing includes
    consuming, so the ratio is the end-to-end one.
    """
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    from generated._runtime.planning import Block

    n = len(data)
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    # The messages carry fixed timestamps in the past: no time-based retention, or the
    # broker deletes them while the bench runs (then a path reads nothing).
    admin.create_topics([NewTopic(topic, 1, 1, config={"retention.ms": "-1"})])[
        topic
    ].result(timeout=30)
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 50, "compression.type": "lz4"}
    )
    for i, p in enumerate(data):
        while True:
            try:
                producer.produce(topic, p, timestamp=1767322000000 + i)
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(60) == 0
    cfg = ServiceConfig(
        stream="events",
        topic=topic,
        models=models,
        destinations=(DestinationConfig("kb", COLUMNS),),
        dead_letter=DeadLetterConfig("events-dlq"),
    )
    pipeline = Pipeline(cfg)
    builder = ColumnBuilder(COLUMNS)
    body = ", ".join(f"`{c.name}` {c.type}" for c in COLUMNS)
    for t in ("ka", "kb", "kw"):
        client.command(f"CREATE TABLE {t} ({body}) ENGINE = MergeTree ORDER BY tuple()")

    def blocks(group: str) -> Any:
        consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "fetch.max.bytes": 64 * 1024 * 1024,
            }
        )
        consumer.assign([TopicPartition(topic, 0, 0)])
        seen = 0
        pending: list[Any] = []
        deadline = time.monotonic() + 120
        try:
            while seen < n and time.monotonic() < deadline:
                got = consumer.consume(num_messages=BATCH - len(pending), timeout=1.0)
                pending.extend(m for m in got if m.error() is None)
                if len(pending) >= BATCH or seen + len(pending) >= n:
                    seen += len(pending)
                    yield consumer, pending
                    pending = []
        finally:
            consumer.close()
        assert seen == n, f"consumed {seen} of {n}"

    def run_a(rep: int) -> None:
        for consumer, msgs in blocks(f"bench-a-{topic}-{rep}"):
            client.command(
                "INSERT INTO ka FORMAT JSONEachRow\n" + "\n".join(m.value().decode() for m in msgs),
                settings={"async_insert": 0, "date_time_input_format": "best_effort"},
            )
            last = msgs[-1]
            consumer.commit(
                offsets=[TopicPartition(topic, 0, last.offset() + 1)], asynchronous=False
            )

    def run_b(rep: int) -> None:
        for consumer, msgs in blocks(f"bench-b-{topic}-{rep}"):
            block = Block(topic, 0, msgs[0].offset(), msgs[-1].offset() + 1)
            consumer.commit(
                offsets=[TopicPartition(topic, 0, block.start, metadata=block.plan_metadata)],
                asynchronous=False,
            )
            items, failures = pipeline.decode(msgs)
            assert not failures
            routed, _ = pipeline.route_items(items)
            r = routed["kb"]
            cols = builder.build(r.rows, Lineage([it.msg for it in r.items]))
            builder.insert(
                client,
                "kb",
                cols,
                settings={"async_insert": 0, "insert_deduplication_token": block.token(f"kb{rep}")},
            )
            consumer.commit(
                offsets=[TopicPartition(topic, 0, block.end, metadata="")], asynchronous=False
            )

    def run_w(rep: int) -> None:
        # As the runner does with workers: the next block is consumed while the workers
        # prepare this one; the workers start on the next block, then this one's plan is
        # committed, it is inserted, its end committed.
        def finish(consumer: Any, block: Block, futures: Any) -> None:
            consumer.commit(
                offsets=[TopicPartition(topic, 0, block.start, metadata=block.plan_metadata)],
                asynchronous=False,
            )
            result = pool.result(futures)
            assert result is not None and not result.failed
            client.insert_arrow(
                "kw",
                table_from_ipc(result.tables[DEST.name]),
                settings={"async_insert": 0, "insert_deduplication_token": block.token(f"kw{rep}")},
            )
            consumer.commit(
                offsets=[TopicPartition(topic, 0, block.end, metadata="")], asynchronous=False
            )

        inflight: Any = None
        seen = 0
        for consumer, msgs in blocks(f"bench-w-{topic}-{rep}"):
            block = Block(topic, 0, msgs[0].offset(), msgs[-1].offset() + 1)
            seen += len(msgs)
            nxt = (block, pool.submit(0, msgs))  # the workers start on it ...
            if inflight is not None:  # ... while the previous one is stored here
                finish(consumer, *inflight)
            inflight = nxt
            if seen >= n:  # the last block: nothing left to consume meanwhile
                finish(consumer, *inflight)
                inflight = None

    for _ in blocks(f"bench-warm-{topic}"):  # untimed: the broker's first read is slower
        pass
    rates: dict[str, list[float]] = {"a": [], "b": [], "w": []}
    ratios: list[float] = []
    wratios: list[float] = []
    for rep in range(reps):
        for name, fn in (("a", run_a), ("b", run_b), ("w", run_w)):
            started = time.perf_counter()
            fn(rep)
            rates[name].append(n / (time.perf_counter() - started))
        ratios.append(rates["b"][-1] / rates["a"][-1])
        wratios.append(rates["w"][-1] / rates["a"][-1])
    for t in ("ka", "kb", "kw"):
        count = client.query(f"SELECT count() FROM {t}").result_rows[0][0]
        assert count == n * reps, (t, count)
    same = client.query(
        "SELECT count() FROM (SELECT * EXCEPT (_topic, _partition, _offset, _timestamp) FROM kb"
        " EXCEPT SELECT * EXCEPT (_topic, _partition, _offset, _timestamp) FROM ka)"
    ).result_rows[0][0]
    assert same == 0, f"{same} rows of (b) differ from what ClickHouse parsed in (a)"
    lineage = client.query(
        f"SELECT countIf(_topic != '{topic}' OR _partition != 0), uniqExact(_offset),"
        " min(_offset), max(_offset) FROM kb"
    ).result_rows[0]
    assert lineage == (0, n, 0, n - 1), lineage
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"end to end from a local broker ({bootstrap}, topic {topic}, 1 partition):")
    print(f"(a) consume + ClickHouse parses JSON {med['a']:>10,.0f} msg/s")
    print(
        f"(b) consume + runtime sync path      {med['b']:>10,.0f} msg/s   "
        f"(b)/(a) = {statistics.median(ratios):.2f}"
    )
    print("    per repetition (b)/(a): " + ", ".join(f"{r:.2f}" for r in ratios))
    print(
        f"(b') consume + workers ({pool.workers})        {med['w']:>10,.0f} msg/s   "
        f"(b')/(a) = {statistics.median(wratios):.2f}"
    )
    print("    per repetition (b')/(a): " + ", ".join(f"{r:.2f}" for r in wratios))
    same = client.query(
        "SELECT count() FROM (SELECT * EXCEPT _offset FROM kw"
        " EXCEPT SELECT * EXCEPT _offset FROM kb)"
    )
    assert same.result_rows[0][0] == 0, "(b') stored other rows than (b)"
    print(
        f"ratios: in memory (b)/(a) = {memory[0]:.2f}, (b')/(a) = {memory[1]:.2f}; "
        f"end to end (b)/(a) = {statistics.median(ratios):.2f}, "
        f"(b')/(a) = {statistics.median(wratios):.2f}"
    )


if __name__ == "__main__":
    main()
