"""Runner pieces with a fake ClickHouse client and a fake consumer (no broker, no server):
the transient/data classification of insert errors, the bisect that isolates bad rows,
and the batcher's retry holds. The real-component versions are in tests/e2e."""

from __future__ import annotations

from typing import Any

import pytest
from moosegen.runtime import lifecycle
from moosegen.runtime.batching import Batcher
from moosegen.runtime.config import ColumnConfig, DeadLetterConfig, DestinationConfig, ServiceConfig
from moosegen.runtime.errors import clickhouse_code, is_data_error
from moosegen.runtime.pipeline import Failure, Item, Routed
from moosegen.runtime.planning import Block
from moosegen.runtime.runner import Runner

from tests.runtime import events_models
from tests.runtime.test_runtime_units import Msg


class OperationalError(Exception):
    """Named like clickhouse-connect's network error class."""


class DatabaseError(Exception):
    """Named like clickhouse-connect's server error class (the code is in the text)."""


@pytest.mark.parametrize(("exc", "data"), [
    (DatabaseError("Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS)"), False),
    (OperationalError("HTTPConnectionPool: Connection refused"), False),
    (DatabaseError("Code: 209. DB::Exception: Timeout exceeded while reading (SOCKET_TIMEOUT)"),
     False),
    (DatabaseError("Code: 6. DB::Exception: Cannot parse string 'x' as Int64"), True),
    (DatabaseError("Code: 70. DB::Exception: Conversion from String to UUID is not supported"),
     True),
    (DatabaseError("Code: 53. DB::Exception: Type mismatch in IN or VALUES section"), True),
    (DatabaseError("Code: 691. DB::Exception: Unknown element 'nope' for enum"), True),
    (TypeError("'<' not supported"), True),  # clickhouse-connect's own serialisation
    (OverflowError("int too big to convert"), True),
])
def test_insert_error_classification(exc: Exception, data: bool) -> None:
    assert is_data_error(exc) is data


def test_clickhouse_code_from_attribute_or_text() -> None:
    err = DatabaseError("no code in text")
    err.code = 252  # type: ignore[attr-defined]
    assert clickhouse_code(err) == 252
    assert clickhouse_code(DatabaseError("Code: 6. DB::Exception")) == 6
    assert clickhouse_code(OperationalError("refused")) is None


class FakeClient:
    """Refuses a block holding a row whose user_id is 'bad' (a parse error, like the server),
    and answers TOO_MANY_PARTS `busy` times first."""

    def __init__(self, busy: int = 0) -> None:
        self.busy = busy
        self.calls: list[list[str]] = []
        self.stored: list[str] = []
        self.tokens: list[str] = []

    def create_insert_context(
        self, table: str, column_names: list[str], database: str | None = None
    ) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(column_types=[None] * len(column_names))

    def insert_arrow(self, table: str, arrow_table: Any, **kw: Any) -> None:
        data = [column.to_pylist() for column in arrow_table.columns]
        self.insert(table, data, list(arrow_table.column_names), **kw)

    def insert(self, table: str, data: list[list[Any]], column_names: list[str], **kw: Any) -> None:
        users = data[column_names.index("user_id")]
        self.calls.append(list(users))
        if self.busy:
            self.busy -= 1
            raise DatabaseError("Code: 252. DB::Exception: Too many parts. (TOO_MANY_PARTS)")
        if "bad" in users:
            raise DatabaseError("Code: 6. DB::Exception: Cannot parse input (CANNOT_PARSE_TEXT)")
        self.stored.extend(users)
        self.tokens.append(kw["settings"]["insert_deduplication_token"])


class FakeConsumer:
    def __init__(self) -> None:
        self.paused: list[Any] = []
        self.polls = 0

    def assignment(self) -> list[Any]:
        return []

    def pause(self, tps: list[Any]) -> None:
        self.paused.extend(tps)

    def resume(self, tps: list[Any]) -> None:
        pass

    def poll(self, timeout: float) -> None:
        self.polls += 1


def runner(client: FakeClient) -> Runner:
    cols = (ColumnConfig("id", "id", "String"), ColumnConfig("user_id", "user_id", "String"),
            ColumnConfig("_offset", None, "Int64"))
    cfg = ServiceConfig(stream="events", topic="events", models=events_models,
                        destinations=(DestinationConfig("events", cols),),
                        dead_letter=DeadLetterConfig("dlq"), max_backoff_s=0.01)
    return Runner(cfg, consumer=FakeConsumer(), producer=object(), client=client)


def routed(users: list[str]) -> Routed:
    items = [Item(Msg(i, b"raw"), {"id": str(i), "user_id": u}) for i, u in enumerate(users)]
    return Routed([dict(i.row) for i in items], items)


def test_bisect_dead_letters_exactly_the_bad_rows() -> None:
    lifecycle.STOP.clear()
    client = FakeClient()
    r = runner(client)
    users = ["a", "b", "bad", "c", "d", "e", "bad", "f"]
    dead: list[tuple[Failure, int]] = []
    r.store(Block("events", 0, 0, 8), "events", routed(users), dead)
    assert sorted(client.stored) == ["a", "b", "c", "d", "e", "f"]
    assert sorted(f.msg.offset() for f, _ in dead) == [2, 6]
    assert {f.stage for f, _ in dead} == {"insert"}
    assert all("CANNOT_PARSE_TEXT" in str(f.error) for f, _ in dead)
    # halves are inserted with tokens of their own sub-range, the same on every replay
    assert all(t.startswith("moosegen:events:0:0-8:events:") for t in client.tokens)
    assert len(client.calls) <= 2 * len(users)


def test_transient_error_backs_off_and_inserts_the_whole_block_once() -> None:
    lifecycle.STOP.clear()
    client = FakeClient(busy=3)
    r = runner(client)
    dead: list[tuple[Failure, int]] = []
    r.store(Block("events", 0, 0, 3), "events", routed(["a", "b", "c"]), dead)
    assert dead == []
    assert client.calls == [["a", "b", "c"]] * 4  # 3 refusals, then stored, never split
    assert client.tokens == ["moosegen:events:0:0-3:events"]
    assert r.health.clickhouse_ok and client.stored == ["a", "b", "c"]
    assert r.consumer.polls > 0  # the back-off polled (stays in the group)


def test_batcher_hold_puts_messages_back_in_front_and_release() -> None:
    b = Batcher("events")
    b.assign(0, None)
    b.assign(1, None)
    b.add([Msg(5, partition=0), Msg(6, partition=0), Msg(1, partition=1)])
    blocks = b.cut()
    assert [(x.partition, x.start, x.end) for x, _ in blocks] == [(0, 5, 7), (1, 1, 2)]
    held = [m for m in blocks[0][1] if m.offset() >= 6]
    b.hold(0, held, until=100.0)
    b.add([Msg(7, partition=0), Msg(2, partition=1)])
    assert b.held() == {0: 100.0}
    assert [(x.partition, x.start) for x, _ in b.cut()] == [(1, 2)]  # 0 is held
    assert not b.waiting()
    b.release(0)
    assert b.waiting()
    blocks = b.cut()
    assert [(x.partition, x.start, x.end) for x, _ in blocks] == [(0, 6, 8)]
    assert [m.offset() for m in blocks[0][1]] == [6, 7]


def test_batcher_hold_with_a_fixed_range_re_forms_it_exactly() -> None:
    b = Batcher("events")
    b.assign(0, None)
    b.add([Msg(o) for o in range(10, 14)])
    (block, msgs), = b.cut()
    b.add([Msg(14)])
    b.hold(0, msgs, until=0.0, pending=(block.start, block.end))
    b.release(0)
    (again, taken), = b.cut()
    assert (again.start, again.end, again.fixed) == (10, 14, True)
    assert [m.offset() for m in taken] == [10, 11, 12, 13]
    assert [(x.start, x.end, x.fixed) for x, _ in b.cut()] == [(14, 15, False)]


class RefusingConsumer(FakeConsumer):
    """Refuses the first commit like a broker mid-rebalance; its poll then returns a message."""

    def __init__(self, pending: list[Any]) -> None:
        super().__init__()
        self.pending = pending
        self.commits: list[list[Any]] = []

    def commit(self, offsets: list[Any], asynchronous: bool) -> None:
        if not self.commits:
            self.commits.append([])
            raise RuntimeError('KafkaError{code=ILLEGAL_GENERATION,val=22,str="Commit failed"}')
        self.commits.append(list(offsets))

    def poll(self, timeout: float) -> Any:  # type: ignore[override]
        self.polls += 1
        return self.pending.pop(0) if self.pending else None


def test_commit_refused_by_a_rebalance_keeps_the_message_polled_meanwhile() -> None:
    """The poll that lets the rebalance callbacks run may return a message: it is buffered,
    not dropped (dropping it made the next block span a gap: records lost, found end to end
    with two instances and a rebalance)."""
    from confluent_kafka import TopicPartition

    lifecycle.STOP.clear()
    r = runner(FakeClient())
    polled = Msg(5, b"raw", partition=3)
    polled.error = lambda: None  # type: ignore[attr-defined]
    r.consumer = RefusingConsumer([polled])
    r.assigned = {3}
    r.batcher.assign(3, None)
    r.commit([TopicPartition("events", 3, 5)])
    assert [tp.offset for tp in r.consumer.commits[-1]] == [5]
    blocks = r.batcher.cut()
    assert [(b.start, b.end) for b, _ in blocks] == [(5, 6)]


def test_triage_decides_a_block_up_to_its_first_retry_and_defers_drops() -> None:
    """A block's record failures are decided in offset order up to the first one to retry;
    the later ones are left undecided (they are prepared again after the hold), and a drop
    is only counted when its block is stored: the handler is asked, and a drop counted, once
    per record (a drop after a retried record was counted twice end to end)."""
    lifecycle.STOP.clear()
    r = runner(FakeClient())
    asked: list[int] = []

    def handler(error: Exception, record: Any, ctx: Any) -> str:
        asked.append(ctx.offset)
        return {0: "drop", 1: "retry", 2: "drop", 3: "dead_letter"}[ctx.offset]

    r.error_handler = handler
    failures = [Failure(Msg(o, b"raw"), RuntimeError("x"), "transform", True) for o in range(4)]
    dead: list[tuple[Failure, int]] = []
    dropped: list[Failure] = []
    retry = r._triage([(f, 1, "record") for f in failures], dead, dropped)
    assert asked == [0, 1]
    assert [f.msg.offset() for f in retry] == [1, 2, 3]
    assert [f.msg.offset() for f in dropped] == [0] and dead == []
    assert r.attempts == {(0, 1, "record"): 1}  # only the decided retry is remembered
    assert r.metrics.dropped._value.get() == 0  # counted when its block is stored


class Polled(Msg):
    def error(self) -> None:
        return None


class BacklogConsumer(FakeConsumer):
    """A backlog of `per` messages in each of `parts` partitions, handed out the way a
    fetch does: a few hundred of one partition, then of the next."""

    def __init__(self, parts: int, per: int, chunk: int = 300) -> None:
        super().__init__()
        self.queue = [Polled(o, partition=p) for s in range(0, per, chunk)
                      for p in range(parts) for o in range(s, min(per, s + chunk))]
        self.asked: list[int] = []

    def consume(self, num_messages: int, timeout: float) -> list[Any]:
        self.asked.append(num_messages)
        out, self.queue = self.queue[:num_messages], self.queue[num_messages:]
        return out


def gathering(parts: int, per: int, size: int) -> tuple[Runner, BacklogConsumer]:
    lifecycle.STOP.clear()
    consumer = BacklogConsumer(parts, per)
    cols = (ColumnConfig("id", "id", "String"),)
    cfg = ServiceConfig(stream="events", topic="events", models=events_models,
                        destinations=(DestinationConfig("events", cols),),
                        dead_letter=DeadLetterConfig("dlq"), batch_size=size,
                        batch_timeout_ms=60_000)
    r = Runner(cfg, consumer=consumer, producer=object(), client=FakeClient())
    for p in range(parts):
        r.batcher.assign(p, None)
    return r, consumer


def test_a_batch_gathers_batch_size_of_each_partition_and_blocks_hold_at_most_that() -> None:
    """batch.size is a block's size: on 3 partitions a batch gathers 3 x batch.size (a
    batch cut at batch.size in all gave blocks of a third of it)."""
    r, consumer = gathering(parts=3, per=5000, size=1000)
    assert r.gather() == 3000
    blocks = r.batcher.cut(None, 1000)
    assert [(b.partition, b.start, b.end) for b, _ in blocks] == [
        (0, 0, 1000), (1, 0, 900), (2, 0, 900)]  # fetch order: 300 of each in turn
    # p0 had 1200: the 200 over batch.size begin the next batch, which goes on where
    # each partition's block ended
    assert r.batcher.buffered() == 200
    assert r.gather() == 2800 and r.batcher.buffered() == 3000
    blocks = r.batcher.cut(None, 1000)
    assert [(b.partition, b.start) for b, _ in blocks] == [(0, 1000), (1, 900), (2, 900)]
    assert all(b.end - b.start <= 1000 for b, _ in blocks)
    # more than batch.size of a partition buffered: the rest waits for the next block
    b = Batcher("events")
    b.add([Polled(o, partition=0) for o in range(5000, 6500)])
    assert [(x.start, x.end) for x, _ in b.cut(None, 1000)] == [(5000, 6000)]
    assert [(x.start, x.end) for x, _ in b.cut(None, 1000)] == [(6000, 6500)]


def test_a_batch_spreads_over_at_most_four_partitions() -> None:
    r, consumer = gathering(parts=8, per=1000, size=100)
    r.gather()
    assert r.batcher.buffered() <= 400 + 300  # four partitions' worth, one fetch chunk over
    assert all(len(m) <= 100 for _, m in r.batcher.cut(None, 100))


def test_one_partition_gathers_batch_size_as_before() -> None:
    r, consumer = gathering(parts=1, per=5000, size=1000)
    assert r.gather() == 1000
    assert [len(m) for _, m in r.batcher.cut(None, 1000)] == [1000]


class StuckConsumer(FakeConsumer):
    """Out of its group: no member id (what librdkafka shows while it cannot rejoin)."""

    def __init__(self, member: str | None = None) -> None:
        super().__init__()
        self.member = member
        self.closed = self.subscribed = False

    def memberid(self) -> str | None:
        return self.member

    def close(self) -> None:
        self.closed = True

    def subscribe(self, topics: list[str], **callbacks: Any) -> None:
        self.subscribed = True


def test_a_consumer_out_of_its_group_too_long_is_made_anew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = runner(FakeClient())
    stuck = r.consumer = StuckConsumer()
    made: list[StuckConsumer] = []
    r.make_consumer = lambda: made.append(StuckConsumer("m-2")) or made[-1]
    clock = [1000.0]
    monkeypatch.setattr("moosegen.runtime.runner.time.monotonic", lambda: clock[0])
    r.check_membership()  # out of the group from now
    clock[0] += r.config.rejoin_after_s - 1
    r.check_membership()
    assert r.consumer is stuck and not made
    clock[0] += 2
    r.check_membership()
    assert made and r.consumer is made[0] and made[0].subscribed and stuck.closed
    # the old consumer's late callbacks are stale: they change nothing
    from confluent_kafka import TopicPartition

    r.assigned.add(0)
    r._on_revoke(stuck, [TopicPartition("events", 0)])
    assert r.assigned == {0}
    r.assigned.clear()
    # a member without partitions (more members than partitions) is left alone
    clock[0] += 10 * r.config.rejoin_after_s
    r.check_membership()
    assert r.consumer is made[0] and len(made) == 1


def test_a_given_consumer_is_never_replaced() -> None:
    r = runner(FakeClient())
    r.consumer = StuckConsumer()
    r.detached_since = -10.0**9
    r.check_membership()
    assert isinstance(r.consumer, StuckConsumer) and not r.consumer.closed


class CommittingConsumer(FakeConsumer):
    def __init__(self) -> None:
        super().__init__()
        self.commits: list[tuple[int, int]] = []

    def commit(self, offsets: list[Any], asynchronous: bool) -> None:
        self.commits.extend((tp.partition, tp.offset) for tp in offsets)


class DeadLetters:
    """Records each send; refuses them (as an unreachable broker) while `down`."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.sends: list[list[int]] = []

    def send(self, failures: list[tuple[Failure, int]]) -> None:
        from moosegen.runtime.errors import TransientError

        if self.down:
            lifecycle.STOP.set()  # stopping while the broker is down: the send is given up
            raise TransientError("dead-letter produce not acknowledged")
        self.sends.append([f.msg.offset() for f, _ in failures])


def batch_with_bad_rows(down: bool) -> tuple[Runner, CommittingConsumer, DeadLetters]:
    from moosegen.runtime.runner import Work

    lifecycle.STOP.clear()
    r = runner(FakeClient())
    consumer = CommittingConsumer()
    dlq = DeadLetters(down)
    r.consumer, r.dlq = consumer, dlq  # type: ignore[assignment]
    r.assigned = {0, 1, 2}
    works = []
    for partition, users in enumerate([["a", "bad"], ["b", "c"], ["bad", "d"]]):
        block = Block("events", partition, 0, 2)
        works.append(Work(block, [], routed={"events": routed(users)}))
    r.store_works(works)
    lifecycle.STOP.clear()
    return r, consumer, dlq


def test_a_batch_sends_its_dead_letters_once_before_any_end_is_committed() -> None:
    _, consumer, dlq = batch_with_bad_rows(down=False)
    assert dlq.sends == [[1, 0]]  # both blocks' bad rows, in one send (one flush)
    assert sorted(p for p, o in consumer.commits if o == 2) == [0, 1, 2]


def test_blocks_whose_dead_letters_were_not_acknowledged_are_not_committed() -> None:
    r, consumer, dlq = batch_with_bad_rows(down=True)
    assert dlq.sends == []
    ends = [p for p, o in consumer.commits if o == 2]
    assert ends == [1]  # the block without dead letters only; the others are replayed
    assert sorted(r.client.stored) == ["a", "b", "c", "d"]  # type: ignore[attr-defined]
