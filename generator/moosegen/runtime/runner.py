# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""The consume loop: batch → plan → decode/validate/transform/route → insert → DLQ → commit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .batching import Batcher
from .columns import ColumnBuilder, Lineage, RowSource
from .config import DestinationConfig, ServiceConfig
from .deadletter import DeadLetterWriter, decide
from .errors import DataError, TransientError, is_data_error
from .health import (
    Health,
    HealthChecker,
    LazyHandle,
    clickhouse_probe,
    kafka_probe,
    kafka_waiting,
    progress_probe,
)
from .hooks import resolve
from .lifecycle import STOP, install
from .metrics import Metrics, serve
from .pipeline import Failure, Item, Pipeline, Routed
from .planning import Block, decode_marks, decode_plan
from .registry import RegistryUnavailable
from .replays import checked
from .tombstones import Tombstones
from .workers import WorkerPool, WorkerSpec, resolve_workers, table_from_ipc

log = logging.getLogger("moosegen.runtime")

LOST_PARTITION_ERRORS = (
    "ILLEGAL_GENERATION",
    "UNKNOWN_MEMBER_ID",
    "REBALANCE_IN_PROGRESS",
    "FENCED_INSTANCE_ID",
    "_ASSIGNMENT_LOST",
    "STALE_MEMBER_EPOCH",
)


# The most partitions whose batch.size a batch gathers in full (see `Runner.gather`).
SPREAD = 4


class Abandon(Exception):
    """Stop working on the current batch (shutdown requested or the partition moved away)."""


@dataclass
class Work:
    """One block on its way: prepared (decoded, validated, transformed, routed), then stored.

    `block` is None when nothing of it is stored now (its first record awaits a retry).
    """

    block: Block | None
    msgs: list[Any]
    items: list[Item] = field(default_factory=list)
    routed: dict[str, Routed] | None = None  # None on the custom sync path
    records: list[tuple[Item, list[Any]]] = field(default_factory=list)  # sync path
    dead: list[tuple[Failure, int]] = field(default_factory=list)
    dropped: list[Failure] = field(default_factory=list)  # counted once the block is stored
    # Prepared by a worker process: one Arrow table per destination, whose rows are the
    # messages `good` in order (None: prepared in process, see `routed`).
    tables: dict[str, Any] | None = None
    good: list[Any] = field(default_factory=list)
    # Tombstones of a compacted topic, deleted once the block's rows are stored.
    tombstones: list[Any] = field(default_factory=list)
    # Destinations where every row of a replayed block is found already: not inserted again.
    landed: frozenset[str] = frozenset()


@dataclass
class Inflight:
    """The blocks of one batch while worker processes prepare them."""

    blocks: list[tuple[Block, list[Any], Any, int]]  # block, msgs, future, epoch

    def done(self) -> bool:
        return all(WorkerPool.done(f) for _, _, f, _ in self.blocks)


@dataclass
class ConsumerWait:
    """A stored block whose end is committed once its consumer hooks' retries are done."""

    block: Block
    calls: list[tuple[int, Item]]


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
        self.pipeline = Pipeline(config, max_message_bytes=config.message_limit)
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
        self.metrics = Metrics(config.stream, config.metrics)
        self.tombstones = Tombstones(config)
        self.health = Health(config.health_interval_ms / 1000, config.health_timeout_ms / 1000)
        self.consumer = consumer
        self.producer = producer
        self.client = client
        self.dlq: DeadLetterWriter | None = None
        self.assigned: set[int] = set()
        self.http: Any = None
        self.checker: HealthChecker | None = None
        # Failed attempts so far, by (partition, offset, what): 'record' for the stream's
        # hooks, 'sync' (offset = block start), 'consumer<k>' for the k-th consumer hook.
        self.attempts: dict[tuple[int, int, str], int] = {}
        self.consumer_waits: dict[int, ConsumerWait] = {}
        # Revocations per partition: a block prepared by a worker across a revocation
        # (even one followed by a new assignment) is dropped, the new owner replays it.
        self.epochs: dict[int, int] = {}
        self.pool: WorkerPool | None = None
        self.fatal: str | None = None  # a fatal Kafka error: the service exits with 1
        # Makes the consumer anew when it is stuck out of its group (None: one was given).
        self.make_consumer: Callable[[], Any] | None = None
        self.detached_since: float | None = None  # no partitions and no member id since

    # -- wiring ------------------------------------------------------------
    def connect(self) -> None:
        from confluent_kafka import Producer

        cfg = self.config
        if self.consumer is None:
            self.make_consumer = self._new_consumer
            self.consumer = self._new_consumer()
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
        try:
            self.clickhouse()
        except Exception as exc:  # noqa: BLE001 - waited out by the inserts' backoff
            log.warning(
                "clickhouse not reachable yet: %s", exc, extra={"event": "clickhouse_backoff"}
            )
        self.dlq = DeadLetterWriter(self.producer, cfg.dead_letter.topic)

    def _new_consumer(self) -> Any:
        from confluent_kafka import Consumer

        cfg = self.config
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
        if cfg.instance_id:
            conf["group.instance.id"] = cfg.instance_id
        if cfg.session_timeout_ms:
            conf["session.timeout.ms"] = cfg.session_timeout_ms
        conf.update(cfg.kafka_config)
        conf.update(cfg.consumer_config)
        return Consumer(conf)

    def clickhouse(self) -> Any:
        """The ClickHouse client, connected on first use (raises while unreachable)."""
        if self.client is None:
            self.client = connect_clickhouse(self.config.clickhouse_url, self.config.database)
            self.health.clickhouse_ok = True
        return self.client

    def _kafka_error(self, err: Any) -> None:
        if getattr(err, "fatal", lambda: False)():
            # e.g. fenced: another live member uses this instance id. The consumer is
            # unusable; stop (nothing stored is lost: its end commits or it is replayed).
            log.error("fatal kafka error, stopping: %s", err, extra={"event": "kafka_fatal"})
            self.fatal = str(err)
            STOP.set()
            return
        log.warning("kafka error: %s", err, extra={"event": "kafka_error"})
        if getattr(err, "code", lambda: None)() in (-195, -187):  # _TRANSPORT, _ALL_BROKERS_DOWN
            self.health.kafka_ok = False

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        if consumer is not self.consumer:
            return  # a consumer made anew: the old one's callbacks are stale
        # The committed metadata says which block to re-form (same range, same tokens):
        # never assume there is none, retry until read; stopping, take nothing on.
        attempt = 0
        while True:
            try:
                committed = consumer.committed(partitions, timeout=10)
                break
            except Exception as exc:  # noqa: BLE001 - a coordinator moving or unreachable
                attempt += 1
                log.warning("reading committed offsets failed (attempt %d): %s", attempt, exc)
                if STOP.wait(min(2**attempt, 5)):
                    log.info("stopping: assignment not taken on", extra={"event": "assign_skipped"})
                    return
        for tp in committed:
            end = decode_plan(tp.metadata, tp.offset)
            pending = (tp.offset, end) if end is not None else None
            self.batcher.assign(tp.partition, pending, decode_marks(tp.metadata))
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
        if consumer is not self.consumer:
            return
        for tp in partitions:
            self.batcher.revoke(tp.partition)
            self.assigned.discard(tp.partition)
            self.consumer_waits.pop(tp.partition, None)
            self.epochs[tp.partition] = self.epochs.get(tp.partition, 0) + 1
            self._forget(tp.partition)
        self.metrics.held.set(len(self.batcher.held()))
        log.info(
            "partitions revoked",
            extra={"event": "revoke", "partitions": [tp.partition for tp in partitions]},
        )

    @property
    def stop(self) -> bool:
        return STOP.is_set()

    def request_stop(self, *_: Any) -> None:
        STOP.set()

    # -- worker processes ----------------------------------------------------
    def workers_usable(self) -> bool:
        """Can worker processes prepare this stream's blocks? The plain path only (no hook
        needs model objects) and an Arrow form for every column. JSON and Avro alike: a
        worker resolves Avro writer schemas with its own registry client, and hands a
        block back to the service while the registry is out of reach."""
        return self.pipeline.plain and all(b.arrow is not None for b in self.builders.values())

    def start_workers(self) -> WorkerPool | None:
        n = resolve_workers(self.config.workers)
        if n <= 1 or not self.workers_usable():
            return None
        cfg = self.config
        spec = WorkerSpec(
            models=cfg.models.__name__,
            stream=cfg.stream,
            topic=cfg.topic,
            format=cfg.format,
            destinations=tuple(cfg.destinations),
            max_message_bytes=self.pipeline.max_message_bytes,
        )
        pool = WorkerPool(spec, n, timeout_s=cfg.worker_timeout_s)
        try:
            pool.start()
        except Exception as exc:  # noqa: BLE001 - the service still works in process
            log.error(
                "worker processes did not start (%s); blocks are processed in process",
                exc,
                extra={"event": "worker_error"},
            )
            pool.close(wait=False)
            return None
        log.info("worker processes started", extra={"event": "workers", "workers": n})
        return pool

    def submit(self, blocks: list[tuple[Block, list[Any]]]) -> Inflight:
        """Hand a batch's blocks to the workers; `finish` stores them."""
        assert self.pool is not None
        total = sum(len(m) for _, m in blocks)
        self.metrics.batch_size.observe(total)
        return Inflight(
            [
                (b, m, self.pool.submit(b.partition, m, total), self.epochs.get(b.partition, 0))
                for b, m in blocks
                if b.partition in self.assigned
            ]
        )

    def after(self, nxt: Inflight, clear: set[int]) -> Inflight | None:
        """The next batch once the previous one is stored: its blocks whose partition is
        not `clear` (an earlier block of it awaits a retry, or was not stored) are taken
        back — into the batcher behind the held records, or dropped when stopping (their
        plans are not committed: they are replayed)."""
        keep: list[tuple[Block, list[Any], Any, int]] = []
        for entry in nxt.blocks:
            block, msgs, future, _ = entry
            if block.partition in clear:
                keep.append(entry)
                continue
            WorkerPool.cancel(future)
            if block.partition in self.batcher.held() and not self.stop:
                self.batcher.requeue(block.partition, msgs)
        return Inflight(keep) if keep else None

    def finish(self, inflight: Inflight) -> set[int]:
        """Collect the workers' results (in process where a worker failed), then plan,
        store, dead-letter and commit exactly as `process` does. Returns the partitions
        whose blocks were all stored and committed, none held for a retry."""
        works: list[Work] = []
        try:
            for block, msgs, future, epoch in inflight.blocks:
                result = self.pool.result(future) if self.pool is not None else None
                if (
                    block.partition not in self.assigned
                    or self.epochs.get(block.partition, 0) != epoch
                ):
                    continue  # revoked meanwhile: the owner replays it from the committed offset
                if result is None:
                    works.append(self.prepare(block, msgs))
                else:
                    works.append(self.prepare_prepared(block, msgs, result))
        except Abandon:  # stopped while waiting for the registry: nothing stored, replayed
            return set()
        done = set(self.store_works(works))
        held = self.batcher.held()
        clear = {p for p in self.assigned if p not in held}
        for w in works:
            if w.block is None or w.block not in done:
                clear.difference_update(m.partition() for m in w.msgs[:1])
                if w.block is not None:
                    clear.discard(w.block.partition)
        return clear

    def prepare_prepared(self, block: Block, msgs: list[Any], result: Any) -> Work:
        """`prepare` for a block a worker prepared: its failed messages are decoded again
        here (so their failures are the in-process ones), then triaged and cut alike."""
        failed_msgs = [msgs[k] for k in result.failed]
        items: list[Item] = []
        failures: list[Failure] = []
        if failed_msgs:
            items, failures = self.decode(failed_msgs)
        if items or len(failures) != len(failed_msgs):
            log.warning(
                "a worker's failures differ from the in-process ones; block prepared in process",
                extra={"event": "worker_mismatch", "partition": block.partition},
            )
            return self.prepare(block, msgs)
        try:
            tables = {name: table_from_ipc(bufs) for name, bufs in result.tables.items()}
        except Exception as exc:  # noqa: BLE001 - chunks that do not concatenate: in process
            log.warning("worker tables unusable (%s); block prepared in process", exc)
            return self.prepare(block, msgs)
        failed = set(result.failed)
        good = [m for k, m in enumerate(msgs) if k not in failed]
        return self._triage_and_cut(Work(block, msgs, good=good, tables=tables), failures)

    # -- main loop ---------------------------------------------------------
    def run(self) -> int:
        cfg = self.config
        install()
        self.pool = self.start_workers()
        self.connect()
        if cfg.metrics_enabled or cfg.health_enabled:
            self.http = serve(
                cfg.metrics_port,
                self.metrics if cfg.metrics_enabled else None,
                self.health if cfg.health_enabled else None,
            )
        if cfg.health_enabled:
            self.checker = self.health_checker()
            self.checker.start()
        self.subscribe()
        self.health.progress()
        log.info(
            "service started",
            extra={
                "event": "start",
                "topic": cfg.topic,
                "group": cfg.effective_group_id,
                "instance": cfg.instance_id or None,
            },
        )
        last_message = time.monotonic()
        inflight: Inflight | None = None
        try:
            while not self.stop:
                self.release_due()
                self.check_membership()
                got = self.gather(inflight)
                if got:
                    last_message = time.monotonic()
                blocks = self.batcher.cut(self._positions(), cfg.batch_size)
                if inflight is not None:
                    # Workers prepared the previous batch while this one was consumed: they
                    # start on this one now, while the previous one is stored here.
                    done, inflight = inflight, None
                    nxt = self.submit(blocks) if blocks and self.pool is not None else None
                    blocks = []
                    clear = self.finish(done)
                    if nxt is not None:
                        inflight = self.after(nxt, clear)
                if blocks:
                    if self.pool is not None:
                        inflight = self.submit(blocks)
                    else:
                        self.process(blocks)
                self.health.progress()
                if (
                    inflight is None
                    and cfg.idle_exit_s
                    and time.monotonic() - last_message > cfg.idle_exit_s
                ):
                    log.info("idle, exiting", extra={"event": "idle_exit"})
                    break
            if inflight is not None:  # stopping: store what the workers prepared
                done, inflight = inflight, None
                self.finish(done)
        finally:
            self.close()
        return 0 if self.fatal is None else 1

    def subscribe(self) -> None:
        self.consumer.subscribe(
            [self.config.topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )

    def check_membership(self) -> None:
        """Make the consumer anew when it has had no partitions and no group member id for
        `rejoin_after_s`. librdkafka can stay out of its group after losing the
        coordinator — the broker back, the session expired, and no new join for minutes
        (seen here after a broker restart on a loaded machine; a restart of the process
        is the known cure). A member that merely has no partitions (more members than
        partitions) keeps its member id and is left alone. Nothing is lost: with no
        partitions nothing is in flight, and the new consumer starts from the committed
        offsets and plans."""
        if self.make_consumer is None or not self.config.rejoin_after_s:
            return
        try:
            joined = bool(self.assigned) or bool(self.consumer.memberid())
        except Exception:  # noqa: BLE001 - a closed or failed handle: not in the group
            joined = False
        now = time.monotonic()
        if joined or self.detached_since is None:
            self.detached_since = None if joined else now
            return
        if now - self.detached_since < self.config.rejoin_after_s:
            return
        log.warning(
            "consumer out of its group for %.0fs: making it anew",
            now - self.detached_since,
            extra={"event": "rejoin"},
        )
        self.metrics.errors.labels(self.config.stream, "kafka").inc()
        old, self.consumer = self.consumer, self.make_consumer()
        # close() leaves the group; it must not hold the service if the old handle hangs
        closer = threading.Thread(target=old.close, name="close-stuck-consumer", daemon=True)
        closer.start()
        closer.join(10)
        self.subscribe()
        self.detached_since = None

    def health_checker(self) -> HealthChecker:
        """The periodic checks of Kafka, ClickHouse and progress (see health.py)."""
        cfg = self.config

        def kafka_client() -> Any:
            from confluent_kafka import Consumer

            conf = {"bootstrap.servers": cfg.bootstrap_servers, "group.id": cfg.effective_group_id}
            return Consumer({**conf, "enable.auto.commit": False, **cfg.kafka_config})

        def partitions() -> list[int]:
            return sorted(set(self.assigned) - set(self.batcher.held()))

        kafka, waiting = LazyHandle(kafka_client), LazyHandle(kafka_client)
        handles = [kafka, waiting]
        client: Callable[[], Any] = self.clickhouse  # chdb, in process: shared safely
        if not cfg.clickhouse_url.startswith("chdb:"):
            client = LazyHandle(lambda: connect_clickhouse(cfg.clickhouse_url, cfg.database))
            handles.append(client)
        probes = {
            "kafka": kafka_probe(kafka, cfg.topic),
            "clickhouse": clickhouse_probe(client),
            "progress": progress_probe(
                self.health, kafka_waiting(waiting, cfg.topic, partitions), cfg.stall_after_s
            ),
        }
        interval, timeout = cfg.health_interval_ms / 1000, cfg.health_timeout_ms / 1000
        return HealthChecker(self.health, self.metrics, probes, interval, timeout, handles)

    def close(self) -> None:
        try:
            if self.checker is not None:  # before the consumer it queries is closed
                self.checker.stop()
            if self.pool is not None:
                self.pool.close()
                self.pool = None
            if self.producer is not None:
                self.producer.flush(10)
            if self.consumer is not None:
                self.consumer.close()
        finally:
            if self.http is not None:
                self.http.shutdown()
        log.info("service stopped", extra={"event": "stop"})

    def gather(self, inflight: Inflight | None = None) -> int:
        """Consume until batch.size messages of each partition the batch has messages of
        (of at most SPREAD partitions: memory stays bounded on a consumer of many), or
        batch.timeout after the first one; returns how many were added. batch.size is the
        size of a block, one insert: a batch of a 3-partition topic cut at batch.size in
        all gave blocks of a third of it, and each block has a fixed cost (a part, its
        merges, its commits).

        While workers prepare the previous batch (`inflight`), stop as soon as they are done.
        """
        cfg = self.config
        added = 0
        deadline: float | None = None
        idle_until = time.monotonic() + 1.0
        if self.batcher.waiting():  # released after a retry hold: the batch has begun
            deadline = time.monotonic() + cfg.batch_timeout_ms / 1000
        held = self.batcher.held()
        if held:  # come back when the first held partition is due
            idle_until = min(idle_until, max(min(held.values()), time.monotonic() + 0.05))
        while not self.stop:
            buffered, spread = self.batcher.ready()
            room = cfg.batch_size * min(max(spread, 1), SPREAD) - buffered
            if room <= 0 or (inflight is not None and inflight.done()):
                break
            now = time.monotonic()
            if deadline is None:
                if now >= idle_until:
                    break
                timeout = min(0.5, idle_until - now)
            else:
                timeout = deadline - now
                if timeout <= 0:
                    break
            if inflight is not None:
                timeout = min(timeout, 0.02)  # look at the workers often
            msgs = self.consumer.consume(num_messages=min(room, 100_000), timeout=max(timeout, 0.0))
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
        """Prepare every block, commit the plans, store, dead-letter, commit the ends.

        A record that awaits a retry holds only its own partition: the block is cut
        just before it (a block with a committed plan is held whole), the rest of the
        partition is put back in the batcher and paused until the retry is due, and
        the other partitions go on.
        """
        self.metrics.batch_size.observe(sum(len(m) for _, m in blocks))
        try:
            works = [self.prepare(b, m) for b, m in blocks if b.partition in self.assigned]
        except Abandon:  # stopped while waiting for the registry: nothing stored, replayed
            return
        self.store_works(works)

    def store_works(self, works: list[Work]) -> list[Block]:
        """Commit the plans of the prepared blocks, store them, commit their ends; returns
        the blocks whose ends are committed."""
        from confluent_kafka import TopicPartition

        topic = self.config.topic
        ready = [w for w in works if w.block is not None]
        plans = [
            TopicPartition(topic, w.block.partition, w.block.start, metadata=w.block.plan_metadata)
            for w in ready
            if w.block is not None
        ]
        try:
            self.commit(plans)
        except Abandon:
            return []
        done: list[Block] = []
        dead: list[tuple[Block, list[tuple[Failure, int]]]] = []
        try:
            for w in ready:
                assert w.block is not None
                if w.block.partition in self.assigned and self.store_work(w, dead):
                    done.append(w.block)
        except Abandon:
            log.info(
                "batch abandoned; stored blocks are committed, the rest is replayed",
                extra={"event": "abandon"},
            )
        finally:
            # One dead-letter flush for the batch (a round trip to the broker each), still
            # before any end is committed; a block whose dead letters were not
            # acknowledged is not committed (it is replayed).
            try:
                self.dead_letter([d for _, ds in dead for d in ds])
            except Abandon:
                unsent = {id(b) for b, ds in dead if ds}
                done = [b for b in done if id(b) not in unsent]
            committed = self.commit_ends(done)
            self._update_lag()
        return done if committed else []

    def commit_ends(self, done: list[Block]) -> bool:
        from confluent_kafka import TopicPartition

        ends = [
            TopicPartition(self.config.topic, b.partition, b.end, metadata="")
            for b in done
            if b.partition in self.assigned
        ]
        if not ends:
            return True
        try:
            self.commit(ends, give_up_on_stop=True)
        except Abandon:
            return False
        for b in done:
            self._forget(b.partition, b.end)
        self.health.stored()
        return True

    def prepare(self, block: Block, msgs: list[Any]) -> Work:
        """Decode, validate, transform and route one block; cut it before a pending retry."""
        p = self.pipeline
        work = Work(block, msgs)
        items, failures = self.decode(msgs)
        if p.sync is not None:
            for item in items:
                try:
                    work.records.append((item, p.records_after_transform(item)))
                except Exception as exc:  # noqa: BLE001 - a hook failure is the record's
                    failures.append(Failure(item.msg, exc, "transform", True, item.model))
        else:
            work.routed, more = p.route_items(items)
            failures.extend(more)
        failed = {id(f.msg) for f in failures}
        work.items = [i for i in items if id(i.msg) not in failed]
        return self._triage_and_cut(work, failures)

    def decode(self, msgs: list[Any]) -> tuple[list[Item], list[Failure]]:
        """The pipeline's decode; while the Schema Registry cannot answer, back off with
        every partition paused: the messages wait, none is dead-lettered for it."""
        delay = 0.5
        while True:
            try:
                return self.pipeline.decode(msgs)
            except RegistryUnavailable as exc:
                self.metrics.errors.labels(self.config.stream, "registry").inc()
                log.warning(
                    "schema registry unavailable, backing off %.1fs: %s",
                    delay,
                    exc,
                    extra={"event": "registry_backoff"},
                )
                self.wait(delay)
                delay = min(delay * 2, self.config.max_backoff_s)

    def _triage_and_cut(self, work: Work, failures: list[Failure]) -> Work:
        """Decide a prepared block's failures in offset order, up to the first record to
        retry (the records after it are prepared again once their partition is released,
        and decided then), and cut the block before that record."""
        block, msgs = work.block, work.msgs
        assert block is not None
        if self.tombstones.enabled:
            failures = self._take_tombstones(work, failures)
        failures.sort(key=lambda f: f.msg.offset())
        retry = self._triage(
            [(f, self._attempt(f.msg, "record"), "record") for f in failures],
            work.dead,
            work.dropped,
        )
        if not retry:
            return work
        first = min(f.msg.offset() for f in retry)
        until = time.monotonic() + self.config.dead_letter.retry_delay_ms / 1000
        if block.fixed or first <= block.start:
            self.hold(block.partition, msgs, until, block)
            work.block = None
            return work
        # Store [start, first) now; the rest of the partition waits for the retry.
        self.hold(block.partition, [m for m in msgs if m.offset() >= first], until)
        work.block = Block(block.topic, block.partition, block.start, first)
        work.msgs = [m for m in msgs if m.offset() < first]
        work.items = [i for i in work.items if i.msg.offset() < first]
        work.dead = [(f, n) for f, n in work.dead if f.msg.offset() < first]
        work.dropped = [f for f in work.dropped if f.msg.offset() < first]
        work.records = [(i, r) for i, r in work.records if i.msg.offset() < first]
        work.tombstones = [m for m in work.tombstones if m.offset() < first]
        if work.routed is not None:
            for r in work.routed.values():
                keep = [k for k, i in enumerate(r.items) if i.msg.offset() < first]
                r.rows = [r.rows[k] for k in keep]
                r.items = [r.items[k] for k in keep]
        if work.tables is not None:  # prepared by a worker: its rows are `good`, in order
            kept = sum(1 for m in work.good if m.offset() < first)
            work.good = work.good[:kept]
            work.tables = {name: t.slice(0, kept) for name, t in work.tables.items()}
        return work

    def store_work(self, work: Work, dead: list[tuple[Block, list[tuple[Failure, int]]]]) -> bool:
        """Store one prepared block, its dead letters added to `dead` (the caller sends a
        batch's at once); False when it waits for a retry (its end stays uncommitted)."""
        assert work.block is not None
        if work.block.fixed:  # a replay: did the earlier attempt leave its rows?
            self.check_replay(work)
        block = work.block
        p = self.pipeline
        if p.sync is not None:
            stored = self._run_sync(work)
            if stored is None:
                return False
        elif work.tables is not None:
            for name, table in work.tables.items():
                if name in work.landed:
                    continue
                self.store_table(work, name, table)
            stored = []
        else:
            assert work.routed is not None
            for name, r in work.routed.items():
                if name in work.landed:
                    continue
                self.store(block, name, r, work.dead)
            dead_ids = {id(f.msg) for f, _ in work.dead}
            stored = [i for i in work.items if id(i.msg) not in dead_ids]
        if work.tombstones:
            self.delete_tombstones(work)
        waiting: list[tuple[int, Item]] = []
        if p.consumers and stored:
            calls = [(k, i) for k in range(len(p.consumers)) for i in stored]
            waiting = self._run_consumers(calls, work.dead)
        dead.append((block, work.dead))  # dead-lettered by the caller, once for the batch
        for f in work.dropped:
            self._dropped(f)
        self.metrics.stored(work.msgs, {id(f.msg) for f, _ in work.dead})
        if waiting:
            # Stored, but a consumer hook awaits its retry: the block's end is committed
            # once the hooks are done; a restart before then replays the block.
            until = time.monotonic() + self.config.dead_letter.retry_delay_ms / 1000
            self.consumer_waits[block.partition] = ConsumerWait(block, waiting)
            self.hold(block.partition, [], until)
            return False
        return True

    def _take_tombstones(self, work: Work, failures: list[Failure]) -> list[Failure]:
        """Moves a compacted topic's tombstones out of the failures: into the block's deletes,
        or dead-lettered (`tombstone`) when they cannot be one (see tombstones.py)."""
        rest = []
        for f in failures:
            if not self.tombstones.is_tombstone(f.msg):
                rest.append(f)
            elif (why := self.tombstones.unusable(f.msg)) is None:
                work.tombstones.append(f.msg)
            else:
                self.metrics.errors.labels(self.config.stream, "tombstone").inc()
                work.dead.append((Failure(f.msg, ValueError(why), "tombstone", False), 1))
        return rest

    def delete_tombstones(self, work: Work) -> None:
        """One delete per destination for the block's tombstones, backing off while
        ClickHouse is unavailable; a delete ClickHouse refuses dead-letters them."""
        for target in self.tombstones.targets:
            sql, params = self.tombstones.statement(target, work.tombstones)
            delay = 0.5
            while True:
                try:
                    self.clickhouse().command(sql, parameters=params)
                    self.metrics.deletes.labels(self.config.stream, target.table).inc(
                        len(work.tombstones)
                    )
                    break
                except Exception as exc:  # noqa: BLE001 - classified below
                    if is_data_error(exc):
                        self.metrics.errors.labels(self.config.stream, "tombstone").inc(
                            len(work.tombstones)
                        )
                        work.dead.extend(
                            (Failure(m, exc, "tombstone", False), 1) for m in work.tombstones
                        )
                        work.tombstones = []
                        return
                    self._clickhouse_down(exc, delay, target.table)
                    delay = min(delay * 2, self.config.max_backoff_s)

    def check_replay(self, work: Work) -> None:
        """Ask each destination for a replayed block's rows (see replays.py): where all are
        found it is not inserted again (`work.landed`); where none are, it takes new token
        marks, committed in its plan before anything is inserted under them."""
        from confluent_kafka import TopicPartition

        old = work.block
        assert old is not None
        expected: dict[str, int] | None = None  # the sync hook decides what it inserts
        if work.tables is not None:
            expected = {name: t.num_rows for name, t in work.tables.items()}
        elif work.routed is not None:
            expected = {name: len(r.rows) for name, r in work.routed.items()}
        new, work.landed = checked(
            old, list(self.dests.values()), self.config.database, self.count_rows, expected
        )
        if work.landed:
            log.info(
                "a replayed block's rows are stored already: not inserted again",
                extra={
                    "event": "replay_landed",
                    "partition": old.partition,
                    "start": old.start,
                    "end": old.end,
                    "destinations": sorted(work.landed),
                },
            )
        if new.marks == old.marks:
            return
        fresh = sorted(d for d, m in new.marks if dict(old.marks).get(d) != m)
        log.warning(
            "a replayed block left no rows: stored under tokens of its own",
            extra={
                "event": "replay_fresh_tokens",
                "partition": new.partition,
                "start": new.start,
                "end": new.end,
                "destinations": fresh,
            },
        )
        plan = TopicPartition(new.topic, new.partition, new.start, metadata=new.plan_metadata)
        self.commit([plan])
        work.block = new

    def count_rows(self, sql: str, params: dict[str, Any]) -> int:
        """A count query, backing off while ClickHouse is unavailable; -1 when refused
        (the replay then relies on deduplication alone)."""
        delay = 0.5
        while True:
            try:
                return int(self.clickhouse().query(sql, parameters=params).result_rows[0][0])
            except Exception as exc:  # noqa: BLE001 - classified below
                if is_data_error(exc):
                    log.warning("replay check refused: %s", exc, extra={"event": "replay_check"})
                    return -1
                self._clickhouse_down(exc, delay, "replay check")
                delay = min(delay * 2, self.config.max_backoff_s)

    def dead_letter(self, dead: list[tuple[Failure, int]]) -> None:
        if not dead:
            return
        assert self.dlq is not None
        self._with_backoff(lambda: self.dlq.send(dead) if self.dlq else None, "dead-letter")
        for f, _ in dead:
            self.metrics.dead_lettered.labels(self.config.stream, f.error_type).inc()
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

    # -- retries -------------------------------------------------------------
    def _attempt(self, msg: Any, what: str) -> int:
        """This failure's attempt number (1 = first failure) for one record and stage."""
        return self.attempts.get((msg.partition(), msg.offset(), what), 0) + 1

    def _forget(self, partition: int, below: int | None = None) -> None:
        self.attempts = {
            k: v
            for k, v in self.attempts.items()
            if k[0] != partition or (below is not None and k[1] >= below)
        }

    def _triage(
        self,
        failures: list[tuple[Failure, int, str]],
        dead: list[tuple[Failure, int]],
        dropped: list[Failure] | None = None,
    ) -> list[Failure]:
        """Decide each (failure, attempt, what); remember the attempts of those to retry.

        With `dropped` (a block's record hooks), deciding stops at the first record to
        retry: the block is cut before it and the later records are decided when they are
        prepared again, so a drop is counted (and the handler asked) once per record.
        """
        retry: list[Failure] = []
        for f, attempt, what in failures:
            if retry and dropped is not None:
                retry.append(f)  # undecided: prepared again after the hold
                continue
            self.metrics.errors.labels(self.config.stream, f.stage).inc()
            choice = decide(f, attempt, self.config.dead_letter.max_retries, self.error_handler)
            key = (f.msg.partition(), f.msg.offset(), what)
            if choice == "retry":
                self.attempts[key] = attempt
                self.metrics.retries.labels(self.config.stream, f.stage).inc()
                retry.append(f)
                continue
            self.attempts.pop(key, None)
            if choice == "dead_letter":
                dead.append((f, attempt))
            elif dropped is not None:
                dropped.append(f)
            else:
                self._dropped(f)
        return retry

    def _dropped(self, f: Failure) -> None:
        self.metrics.dropped.inc()
        log.info(
            "dropped by the error handler",
            extra={"event": "drop", "partition": f.msg.partition(), "offset": f.msg.offset()},
        )

    def hold(
        self, partition: int, msgs: list[Any], until: float, fixed: Block | None = None
    ) -> None:
        """Pause a partition until `until`; `msgs` go back in front of its buffer."""
        from confluent_kafka import TopicPartition

        pending = (fixed.start, fixed.end) if fixed is not None else None
        self.batcher.hold(partition, msgs, until, pending, fixed.marks if fixed else ())
        try:
            self.consumer.pause([TopicPartition(self.config.topic, partition)])
        except Exception as exc:  # noqa: BLE001 - a partition no longer assigned
            log.warning("pausing partition %d failed: %s", partition, exc)
        self.metrics.held.set(len(self.batcher.held()))
        log.info(
            "partition held for a retry",
            extra={"event": "hold", "partition": partition, "records": len(msgs)},
        )

    def release_due(self) -> None:
        """Resume the held partitions whose retry is due (consumer hooks are retried here)."""
        from confluent_kafka import TopicPartition

        now = time.monotonic()
        for partition, until in sorted(self.batcher.held().items()):
            if until > now or self.stop:
                continue
            wait = self.consumer_waits.pop(partition, None)
            if wait is not None:
                dead: list[tuple[Failure, int]] = []
                try:
                    waiting = self._run_consumers(wait.calls, dead)
                    self.dead_letter(dead)
                except Abandon:
                    return
                if waiting:
                    self.consumer_waits[partition] = ConsumerWait(wait.block, waiting)
                    self.batcher.hold(
                        partition, [], now + self.config.dead_letter.retry_delay_ms / 1000
                    )
                    continue
                self.commit_ends([wait.block])
                if self.stop:
                    return
            self.batcher.release(partition)
            if partition in self.assigned:
                try:
                    self.consumer.resume([TopicPartition(self.config.topic, partition)])
                except Exception as exc:  # noqa: BLE001
                    log.warning("resuming partition %d failed: %s", partition, exc)
        self.metrics.held.set(len(self.batcher.held()))

    def _run_sync(self, work: Work) -> list[Item] | None:
        """The custom sync hook over the block's records; None when it waits for a retry."""
        p = self.pipeline
        assert p.sync is not None and work.block is not None
        block = work.block
        ok = [i for i, _ in work.records]
        records = [r for _, recs in work.records for r in recs]
        ctx = SyncContext(self._client_with_backoff(), block, self)
        try:
            p.sync(records, ctx)
            self.attempts.pop((block.partition, block.start, "sync"), None)
            return ok
        except (Abandon, TransientError):
            raise
        except Exception as exc:  # noqa: BLE001 - the hook failed: retry, then DLQ all
            key = (block.partition, block.start, "sync")
            attempt = self.attempts.get(key, 0) + 1
            self.metrics.errors.labels(self.config.stream, "sync").inc()
            log.warning("sync hook failed (attempt %d): %s", attempt, exc)
            if attempt > self.config.dead_letter.max_retries or not ok:
                self.attempts.pop(key, None)
                work.dead.extend((Failure(i.msg, exc, "sync", True, i.model), attempt) for i in ok)
                return []
            self.attempts[key] = attempt
            self.metrics.retries.labels(self.config.stream, "sync").inc()
            # Its plan is committed: the block is re-formed with the same range (and tokens).
            until = time.monotonic() + self.config.dead_letter.retry_delay_ms / 1000
            self.hold(block.partition, work.msgs, until, block)
            return None

    def sync_insert(self, ctx: SyncContext, rows: Sequence[Any], table: str | None) -> None:
        name = table or self.default_dest
        if name not in self.dests:
            raise LookupError(f"unknown destination {name!r}")
        plain = [r.model_dump(by_alias=True) if hasattr(r, "model_dump") else r for r in rows]
        checked = list(self.pipeline.adapters[name].validate_python(plain))
        src = RowSource(ctx.block.topic, ctx.block.partition, ctx.block.start, 0)
        data = self.builders[name].build(checked, [src] * len(checked))
        self.insert(name, data, ctx.block.token(name, f"sync{ctx.calls}"))

    def _run_consumers(
        self, calls: list[tuple[int, Item]], dead: list[tuple[Failure, int]]
    ) -> list[tuple[int, Item]]:
        """Call each (hook, item) once; returns the calls that wait for a retry."""
        hooks = self.pipeline.consumers
        waiting: list[tuple[int, Item]] = []
        for k, item in calls:
            try:
                hooks[k](item.model)
            except Exception as exc:  # noqa: BLE001
                f = Failure(item.msg, exc, "consumer", True, item.model)
                what = f"consumer{k}"
                if self._triage([(f, self._attempt(item.msg, what), what)], dead):
                    waiting.append((k, item))
        return waiting

    # -- inserting -----------------------------------------------------------
    def store(
        self, block: Block, name: str, routed: Routed, dead: list[tuple[Failure, int]]
    ) -> None:
        if not routed.rows:
            return
        self._store_range(block, name, routed, 0, len(routed.rows), dead, whole=True)

    def store_table(self, work: Work, name: str, table: Any) -> None:
        """Insert a worker's Arrow table; on a data error, the block's rows are prepared
        again in process and stored by halves as `store` does (bad rows dead-lettered)."""
        assert work.block is not None
        if table.num_rows == 0:
            return
        try:
            self.insert(name, [], work.block.token(name), table=table)
            self.metrics.rows.labels(self.config.stream, name).inc(table.num_rows)
        except DataError:
            items, failures = self.pipeline.decode(work.good)
            routed, more = self.pipeline.route_items(items)
            if failures or more:  # cannot happen: the worker validated the same values
                raise
            self.store(work.block, name, routed[name], work.dead)

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

    def insert(self, name: str, data: list[list[Any]], token: str, table: Any = None) -> None:
        """Insert built columns (or a ready Arrow `table`), backing off while ClickHouse is
        unavailable; a data error raises DataError."""
        builder = self.builders[name]
        delay = 0.5
        while True:
            started = time.perf_counter()
            settings = {"async_insert": 0, "insert_deduplication_token": token}
            try:
                if table is not None:
                    self.clickhouse().insert_arrow(
                        name, table, database=self.config.database, settings=settings
                    )
                else:
                    builder.insert(self.clickhouse(), name, data, self.config.database, settings)
                self.metrics.insert_latency.labels(self.config.stream, name).observe(
                    time.perf_counter() - started
                )
                self.health.clickhouse_ok = True
                return
            except Exception as exc:  # noqa: BLE001 - classified below
                builder.forget_insert_types()
                if is_data_error(exc):
                    raise DataError(str(exc)) from exc
                self._clickhouse_down(exc, delay, name)
                delay = min(delay * 2, self.config.max_backoff_s)

    def _client_with_backoff(self) -> Any:
        delay = 0.5
        while True:
            try:
                return self.clickhouse()
            except Exception as exc:  # noqa: BLE001 - unreachable: wait, then try again
                self._clickhouse_down(exc, delay, "connect")
                delay = min(delay * 2, self.config.max_backoff_s)

    def _clickhouse_down(self, exc: BaseException, delay: float, table: str) -> None:
        """Back off with every partition paused (polling keeps the consumer in its group)."""
        self.health.clickhouse_ok = False
        self.metrics.errors.labels(self.config.stream, "clickhouse").inc()
        log.warning(
            "clickhouse unavailable, backing off %.1fs: %s",
            delay,
            exc,
            extra={"event": "clickhouse_backoff", "table": table},
        )
        self.wait(delay)

    # -- Kafka side ------------------------------------------------------------
    def commit(self, offsets: list[Any], give_up_on_stop: bool = False) -> None:
        delay = 0.5
        while True:
            if self.fatal is not None:
                raise Abandon()
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
                    if self.stop:  # not committed: the new owner replays it
                        raise Abandon() from exc
                    # let the rebalance callbacks run; a message polled meanwhile is kept
                    # (dropping it would leave a gap that the next block silently spans)
                    msg = self.consumer.poll(0.1)
                    if msg is not None and msg.error() is None:
                        self.batcher.add([msg])
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
            held = self.batcher.held()
            current = [tp for tp in self.consumer.assignment() if tp.partition not in held]
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
