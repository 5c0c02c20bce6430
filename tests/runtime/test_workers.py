"""The worker-process path of the plain sync path: blocks prepared in spawned processes
come back as Arrow tables plus failed indices, and the runner stores, dead-letters and
commits them exactly as in process; a dead worker means the block is done in process."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from moosegen.runtime import lifecycle
from moosegen.runtime.config import ColumnConfig, DeadLetterConfig, DestinationConfig, ServiceConfig
from moosegen.runtime.planning import Block, decode_plan
from moosegen.runtime.runner import Runner
from moosegen.runtime.workers import WorkerPool, WorkerSpec, resolve_workers, table_from_ipc

from tests.e2e.harness import alive, kill_all, wait_gone
from tests.runtime import crash_models, events_models, hang_models
from tests.runtime.test_runner_units import FakeClient, FakeConsumer
from tests.runtime.test_runtime_units import Msg

COLS = (
    ColumnConfig("id", "id", "UUID"),
    ColumnConfig("user_id", "user_id", "String"),
    ColumnConfig("_offset", None, "Int64"),
)


def payload(k: int, user: str) -> bytes:
    return json.dumps(
        {"id": f"00000000-0000-0000-0000-{k:012d}", "timestamp": "2026-01-02T03:04:05Z",
         "user_id": user}
    ).encode()


def block_msgs(users: list[str], bad: set[int] = frozenset()) -> list[Msg]:  # type: ignore[assignment]
    return [Msg(k, b"{not json" if k in bad else payload(k, u)) for k, u in enumerate(users)]


@pytest.fixture(scope="module")
def pool() -> Any:
    spec = WorkerSpec("tests.runtime.events_models", "events", "events", "json",
                      (DestinationConfig("events", COLS),), 1 << 20)
    p = WorkerPool(spec, 2, min_chunk=2)
    p.start()
    yield p
    p.close()


def test_resolve_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOOSEGEN_WORKERS", raising=False)
    assert 1 <= resolve_workers(None) <= 2
    assert resolve_workers(3) == 3
    monkeypatch.setenv("MOOSEGEN_WORKERS", "1")
    assert resolve_workers(0) == 1


def test_chunks_merge_with_failed_indices_in_block_order(pool: WorkerPool) -> None:
    msgs = block_msgs([f"u{k}" for k in range(7)], bad={1, 5})
    result = pool.result(pool.submit(0, msgs))
    assert result is not None
    assert result.failed == [1, 5]
    assert len(result.tables["events"]) == 2  # one buffer per chunk, concatenated back
    table = table_from_ipc(result.tables["events"])
    assert table.column("user_id").to_pylist() == ["u0", "u2", "u3", "u4", "u6"]
    assert table.column("_offset").to_pylist() == [0, 2, 3, 4, 6]


class RenamedTopicMsg(Msg):
    def topic(self) -> str:
        return "events.renamed"


def test_lineage_comes_from_the_messages_not_the_configuration() -> None:
    cols = (*COLS, ColumnConfig("_topic", None, "LowCardinality(String)"))
    spec = WorkerSpec("tests.runtime.events_models", "events", "events", "json",
                      (DestinationConfig("events", cols),), 1 << 20)
    p = WorkerPool(spec, 1)
    try:
        msgs = [RenamedTopicMsg(k, payload(k, f"u{k}")) for k in range(3)]
        result = p.result(p.submit(0, msgs))
    finally:
        p.close()
    assert result is not None
    table = table_from_ipc(result.tables["events"])
    assert table.column("_topic").to_pylist() == ["events.renamed"] * 3


class CommitConsumer(FakeConsumer):
    def __init__(self) -> None:
        super().__init__()
        self.commits: list[tuple[int, str]] = []

    def commit(self, offsets: list[Any], asynchronous: bool = False) -> None:
        self.commits.extend((tp.offset, tp.metadata) for tp in offsets)


class FakeDlq:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, dead: list[Any]) -> None:
        self.sent.extend(dead)


def worker_runner(models: Any, client: FakeClient, workers: int = 2) -> Runner:
    cfg = ServiceConfig(stream="events", topic="events", models=models,
                        destinations=(DestinationConfig("events", COLS),),
                        dead_letter=DeadLetterConfig("dlq", max_retries=0),
                        max_backoff_s=0.01, workers=workers)
    r = Runner(cfg, consumer=CommitConsumer(), producer=object(), client=client)
    r.dlq = FakeDlq()  # type: ignore[assignment]
    r.assigned = {0}
    return r


def test_runner_stores_a_worker_block_and_dead_letters_its_failures() -> None:
    lifecycle.STOP.clear()
    client = FakeClient()
    r = worker_runner(events_models, client)
    assert r.workers_usable()
    r.pool = r.start_workers()
    assert r.pool is not None
    try:
        msgs = block_msgs(["a", "b", "c", "d", "e", "f"], bad={2})
        r.pool.min_chunk = 2
        inflight = r.submit([(Block("events", 0, 0, 6), msgs)])
        r.finish(inflight)
    finally:
        r.pool.close()
    assert client.stored == ["a", "b", "d", "e", "f"]
    assert client.tokens == [Block("events", 0, 0, 6).token("events")]
    assert [(f.msg.offset(), f.stage) for f, _ in r.dlq.sent] == [(2, "decode")]  # type: ignore[union-attr]
    consumer = r.consumer
    assert consumer.commits[0][0] == 0 and decode_plan(consumer.commits[0][1], 0) == 6
    assert consumer.commits[-1] == (6, "")


def test_revoked_while_in_flight_is_not_stored() -> None:
    lifecycle.STOP.clear()
    client = FakeClient()
    r = worker_runner(events_models, client)
    r.pool = r.start_workers()
    assert r.pool is not None
    try:
        inflight = r.submit([(Block("events", 0, 0, 2), block_msgs(["a", "b"]))])
        r.epochs[0] = r.epochs.get(0, 0) + 1  # what _on_revoke does (then re-assigned)
        r.finish(inflight)
    finally:
        r.pool.close()
    assert client.stored == [] and r.consumer.commits == []


def test_a_dead_worker_means_the_block_is_processed_in_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lifecycle.STOP.clear()
    client = FakeClient()
    r = worker_runner(crash_models, client)
    r.pool = r.start_workers()
    assert r.pool is not None
    try:
        with caplog.at_level(logging.ERROR):
            inflight = r.submit([(Block("events", 0, 0, 3), block_msgs(["a", "CRASH", "c"]))])
            r.finish(inflight)
        assert client.stored == ["a", "CRASH", "c"]
        assert any("worker process died" in rec.getMessage() for rec in caplog.records)
        # the pool is restarted for the next blocks
        inflight = r.submit([(Block("events", 0, 3, 5), [Msg(3, payload(3, "x")),
                                                         Msg(4, payload(4, "y"))])])
        r.finish(inflight)
    finally:
        r.pool.close()
    assert client.stored == ["a", "CRASH", "c", "x", "y"]
    assert r.consumer.commits[-1] == (5, "")


def test_hooks_or_one_worker_mean_in_process() -> None:
    r = worker_runner(events_models, FakeClient(), workers=1)
    assert r.start_workers() is None


def test_next_batch_of_a_partition_held_meanwhile_goes_back_behind_the_held_records() -> None:
    # The workers start on batch i+1 before batch i is stored; when storing i holds its
    # partition for a retry, i+1's block of that partition is taken back into the batcher
    # in offset order (held records first), the other partitions' blocks go on.
    from moosegen.runtime.runner import Inflight

    lifecycle.STOP.clear()
    r = worker_runner(events_models, FakeClient())
    r.assigned = {0, 1}
    r.batcher.assign(0, None)
    r.batcher.assign(1, None)
    r.batcher.hold(0, [Msg(2, b"2"), Msg(3, b"3")], until=0.0)  # i cut before offset 2
    r.batcher.add([Msg(6, b"6")])  # consumed while i was stored
    b0, b1 = Block("events", 0, 4, 6), Block("events", 1, 0, 1)
    nxt = Inflight([(b0, [Msg(4, b"4"), Msg(5, b"5")], None, 0), (b1, [Msg(0, b"x")], None, 0)])
    kept = r.after(nxt, clear={1})
    assert kept is not None and [b for b, *_ in kept.blocks] == [b1]
    r.batcher.release(0)
    (block, msgs), = [c for c in r.batcher.cut() if c[0].partition == 0]
    assert [m.offset() for m in msgs] == [2, 3, 4, 5, 6] and block.start == 2
    # stopping: nothing is taken back, an unclear partition's block is just dropped
    lifecycle.STOP.set()
    try:
        assert r.after(Inflight([(b0, [], None, 0)]), clear=set()) is None
    finally:
        lifecycle.STOP.clear()


def test_a_valid_block_and_one_with_failures_give_the_same_columns() -> None:
    # All valid: rows and lineage go straight to columns (no message objects); one bad
    # message: the per-message path. The good rows' tables are the same.
    from moosegen.runtime.workers import prepare_block

    cols = (*COLS, ColumnConfig("_topic", None, "LowCardinality(String)"),
            ColumnConfig("_partition", None, "Int32"),
            ColumnConfig("_timestamp", None, "DateTime64(3, 'UTC')"))
    spec = WorkerSpec("tests.runtime.events_models", "events", "events", "json",
                      (DestinationConfig("events", cols),), 1 << 20)
    values = [payload(k, f"u{k}") for k in range(4)]
    stamps = [1767322000000 + k for k in range(4)]
    fast = prepare_block(spec, "t", 3, values, [0, 1, 2, 3], stamps)
    slow = prepare_block(spec, "t", 3, [*values, b"{bad"], [0, 1, 2, 3, 4], [*stamps, 0])
    assert fast is not None and slow is not None
    assert (fast.failed, slow.failed) == ([], [4])
    a, b = table_from_ipc(fast.tables["events"]), table_from_ipc(slow.tables["events"])
    assert a.equals(b) and a.num_rows == 4
    assert a.column("_partition").to_pylist() == [3] * 4
    assert a.column("_offset").to_pylist() == [0, 1, 2, 3]


def test_a_hung_worker_means_the_block_is_prepared_in_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A worker that never answers: after the block's timeout its processes are killed,
    # the block (and the next one, submitted to the same pool meanwhile) is prepared in
    # process, stored once and committed; the pool is replaced for the blocks after.
    import dataclasses

    lifecycle.STOP.clear()
    client = FakeClient()
    r = worker_runner(hang_models, client)
    r.config = dataclasses.replace(r.config, worker_timeout_s=0.5)
    r.pool = r.start_workers()
    assert r.pool is not None and r.pool.block_timeout(3) == pytest.approx(0.503)
    old = set(r.pool.pids())
    try:
        with caplog.at_level(logging.ERROR):
            first = r.submit([(Block("events", 0, 0, 3), block_msgs(["a", "HANG", "c"]))])
            second = r.submit([(Block("events", 0, 3, 5), [Msg(3, payload(3, "x")),
                                                          Msg(4, payload(4, "y"))])])
            r.finish(first)
            r.finish(second)
        assert client.stored == ["a", "HANG", "c", "x", "y"]
        assert any(getattr(rec, "event", "") == "worker_hung" for rec in caplog.records)
        inflight = r.submit([(Block("events", 0, 5, 6), [Msg(5, payload(5, "z"))])])
        r.finish(inflight)
        assert client.stored[-1] == "z"
        assert old and not old & set(r.pool.pids())  # a new pool
        assert wait_gone(old, 10) == set()  # the hung processes were killed
    finally:
        r.pool.close()
    assert len(client.tokens) == len(set(client.tokens)) == 3
    assert r.consumer.commits[-1] == (6, "")


POOL_OWNER = """
import sys, time
from moosegen.runtime.config import ColumnConfig, DestinationConfig
from moosegen.runtime.workers import WorkerPool, WorkerSpec
spec = WorkerSpec("tests.runtime.events_models", "events", "events", "json",
                  (DestinationConfig("events", (ColumnConfig("id", "id", "UUID"),)),), 1 << 20)
pool = WorkerPool(spec, 2, start_method=sys.argv[1])
pool.start()
print(" ".join(map(str, pool.pids())), flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_workers_exit_when_their_service_is_killed(start_method: str) -> None:
    # SIGKILL the process that owns a started pool: its workers (children, or the fork
    # server's children) exit within seconds; no orphan is left.
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "generator"), str(root)])}
    owner = subprocess.Popen([sys.executable, "-c", POOL_OWNER, start_method], env=env,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        pids = {int(p) for p in owner.stdout.readline().split()}
        assert len(pids) == 2 and alive(pids) == pids
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
    left = wait_gone(pids, 10)
    kill_all(left)
    assert left == set()


def test_a_sigterm_ends_a_worker_after_its_grace_period() -> None:
    # SIGTERM is not ignored forever: the worker finishes what it is doing first (the
    # grace period), then exits; the pool notices and the next block starts a new one.
    import os
    import signal

    from moosegen.runtime import workers

    spec = WorkerSpec("tests.runtime.events_models", "events", "events", "json",
                      (DestinationConfig("events", COLS),), 1 << 20)
    p = WorkerPool(spec, 1)
    try:
        p.start()
        (pid,) = p.pids()
        os.kill(pid, signal.SIGTERM)
        assert wait_gone({pid}, workers.SIGTERM_GRACE_S + 10) == set()
        result = p.result(p.submit(0, block_msgs(["a"])))  # broken: in process (None) ...
        result = result or p.result(p.submit(0, block_msgs(["a"])))  # ... then a new pool
    finally:
        p.close()
    assert result is not None and result.rows == 1


def test_the_blocks_of_a_batch_are_chunked_for_an_even_share_of_the_workers() -> None:
    spec = WorkerSpec("tests.runtime.events_models", "events", "events", "json",
                      (DestinationConfig("events", COLS),), 1 << 20)
    p = WorkerPool(spec, 2, min_chunk=2)
    try:
        msgs = block_msgs([f"u{k}" for k in range(12)])
        whole = p.submit(0, msgs)  # a block that is the whole batch: one chunk a worker
        third = p.submit(0, msgs[:4], batch=12)  # a third of a batch of 3 partitions
        assert whole is not None and third is not None
        assert [len(whole.futures), len(third.futures)] == [2, 2]  # 3 x 2 chunks: 3 each
        result = p.result(third)
    finally:
        p.close()
    assert result is not None
    assert table_from_ipc(result.tables["events"]).column("user_id").to_pylist() == [
        "u0", "u1", "u2", "u3"]


# -- Avro streams through the workers ------------------------------------------------
class RowsClient:
    """Records the rows of every insert (Arrow or Native), as dicts."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def create_insert_context(self, table: str, column_names: list[str],
                              database: str | None = None) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(column_types=[None] * len(column_names))

    def insert_arrow(self, table: str, arrow_table: Any, **kw: Any) -> None:
        self.rows.extend(arrow_table.to_pylist())

    def insert(self, table: str, data: list[list[Any]], column_names: list[str],
               **kw: Any) -> None:
        self.rows.extend(dict(zip(column_names, row, strict=True)) for row in zip(*data))


def page_views_runner(workers: int) -> Runner:
    import dataclasses

    from generated.page_views import service

    cfg = dataclasses.replace(service.CONFIG, workers=workers, max_backoff_s=0.01,
                              dead_letter=DeadLetterConfig("dlq", max_retries=0))
    r = Runner(cfg, consumer=CommitConsumer(), producer=object(), client=RowsClient())
    r.dlq = FakeDlq()  # type: ignore[assignment]
    r.assigned = {0}
    return r


def page_view_msgs(n: int) -> list[Msg]:
    """Single-object and Confluent framing mixed, and poison of each kind."""
    import datetime as dt
    import uuid

    from generated.page_views import models

    msgs = []
    for k in range(n):
        view = models.MODEL(view_id=uuid.UUID(int=k), url=f"/p/{k}", duration_ms=k * 10,
                            viewed_at=dt.datetime(2026, 1, 2, 3, 4, k % 60, tzinfo=dt.UTC))
        value = (models.encode_single_object(view) if k % 2 else models.encode_confluent(view))
        msgs.append(Msg(k, value))
    msgs[3] = Msg(3, b"\x00\x01garbage")  # Confluent magic, an unknown schema id
    msgs[7] = Msg(7, msgs[7].value()[:-3])  # a truncated body
    msgs[11] = Msg(11, None)  # a tombstone
    msgs[20] = Msg(20, b"{not avro")
    return msgs


def store_page_views(r: Runner, msgs: list[Msg]) -> None:
    block = Block("page_views", 0, 0, len(msgs))
    if r.pool is None:
        r.process([(block, msgs)])
    else:
        r.finish(r.submit([(block, msgs)]))


def test_avro_blocks_prepared_by_workers_store_what_in_process_stores() -> None:
    lifecycle.STOP.clear()
    msgs = page_view_msgs(40)
    alone = page_views_runner(workers=1)
    store_page_views(alone, msgs)
    r = page_views_runner(workers=2)
    assert r.workers_usable()
    r.pool = r.start_workers()
    assert r.pool is not None
    r.pool.min_chunk = 8
    try:
        store_page_views(r, msgs)
        assert r.pool._pool is not None  # the workers prepared it: not a fallback
    finally:
        r.pool.close()
    assert len(r.client.rows) == 36 and r.client.rows == alone.client.rows
    dead = [(f.msg.offset(), f.stage) for f, _ in r.dlq.sent]  # type: ignore[union-attr]
    assert dead == [(f.msg.offset(), f.stage) for f, _ in alone.dlq.sent]  # type: ignore[union-attr]
    assert dead == [(3, "decode"), (7, "decode"), (11, "decode"), (20, "decode")]
    assert r.consumer.commits[-1] == (40, "")


def test_avro_block_whose_workers_died_is_prepared_in_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import os
    import signal

    lifecycle.STOP.clear()
    msgs = page_view_msgs(24)
    r = page_views_runner(workers=2)
    r.pool = r.start_workers()
    assert r.pool is not None
    try:
        pids = r.pool.pids()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        assert not wait_gone(set(pids), 10)
        with caplog.at_level(logging.ERROR):
            store_page_views(r, msgs)
    finally:
        r.pool.close()
    assert any("worker process died" in rec.getMessage() for rec in caplog.records)
    assert len(r.client.rows) == 20
    assert [f.msg.offset() for f, _ in r.dlq.sent] == [3, 7, 11, 20]  # type: ignore[union-attr]
    assert r.consumer.commits[-1] == (24, "")


def test_block_rows_names_the_payloads_that_fail_alone() -> None:
    # One pass over the block: each index it names is one whose payload fails on its own
    # (the in-process judge), and the rows are those of the others, in order.
    from moosegen.runtime.pipeline import Item, Pipeline

    r = worker_runner(events_models, FakeClient())
    p = Pipeline(r.config, max_message_bytes=400)
    good = [payload(k, f"u{k}") for k in range(6)]
    bad = {
        1: b"{not json",
        2: b'{"id": 5}',
        4: None,
        5: b"",
        6: good[0] + b"," + good[1],  # two values
        7: b"[" + good[0] + b"]",  # an array
        8: b'{"id": "x", "timestamp": "yesterday", "user_id": "u"}',
        9: good[0][:-1] + b', "pad": "' + b"x" * 400 + b'"}',  # over the limit
    }
    values = [bad.get(k, good[k % 6]) for k in range(12)]
    rows, failed = p.block_rows(values)
    assert failed == sorted(bad)
    judged = [p._judge_json(Msg(k, v)) for k, v in enumerate(values)]
    assert [k for k, j in enumerate(judged) if not isinstance(j, Item)] == failed
    assert rows == [j.row for j in judged if isinstance(j, Item)]


def gc_state() -> tuple[bool, int]:
    import gc

    return gc.isenabled(), gc.get_freeze_count()


def test_a_worker_collects_between_blocks_over_a_frozen_heap() -> None:
    spec = WorkerSpec("tests.runtime.events_models", "events", "events", "json",
                      (DestinationConfig("events", COLS),), 1 << 20)
    p = WorkerPool(spec, 1)
    try:
        msgs = [Msg(k, payload(k, f"u{k}")) for k in range(3)]
        assert p.result(p.submit(0, msgs)) is not None
        enabled, frozen = p._executor().submit(gc_state).result(timeout=60)
    finally:
        p.close()
    # Off inside and between blocks (each block begins with a collection); the models,
    # adapters and modules were frozen after the first block.
    assert not enabled
    assert frozen > 1000
