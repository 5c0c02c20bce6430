"""A stopping service never spins: a commit refused after a rebalance gives up once a
stop is requested (the block is replayed), and an assignment whose committed offsets
cannot be read is retried until read (a planned block must be re-formed exactly), or not
taken on when stopping."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from confluent_kafka import TopicPartition
from moosegen.runtime import lifecycle
from moosegen.runtime.planning import encode_plan
from moosegen.runtime.runner import Abandon

from tests.runtime.test_runner_units import FakeClient, FakeConsumer, runner


class RefusingConsumer(FakeConsumer):
    """Every commit refused with UNKNOWN_MEMBER_ID; the k-th poll requests a stop."""

    def __init__(self, stop_at_poll: int) -> None:
        super().__init__()
        self.stop_at_poll = stop_at_poll

    def commit(self, offsets: list[Any], asynchronous: bool = False) -> None:
        raise RuntimeError("KafkaError{code=UNKNOWN_MEMBER_ID,val=25}")

    def poll(self, timeout: float) -> None:
        super().poll(timeout)
        if self.polls >= self.stop_at_poll:
            lifecycle.STOP.set()


def test_a_refused_commit_gives_up_when_stopping() -> None:
    lifecycle.STOP.clear()
    r = runner(FakeClient())
    r.consumer = RefusingConsumer(stop_at_poll=3)
    r.assigned = {0}
    try:
        with pytest.raises(Abandon):
            r.commit([TopicPartition("events", 0, 5)])
    finally:
        lifecycle.STOP.clear()
    assert r.consumer.polls == 3


class FlakyCommitted(FakeConsumer):
    def __init__(self, failures: int, metadata: str) -> None:
        super().__init__()
        self.failures, self.metadata = failures, metadata

    def committed(self, partitions: list[Any], timeout: float) -> list[Any]:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("KafkaError{code=_TIMED_OUT}")
        return [TopicPartition("events", tp.partition, 10, metadata=self.metadata)
                for tp in partitions]


def test_assignment_waits_for_the_committed_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    lifecycle.STOP.clear()
    monkeypatch.setattr(lifecycle.STOP, "wait", lambda timeout: False)  # no real sleeps
    r = runner(FakeClient())
    plan = encode_plan(25)
    consumer = r.consumer = FlakyCommitted(failures=7, metadata=plan)
    r._on_assign(consumer, [TopicPartition("events", 0)])
    assert consumer.failures == 0 and r.assigned == {0}
    assert r.batcher.pending(0) == (10, 25)  # the planned block is re-formed


def test_stopping_while_the_committed_offsets_are_unreadable() -> None:
    lifecycle.STOP.clear()
    r = runner(FakeClient())
    consumer = r.consumer = FlakyCommitted(failures=10**6, metadata="")
    timer = threading.Timer(0.3, lifecycle.STOP.set)
    timer.start()
    try:
        r._on_assign(consumer, [TopicPartition("events", 0)])
    finally:
        timer.cancel()
        lifecycle.STOP.clear()
    assert r.assigned == set()


class FatalError:
    def fatal(self) -> bool:
        return True

    def __str__(self) -> str:
        return "KafkaError{code=_FENCED,val=-144,fatal=True}"


def test_a_fatal_kafka_error_stops_the_service_without_committing() -> None:
    # e.g. fenced: another live member took this instance id. Nothing more is committed
    # (the new member replays from the committed offsets); the service exits 1.
    lifecycle.STOP.clear()
    r = runner(FakeClient())
    r.assigned = {0}
    try:
        r._kafka_error(FatalError())
        assert lifecycle.STOP.is_set() and r.fatal is not None
        with pytest.raises(Abandon):
            r.commit([TopicPartition("events", 0, 5)])
    finally:
        lifecycle.STOP.clear()
