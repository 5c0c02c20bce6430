# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""The consume loop: batch → plan → decode/validate/transform/route → insert → DLQ → commit."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .batching import Batcher
from .columns import ColumnBuilder, Lineage, RowSource
from .config import DestinationConfig, ServiceConfig
from .deadletter import DeadLetterWriter, decide
from .errors import DataError, TransientError, is_data_error
from .hooks import resolve
from .lifecycle import STOP, install
from .metrics import Health, Metrics, serve
from .pipeline import Failure, Item, Pipeline, Routed
from .planning import Block, decode_plan

log = logging.getLogger("moosegen.runtime")

LOST_PARTITION_ERRORS = (
    "ILLEGAL_GENERATION",
    "UNKNOWN_MEMBER_ID",
    "REBALANCE_IN_PROGRESS",
    "FENCED_INSTANCE_ID",
    "_ASSIGNMENT_LOST",
    "STALE_MEMBER_EPOCH",
)


class Abandon(Exception):
    """Stop working on the current batch (shutdown requested or the partition moved away)."""


@dataclass
class SyncContext:
    """What a custom `sync` hook gets besides the records."""

    client: Any
    block: Block
    runner: Runner
    calls: int = 0

    @property
    def topic(self) -> str:
        return self.block.topic

    @property
    def partition(self) -> int:
        return self.block.partition

    def insert(self, rows: Sequence[Any], table: str | None = None) -> None:
        """Validate and insert rows (models or dicts) into a destination (default table)."""
        self.calls += 1
        self.runner.sync_insert(self, rows, table)


class Runner:
    def __init__(
        self, config: ServiceConfig, consumer: Any = None, producer: Any = None, client: Any = None
    ) -> None:
        self.config = config
        self.pipeline = Pipeline(config)
        self.error_handler = (
            resolve(config.error_handler, "error_handler") if config.error_handler else None
        )
        self.batcher = Batcher(config.topic)
        self.builders = {d.name: ColumnBuilder(d.columns) for d in config.destinations}
        self.dests: dict[str, DestinationConfig] = {d.name: d for d in config.destinations}
        self.default_dest = next(
            (d.name for d in config.destinations if d.is_default),
            config.destinations[0].name if config.destinations else "",
        )
        self.metrics = Metrics(config.stream)
        self.health = Health(config.health_interval_ms / 1000, config.health_timeout_ms / 1000)
        self.consumer = consumer
        self.producer = producer
        self.client = client
        self.dlq: DeadLetterWriter | None = None
        self.assigned: set[int] = set()
        self.http: Any = None

    # -- wiring ------------------------------------------------------------
    def connect(self) -> None:
        from confluent_kafka import Consumer, Producer

        cfg = self.config
        if self.consumer is None:
            conf: dict[str, Any] = {
                "bootstrap.servers": cfg.bootstrap_servers,
                "group.id": cfg.effective_group_id,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "partition.assignment.strategy": "cooperative-sticky",
                "max.poll.interval.ms": 600_000,
                "error_cb": self._kafka_error,
            }
            conf.update(cfg.kafka_config)
            self.consumer = Consumer(conf)
        if self.producer is None:
            pconf: dict[str, Any] = {
                "bootstrap.servers": cfg.bootstrap_servers,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "error_cb": self._kafka_error,
            }
            pconf.update(
                {
                    k: v
                    for k, v in cfg.kafka_config.items()
                    if k.startswith("security") or k.startswith("sasl") or k.startswith("ssl")
                }
            )
            self.producer = Producer(pconf)
        if self.client is None:
            self.client = connect_clickhouse(cfg.clickhouse_url, cfg.database)
        self.health.clickhouse_ok = True
        self.dlq = DeadLetterWriter(self.producer, cfg.dead_letter.topic)

    def _kafka_error(self, err: Any) -> None:
        log.warning("kafka error: %s", err, extra={"event": "kafka_error"})
        if getattr(err, "code", lambda: None)() in (-195, -187):  # _TRANSPORT, _ALL_BROKERS_DOWN
            self.health.kafka_ok = False

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        committed = partitions
        for attempt in range(5):
            try:
                committed = consumer.committed(partitions, timeout=10)
                break
            except Exception as exc:  # noqa: BLE001 - retried, then assume nothing pending
                log.warning("reading committed offsets failed (attempt %d): %s", attempt + 1, exc)
                time.sleep(min(2**attempt, 5))
        for tp in committed:
            end = decode_plan(tp.metadata, tp.offset)
            pending = (tp.offset, end) if end is not None else None
            self.batcher.assign(tp.partition, pending)
            self.assigned.add(tp.partition)
            if pending:
                log.info(
                    "re-forming planned block",
                    extra={
                        "event": "replan",
                        "partition": tp.partition,
                        "start": tp.offset,
                        "end": end,
                    },
                )
        self.health.kafka_ok = True
        log.info(
            "partitions assigned", extra={"event": "assign", "partitions": sorted(self.assigned)}
        )

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        for tp in partitions:
            self.batcher.revoke(tp.partition)
            self.assigned.discard(tp.partition)
        log.info(
            "partitions revoked",
            extra={"event": "revoke", "partitions": [tp.partition for tp in partitions]},
        )

    @property
    def stop(self) -> bool:
        return STOP.is_set()

    def request_stop(self, *_: Any) -> None:
        STOP.set()

    # -- main loop ---------------------------------------------------------
    def run(self) -> int:
        cfg = self.config
        install()
        self.connect()
        if cfg.metrics_enabled or cfg.health_enabled:
            self.http = serve(
                cfg.metrics_port, self.metrics if cfg.metrics_enabled else None, self.health
            )
        self.consumer.subscribe(
            [cfg.topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        self.health.progress()
        log.info(
            "service started",
            extra={"event": "start", "topic": cfg.topic, "group": cfg.effective_group_id},
        )
        last_message = time.monotonic()
        try:
            while not self.stop:
                got = self.gather()
                if got:
                    last_message = time.monotonic()
                blocks = self.batcher.cut(self._positions())
                if blocks:
                    self.process(blocks)
                self.health.progress()
                if cfg.idle_exit_s and time.monotonic() - last_message > cfg.idle_exit_s:
                    log.info("idle, exiting", extra={"event": "idle_exit"})
                    break
        finally:
            self.close()
        return 0

    def close(self) -> None:
        try:
            if self.producer is not None:
                self.producer.flush(10)
            if self.consumer is not None:
                self.consumer.close()
        finally:
            if self.http is not None:
                self.http.shutdown()
        log.info("service stopped", extra={"event": "stop"})

    def gather(self) -> int:
        """Consume until batch.size messages or batch.timeout after the first one."""
        cfg = self.config
        added = 0
        deadline: float | None = None
        idle_until = time.monotonic() + 1.0
        while not self.stop and added < cfg.batch_size:
            now = time.monotonic()
            if deadline is None:
                if now >= idle_until:
                    break
                timeout = min(0.5, idle_until - now)
            else:
                timeout = deadline - now
                if timeout <= 0:
                    break
            msgs = self.consumer.consume(
                num_messages=min(cfg.batch_size - added, 100_000), timeout=max(timeout, 0.0)
            )
            good = []
            for m in msgs:
                err = m.error()
                if err is None:
                    good.append(m)
                elif not err.name() == "_PARTITION_EOF":
                    log.warning("consume error: %s", err, extra={"event": "consume_error"})
            if good:
                self.health.kafka_ok = True
                if deadline is None:
                    deadline = time.monotonic() + cfg.batch_timeout_ms / 1000
                added += self.batcher.add(good)
                self.metrics.messages.inc(len(good))
        return added

    def _positions(self) -> dict[int, int]:
        if not any(self.batcher.pending(p) for p in self.batcher.partitions):
            return {}
        from confluent_kafka import TopicPartition

        tps = [TopicPartition(self.config.topic, p) for p in self.batcher.partitions]
        try:
            return {tp.partition: tp.offset for tp in self.consumer.position(tps)}
        except Exception:  # noqa: BLE001 - positions only help complete a pending block
            return {}

    # -- one batch ---------------------------------------------------------
    def process(self, blocks: list[tuple[Block, list[Any]]]) -> None:
        from confluent_kafka import TopicPartition

        topic = self.config.topic
        self.metrics.batch_size.observe(sum(len(m) for _, m in blocks))
        plans = [
            TopicPartition(topic, b.partition, b.start, metadata=b.plan_metadata) for b, _ in blocks
        ]
        try:
            self.commit(plans)
        except Abandon:
            return
        done: list[Block] = []
        try:
            for block, msgs in blocks:
                if block.partition not in self.assigned:
                    continue
                self.process_block(block, msgs)
                done.append(block)
        except Abandon:
            log.info(
                "batch abandoned; stored blocks are committed, the rest is replayed",
                extra={"event": "abandon"},
            )
        finally:
            ends = [
                TopicPartition(topic, b.partition, b.end, metadata="")
                for b in done
                if b.partition in self.assigned
            ]
            if ends:
                try:
                    self.commit(ends, give_up_on_stop=True)
                except Abandon:
                    pass
            self._update_lag()

    def process_block(self, block: Block, msgs: list[Any]) -> None:
        p = self.pipeline
        cfg = self.config
        items, failures = p.decode(msgs)
        dead: list[tuple[Failure, int]] = []
        stored: list[Item] = []
        if p.sync is not None:
            stored = self._run_sync(block, items, dead, failures)
        else:
            routed, more = p.route_items(items)
            failures.extend(more)
            attempt = 1
            retry = self._triage(failures, attempt, dead)
            while retry:
                self.wait(cfg.dead_letter.retry_delay_ms / 1000)
                attempt += 1
                again, more = p.route_items([Item(f.msg, {}, f.record) for f in retry])
                for name, r in again.items():
                    routed[name].rows.extend(r.rows)
                    routed[name].items.extend(r.items)
                retry = self._triage(more, attempt, dead)
            for name, r in routed.items():
                self.store(block, name, r, dead)
            dead_ids = {id(f.msg) for f, _ in dead}
            stored = [i for i in items if id(i.msg) not in dead_ids]
        if p.consumers and stored:
            self._run_consumers(stored, dead)
        if dead:
            assert self.dlq is not None
            self._with_backoff(lambda: self.dlq.send(dead) if self.dlq else None, "dead-letter")
            for f, _ in dead:
                self.metrics.dead_lettered.labels(cfg.stream, f.error_type).inc()
                log.warning(
                    "dead-lettered",
                    extra={
                        "event": "dead_letter",
                        "stage": f.stage,
                        "partition": f.msg.partition(),
                        "offset": f.msg.offset(),
                        "error": str(f.error)[:300],
                    },
                )
        if msgs:
            ts_type, ts = msgs[0].timestamp()
            if ts_type and ts > 0:
                self.metrics.latency.observe(max(0.0, time.time() - ts / 1000))

    def _triage(
        self, failures: list[Failure], attempt: int, dead: list[tuple[Failure, int]]
    ) -> list[Failure]:
        retry: list[Failure] = []
        for f in failures:
            self.metrics.errors.labels(self.config.stream, f.stage).inc()
            choice = decide(f, attempt, self.config.dead_letter.max_retries, self.error_handler)
            if choice == "retry":
                retry.append(f)
            elif choice == "dead_letter":
                dead.append((f, attempt))
            else:
                self.metrics.dropped.inc()
                log.info(
                    "dropped by the error handler",
                    extra={
                        "event": "drop",
                        "partition": f.msg.partition(),
                        "offset": f.msg.offset(),
                    },
                )
        return retry

    def _run_sync(
        self,
        block: Block,
        items: list[Item],
        dead: list[tuple[Failure, int]],
        failures: list[Failure],
    ) -> list[Item]:
        p = self.pipeline
        assert p.sync is not None
        cfg = self.config
        records: list[Any] = []
        ok: list[Item] = []
        for item in items:
            try:
                records.extend(p.records_after_transform(item))
                ok.append(item)
            except Exception as exc:  # noqa: BLE001
                failures.append(Failure(item.msg, exc, "transform", True, item.model))
        attempt = 1
        retry = self._triage(failures, attempt, dead)
        while retry:
            self.wait(cfg.dead_letter.retry_delay_ms / 1000)
            attempt += 1
            more: list[Failure] = []
            for f in retry:
                try:
                    records.extend(p.records_after_transform(Item(f.msg, {}, f.record)))
                    ok.append(Item(f.msg, {}, f.record))
                except Exception as exc:  # noqa: BLE001
                    more.append(Failure(f.msg, exc, "transform", True, f.record))
            retry = self._triage(more, attempt, dead)
        for attempt in range(1, cfg.dead_letter.max_retries + 2):
            ctx = SyncContext(self.client, block, self)
            try:
                p.sync(records, ctx)
                return ok
            except (Abandon, TransientError):
                raise
            except Exception as exc:  # noqa: BLE001 - the hook failed: retry, then DLQ all
                self.metrics.errors.labels(cfg.stream, "sync").inc()
                log.warning("sync hook failed (attempt %d): %s", attempt, exc)
                if attempt > cfg.dead_letter.max_retries:
                    dead.extend((Failure(i.msg, exc, "sync", True, i.model), attempt) for i in ok)
                    return []
                self.wait(cfg.dead_letter.retry_delay_ms / 1000)
        return ok

    def sync_insert(self, ctx: SyncContext, rows: Sequence[Any], table: str | None) -> None:
        name = table or self.default_dest
        if name not in self.dests:
            raise LookupError(f"unknown destination {name!r}")
        plain = [r.model_dump(by_alias=True) if hasattr(r, "model_dump") else r for r in rows]
        checked = list(self.pipeline.adapters[name].validate_python(plain))
        src = RowSource(ctx.block.topic, ctx.block.partition, ctx.block.start, 0)
        data = self.builders[name].build(checked, [src] * len(checked))
        self.insert(name, data, ctx.block.token(name, f"sync{ctx.calls}"))

    def _run_consumers(self, stored: list[Item], dead: list[tuple[Failure, int]]) -> None:
        cfg = self.config
        for hook in self.pipeline.consumers:
            pending = list(stored)
            attempt = 1
            while pending:
                failures: list[Failure] = []
                for item in pending:
                    try:
                        hook(item.model)
                    except Exception as exc:  # noqa: BLE001
                        failures.append(Failure(item.msg, exc, "consumer", True, item.model))
                retry = self._triage(failures, attempt, dead)
                pending = [Item(f.msg, {}, f.record) for f in retry]
                if pending:
                    self.wait(cfg.dead_letter.retry_delay_ms / 1000)
                    attempt += 1

    # -- inserting -----------------------------------------------------------
    def store(
        self, block: Block, name: str, routed: Routed, dead: list[tuple[Failure, int]]
    ) -> None:
        if not routed.rows:
            return
        self._store_range(block, name, routed, 0, len(routed.rows), dead, whole=True)

    def _store_range(
        self,
        block: Block,
        name: str,
        routed: Routed,
        lo: int,
        hi: int,
        dead: list[tuple[Failure, int]],
        whole: bool = False,
    ) -> None:
        items = routed.items[lo:hi]
        sources = Lineage([i.msg for i in items])
        token = block.token(name) if whole else block.token(name, f"{lo}-{hi}")
        try:
            data = self.builders[name].build(routed.rows[lo:hi], sources)
            self.insert(name, data, token)
            self.metrics.rows.labels(self.config.stream, name).inc(hi - lo)
        except DataError as exc:
            if hi - lo == 1:
                dead.append(
                    (
                        Failure(
                            items[0].msg, exc.__cause__ or exc, "insert", False, items[0].model
                        ),
                        1,
                    )
                )
                return
            mid = (lo + hi) // 2
            self._store_range(block, name, routed, lo, mid, dead)
            self._store_range(block, name, routed, mid, hi, dead)
        except (TypeError, ValueError, OverflowError) as exc:  # a conversion failed
            if hi - lo == 1:
                dead.append((Failure(items[0].msg, exc, "insert", False, items[0].model), 1))
                return
            mid = (lo + hi) // 2
            self._store_range(block, name, routed, lo, mid, dead)
            self._store_range(block, name, routed, mid, hi, dead)

    def insert(self, name: str, data: list[list[Any]], token: str) -> None:
        builder = self.builders[name]
        delay = 0.5
        while True:
            started = time.perf_counter()
            try:
                builder.insert(
                    self.client,
                    name,
                    data,
                    self.config.database,
                    {"async_insert": 0, "insert_deduplication_token": token},
                )
                self.metrics.insert_latency.labels(self.config.stream, name).observe(
                    time.perf_counter() - started
                )
                self.health.clickhouse_ok = True
                return
            except Exception as exc:  # noqa: BLE001 - classified below
                builder.forget_insert_types()
                if is_data_error(exc):
                    raise DataError(str(exc)) from exc
                self.health.clickhouse_ok = False
                self.metrics.errors.labels(self.config.stream, "clickhouse").inc()
                log.warning(
                    "clickhouse insert failed, backing off %.1fs: %s",
                    delay,
                    exc,
                    extra={"event": "clickhouse_backoff", "table": name},
                )
                self.wait(delay)
                delay = min(delay * 2, self.config.max_backoff_s)

    # -- Kafka side ------------------------------------------------------------
    def commit(self, offsets: list[Any], give_up_on_stop: bool = False) -> None:
        delay = 0.5
        while True:
            offsets = [tp for tp in offsets if tp.partition in self.assigned]
            if not offsets:
                return
            try:
                self.consumer.commit(offsets=offsets, asynchronous=False)
                self.health.kafka_ok = True
                return
            except Exception as exc:  # noqa: BLE001
                text = str(exc)
                if any(code in text for code in LOST_PARTITION_ERRORS):
                    log.warning("commit refused after a rebalance: %s", exc)
                    self.consumer.poll(0.1)  # let the rebalance callbacks run
                    continue
                self.health.kafka_ok = False
                log.warning(
                    "commit failed, backing off %.1fs: %s",
                    delay,
                    exc,
                    extra={"event": "kafka_backoff"},
                )
                if self.stop and give_up_on_stop:
                    raise Abandon() from exc
                self.wait(delay)
                delay = min(delay * 2, self.config.max_backoff_s)

    def _with_backoff(self, fn: Any, what: str) -> None:
        delay = 0.5
        while True:
            try:
                fn()
                return
            except TransientError as exc:
                log.warning("%s failed, backing off %.1fs: %s", what, delay, exc)
                self.wait(delay)
                delay = min(delay * 2, self.config.max_backoff_s)

    def wait(self, seconds: float) -> None:
        """Sleep with every partition paused, polling to stay in the group; stop aborts."""
        if self.stop:
            raise Abandon()
        assignment = self.consumer.assignment()
        if assignment:
            self.consumer.pause(assignment)
        try:
            deadline = time.monotonic() + seconds
            while not self.stop:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                msg = self.consumer.poll(min(0.2, remaining))
                if msg is not None and msg.error() is None:
                    self.batcher.add([msg])
                self.health.progress()
        finally:
            current = [tp for tp in self.consumer.assignment()]
            if current:
                self.consumer.resume(current)
        if self.stop:
            raise Abandon()

    def _update_lag(self) -> None:
        from confluent_kafka import TopicPartition

        try:
            tps = [TopicPartition(self.config.topic, p) for p in sorted(self.assigned)]
            for tp in self.consumer.position(tps):
                _, high = self.consumer.get_watermark_offsets(tp, cached=True)
                if high >= 0 and tp.offset >= 0:
                    self.metrics.lag.labels(self.config.stream, str(tp.partition)).set(
                        max(0, high - tp.offset)
                    )
        except Exception:  # noqa: BLE001 - lag is best effort
            pass


def _source(msg: Any) -> RowSource:
    _, ts = msg.timestamp()
    return RowSource(msg.topic(), msg.partition(), msg.offset(), ts)


def connect_clickhouse(url: str, database: str = "default") -> Any:
    """A clickhouse-connect client for `http(s)://...` or `chdb:///path` (secrets from env)."""
    import os

    import clickhouse_connect

    if url.startswith("chdb:"):
        return clickhouse_connect.get_client(dsn=url)
    kwargs: dict[str, Any] = {"dsn": url}
    if os.environ.get("CLICKHOUSE_USER"):
        kwargs["username"] = os.environ["CLICKHOUSE_USER"]
    if os.environ.get("CLICKHOUSE_PASSWORD"):
        kwargs["password"] = os.environ["CLICKHOUSE_PASSWORD"]
    return clickhouse_connect.get_client(**kwargs)
