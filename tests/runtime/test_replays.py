"""A replayed block whose deduplication record matches no rows (runtime/replays.py).

ClickHouse (a plain MergeTree) appends an insert's deduplication record before it
commits the part; when the engine dies between the two — chdb runs in the service
process, so a SIGKILL of the service does that — the record outlives the part, and a
replay under the same tokens is dropped as a duplicate: the block is lost. Here that
state is made on the real engine without a crash: the block is inserted under its token
and its rows are deleted, so the record stays and no row matches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import clickhouse_connect
import pytest
from moosegen.runtime import lifecycle
from moosegen.runtime.config import ColumnConfig, DeadLetterConfig, DestinationConfig, ServiceConfig
from moosegen.runtime.pipeline import Item, Routed
from moosegen.runtime.planning import Block, decode_marks, decode_plan
from moosegen.runtime.replays import checkable, statement
from moosegen.runtime.runner import Runner, Work

from tests.runtime import events_models
from tests.runtime.test_runner_units import FakeConsumer
from tests.runtime.test_runtime_units import Msg

COLUMNS = (ColumnConfig("id", "id", "String"), ColumnConfig("user_id", "user_id", "String"),
           ColumnConfig("_partition", None, "Int32"), ColumnConfig("_offset", None, "Int64"))


class Committing(FakeConsumer):
    def __init__(self) -> None:
        super().__init__()
        self.commits: list[tuple[int, int, str]] = []

    def commit(self, offsets: list[Any], asynchronous: bool) -> None:
        self.commits.extend((tp.partition, tp.offset, tp.metadata) for tp in offsets)


def service(client: Any, table: str) -> Runner:
    cfg = ServiceConfig(stream="events", topic="events", models=events_models,
                        destinations=(DestinationConfig(table, COLUMNS),),
                        dead_letter=DeadLetterConfig("dlq"), max_backoff_s=0.01)
    r = Runner(cfg, consumer=Committing(), producer=object(), client=client)
    r.assigned.add(0)
    return r


def work(block: Block, table: str) -> Work:
    msgs = [Msg(o) for o in range(block.start, block.end)]
    items = [Item(m, {"id": f"e{m.offset()}", "user_id": "u"}) for m in msgs]
    w = Work(block, msgs, items=items)
    w.routed = {table: Routed([dict(i.row) for i in items], items)}
    return w


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One engine for the module (chdb serves one folder per process)."""
    c: Any = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path_factory.mktemp('chdb')}")
    yield c
    c.close()


def table(client: Any, name: str) -> str:
    client.command(f"CREATE TABLE {name} (id String, user_id String, _partition Int32, "
                   "_offset Int64) ENGINE = MergeTree ORDER BY id "
                   "SETTINGS non_replicated_deduplication_window = 1000")
    return name


def count(client: Any, name: str) -> int:
    return int(client.query(f"SELECT count() FROM {name}").result_rows[0][0])


def store(client: Any, name: str, block: Block) -> Work:
    """Store `block` as the runner does; returns the work (its block as stored, and the
    plans committed on the way in `work.commits`)."""
    lifecycle.STOP.clear()
    w = work(block, name)
    r = service(client, name)
    assert r.store_work(w, [])
    w.commits = r.consumer.commits  # type: ignore[attr-defined]
    return w


def replayed(w: Work) -> Block:
    """The block a restart re-forms from the plan `w` committed last (or its own)."""
    assert w.block is not None
    commits = getattr(w, "commits", [])
    metadata = commits[-1][2] if commits else w.block.plan_metadata
    assert decode_plan(metadata, w.block.start) == w.block.end
    return Block("events", 0, w.block.start, w.block.end, True, decode_marks(metadata))


def orphan_record(client: Any, name: str, block: Block) -> None:
    """Leave a deduplication record for `block`'s token and none of its rows."""
    store(client, name, block)
    client.command(f"DELETE FROM {name} WHERE 1")
    assert count(client, name) == 0
    store(client, name, block)  # the plain token: dropped as a duplicate
    assert count(client, name) == 0


def test_a_replay_with_an_orphan_record_is_stored_under_tokens_of_its_own(client: Any) -> None:
    name = table(client, "orphaned")
    orphan_record(client, name, Block("events", 0, 10, 13))
    replay = Block("events", 0, 10, 13, fixed=True)  # re-formed from the committed plan
    w = store(client, name, replay)
    assert count(client, name) == 3
    assert w.block is not None and w.block.token(name).startswith(
        "moosegen:events:0:10-13:orphaned:replay-")
    # the new tokens were committed in the block's plan before the insert
    assert w.commits == [(0, 10, w.block.plan_metadata)]
    # replayed again from that plan (a crash after the insert, before the end was
    # committed): its rows are there, so the plan's tokens are kept and deduplicate it
    again = store(client, name, replayed(w))
    assert again.block is not None and again.block.marks == w.block.marks
    assert again.commits == []
    assert client.query(f"SELECT count(), uniqExact(id), min(_offset), max(_offset) FROM {name}"
                        ).result_rows == [(3, 3, 10, 12)]


def test_a_replay_whose_new_tokens_never_landed_takes_newer_ones(client: Any) -> None:
    name = table(client, "twice")
    orphan_record(client, name, Block("events", 0, 0, 4))
    first = store(client, name, Block("events", 0, 0, 4, fixed=True))
    client.command(f"DELETE FROM {name} WHERE 1")  # its insert under the new tokens lost too
    second = store(client, name, replayed(first))
    assert second.block is not None and first.block is not None
    assert second.block.marks != first.block.marks and second.commits
    assert count(client, name) == 4


def test_a_first_attempt_is_not_checked_and_a_table_without_lineage_cannot_be(
    client: Any,
) -> None:
    name = table(client, "first")
    w = store(client, name, Block("events", 0, 0, 2))
    assert w.block is not None and w.block.marks == ()  # not a replay: no check, plain token
    assert count(client, name) == 2
    slim = COLUMNS[:2]
    assert not checkable(DestinationConfig("events", slim))
    assert checkable(DestinationConfig("events", COLUMNS))


def test_the_check_counts_the_block_range_of_its_own_topic_and_partition() -> None:
    cols = (*COLUMNS, ColumnConfig("_topic", None, "String"))
    sql, params = statement("db", DestinationConfig("t`x", cols), Block("orders", 2, 5, 9))
    assert sql == ("SELECT count() FROM `db`.`t\\`x` WHERE _partition = %(p)s AND "
                   "_offset >= %(lo)s AND _offset < %(hi)s AND _topic = %(t)s")
    assert params == {"p": 2, "lo": 5, "hi": 9, "t": "orders"}


def test_a_replay_of_a_replay_is_not_stored_twice(client: Any) -> None:
    """The first attempt died before its insert (no record at all); the replay stored the
    block under new tokens and died before committing the end; the next replay re-forms
    those tokens from the plan, so the rows are not stored a second time."""
    name = table(client, "again")
    first = store(client, name, Block("events", 0, 20, 25, fixed=True))
    assert first.commits and count(client, name) == 5
    second = store(client, name, replayed(first))
    assert client.query(f"SELECT count(), uniqExact(id) FROM {name}").result_rows == [(5, 5)]
    assert second.commits == []


def test_a_replay_whose_rows_all_landed_without_a_record_is_not_stored_again(
    client: Any,
) -> None:
    """The other way the log misses: the part landed and its record did not (the first
    attempt's rows are there, its token unknown to the engine). The block is found whole
    and not inserted again."""
    name = table(client, "landed")
    first = work(Block("events", 0, 30, 34), name)
    assert first.routed is not None
    rows = first.routed[name].rows
    client.insert(name, [[r["id"], r["user_id"], 0, 30 + k] for k, r in enumerate(rows)],
                  column_names=["id", "user_id", "_partition", "_offset"],
                  settings={"insert_deduplication_token": "some other attempt"})
    again = store(client, name, Block("events", 0, 30, 34, fixed=True))
    assert again.landed == {name} and again.commits == []
    assert client.query(f"SELECT count(), uniqExact(id) FROM {name}").result_rows == [(4, 4)]
