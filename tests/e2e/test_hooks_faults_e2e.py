"""End-to-end: failing custom `sync` and `consumers` hooks, and every `error_handler`
choice. Real broker (the session's), the `events` service as a separate process, its own
topic, group and chdb folder per test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e import harness as h
from tests.e2e.test_reliability_e2e import Project
from tests.e2e.test_service_e2e import event

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def committed(bootstrap: str, group: str, topic: str, partition: int) -> tuple[int, str]:
    """The group's committed offset and its metadata for one partition."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        tp = c.committed([TopicPartition(topic, partition)], timeout=10)[0]
        meta = tp.metadata or ""
        return tp.offset, meta.decode() if isinstance(meta, bytes) else meta
    finally:
        c.close()


def dlq_by_user(bootstrap: str, topic: str, expected: int) -> dict[str, dict[str, bytes]]:
    msgs = h.read_topic(bootstrap, f"{topic}-dlq", expected=expected)
    out = {json.loads(m.value())["user_id"]: dict(m.headers()) for m in msgs}
    assert len(out) == len(msgs), "a record was dead-lettered twice"
    return out


def test_failing_sync_hook_retries_then_dead_letters_block(tmp_path: Path,
                                                           kafka_bootstrap: str) -> None:
    """A custom sync hook failing for one partition's block is retried max_retries (2) times,
    retry_delay (1.5 s) apart, while the other partition is stored; then the whole block is
    dead-lettered (attempts 3, stage sync), later records of that partition are stored, and
    nothing else is lost or stored twice."""
    p = Project(tmp_path, kafka_bootstrap, hooks="sync: e2e_hooks:sync_fails_on_bad",
                retries=2, delay="1500ms")
    proc = p.start()
    try:
        h.produce(kafka_bootstrap, p.topic, [(b"a", event(u)) for u in ("a1", "bad", "a2")],
                  partition=0)
        h.wait_until(lambda: any(e["kind"] == "sync_fail" for e in p.log()), 30,
                     "first sync failure", proc)
        h.produce(kafka_bootstrap, p.topic, [(b"b", event(f"b{i}")) for i in range(5)],
                  partition=1)
        h.wait_until(lambda: len([e for e in p.log() if e["kind"] == "sync_fail"]) >= 3, 30,
                     "three sync failures", proc)
        h.produce(kafka_bootstrap, p.topic, [(b"a", event("a3"))], partition=0)
        p.wait_committed(proc, timeout=60)
        metrics = h.http_get(p.port, "/metrics")[1]
    finally:
        p.stop(proc)
    log = p.log()
    fails = [e for e in log if e["kind"] == "sync_fail"]
    assert len(fails) == 3  # the first try and max_retries 2
    assert all(e["partition"] == 0 for e in fails)
    failed_block = fails[0]["users"]
    assert all(e["users"] == failed_block for e in fails)  # re-formed with the same range
    gaps = [b["t"] - a["t"] for a, b in zip(fails, fails[1:], strict=False)]
    assert min(gaps) >= 1.5  # retry_delay apart
    stored_b = [e["t"] for e in log if e["kind"] == "sync_ok" and e["partition"] == 1]
    assert stored_b and stored_b[0] < fails[1]["t"]  # partition 1 went on meanwhile
    print(f"\nsync retries at +{gaps[0]:.2f}s, +{gaps[0] + gaps[1]:.2f}s; partition 1 stored "
          f"{stored_b[0] - fails[0]['t']:.2f}s after the first failure")
    every = ["a1", "bad", "a2", "a3"] + [f"b{i}" for i in range(5)]
    dlq = dlq_by_user(kafka_bootstrap, p.topic, expected=len(failed_block))
    assert sorted(dlq) == sorted(failed_block)
    for headers in dlq.values():
        assert headers["x-moosegen-attempts"] == b"3"
        assert headers["x-moosegen-error-stage"] == b"sync"
        assert headers["x-moosegen-source-partition"] == b"0"
        assert b"sync failed" in headers["x-moosegen-error-message"]
    rows = p.query("SELECT user_id, count() FROM events GROUP BY user_id ORDER BY user_id")
    assert rows == [[u, 1] for u in sorted(set(every) - set(failed_block))]
    assert p.metric(metrics, "moosegen_retries_total") == 2


def test_failing_consumer_hook_commits_end_after_hook_and_replays_once(
        tmp_path: Path, kafka_bootstrap: str) -> None:
    """A consumer hook fails after its block is stored: the block is stored once, its end is
    not committed (the plan stays) while the hook waits for its retry; a restart then replays
    the block (deduplicated: still one row each) and the hook succeeds, and the end is
    committed. A hook that keeps failing is dead-lettered after max_retries, then the end is
    committed too."""
    p = Project(tmp_path, kafka_bootstrap, hooks="consumers: [e2e_hooks:consumer_fails_twice]",
                partitions=1, retries=3, delay="3s")
    proc = p.start()
    try:
        h.produce(kafka_bootstrap, p.topic, [(b"c", event(u)) for u in ("c1", "cboom", "c2")])
        h.wait_until(lambda: any(e["kind"] == "consumer_fail" for e in p.log()), 30,
                     "the consumer hook failed", proc)
        rows_metric = p.metric(h.http_get(p.port, "/metrics")[1],
                               'moosegen_rows_inserted_total{destination="events"')
        offset, meta = committed(kafka_bootstrap, p.group, p.topic, 0)
    finally:
        p.stop(proc)  # between the first failure and its retry (3 s later)
    assert rows_metric == 3  # stored before the consumer hook ran
    assert offset == 0 and json.loads(meta)["end"] == 3  # only the plan, not the end
    assert committed(kafka_bootstrap, p.group, p.topic, 0)[0] == 0  # SIGTERM kept it so
    assert len([e for e in p.log() if e["kind"] == "consumer_fail"]) == 1
    assert p.query("SELECT count() FROM events") == [[3]]

    proc = p.start()
    try:
        p.wait_committed(proc, timeout=60)  # replayed, hook failed once more, then succeeded
        assert committed(kafka_bootstrap, p.group, p.topic, 0) == (3, "")
        h.produce(kafka_bootstrap, p.topic, [(b"c", event(u)) for u in ("c3", "cdead")])
        h.wait_until(lambda: any(e["kind"] == "consumer_fail" and e["user"] == "cdead"
                                 for e in p.log()), 30, "cdead failed", proc)
        assert committed(kafka_bootstrap, p.group, p.topic, 0)[0] == 3  # not past cdead's block
        p.wait_committed(proc, timeout=60)
    finally:
        p.stop(proc)
    log = p.log()
    fails = [e["user"] for e in log if e["kind"] == "consumer_fail"]
    assert fails.count("cboom") == 2 and fails.count("cdead") == 4  # first try + 3 retries
    consumed = [e["user"] for e in log if e["kind"] == "consumed"]
    assert consumed.count("cboom") == 1 and consumed.count("c3") == 1
    # side effects are at least once: the replay ran the hook again for c1 and c2
    assert consumed.count("c1") == 2 and consumed.count("c2") == 2
    rows = p.query("SELECT user_id, count(), uniqExact(_offset) FROM events GROUP BY user_id "
                   "ORDER BY user_id")
    assert rows == [[u, 1, 1] for u in sorted(["c1", "cboom", "c2", "c3", "cdead"])]
    dlq = dlq_by_user(kafka_bootstrap, p.topic, expected=1)
    assert list(dlq) == ["cdead"]
    assert dlq["cdead"]["x-moosegen-error-stage"] == b"consumer"
    assert dlq["cdead"]["x-moosegen-attempts"] == b"4"


def test_error_handler_choices(tmp_path: Path, kafka_bootstrap: str) -> None:
    """retry: a transient transform failure succeeds on the 2nd attempt (stored, not
    dead-lettered); dead_letter: straight to the DLQ (attempts 1); drop: neither stored nor
    dead-lettered, its offset committed; a handler that raises: the default policy (retried,
    then dead-lettered with attempts 3) and the stream goes on."""
    p = Project(tmp_path, kafka_bootstrap,
                hooks="transform: e2e_hooks:transform_for_handler\n"
                      "error_handler: e2e_hooks:choose",
                partitions=1, retries=2, delay="200ms")
    users = ["ok1", "transient", "to-dlq", "to-drop", "handler-raises", "ok2"]
    proc = p.start()
    try:
        h.produce(kafka_bootstrap, p.topic, [(b"k", event(u)) for u in users])
        p.wait_committed(proc, timeout=60)
        h.produce(kafka_bootstrap, p.topic, [(b"k", event("after"))])
        p.wait_committed(proc, timeout=60)
        metrics = h.http_get(p.port, "/metrics")[1]
        assert proc.poll() is None
    finally:
        p.stop(proc)
    assert committed(kafka_bootstrap, p.group, p.topic, 0)[0] == len(users) + 1
    rows = p.query("SELECT user_id, count() FROM events GROUP BY user_id ORDER BY user_id")
    assert rows == [["after", 1], ["ok1", 1], ["ok2", 1], ["transient", 1]]
    dlq = dlq_by_user(kafka_bootstrap, p.topic, expected=2)
    assert sorted(dlq) == ["handler-raises", "to-dlq"]
    assert dlq["to-dlq"]["x-moosegen-attempts"] == b"1"
    assert dlq["handler-raises"]["x-moosegen-attempts"] == b"3"
    assert dlq["handler-raises"]["x-moosegen-error-stage"] == b"transform"
    log = p.log()
    fails: dict[str, int] = {}
    for e in log:
        if e["kind"] == "fail":
            fails[e["user"]] = fails.get(e["user"], 0) + 1
    # the records after a retried one are prepared again once its partition is released
    # (their first decision is not kept), so the transform may run twice for them
    assert fails["transient"] == 1 and 3 <= fails["handler-raises"] <= 4
    assert 1 <= fails["to-dlq"] <= 2 and 1 <= fails["to-drop"] <= 2
    # but each failure is decided once: the handler is asked once per attempt
    asked = sorted((e["user"], e["attempt"]) for e in log if e["kind"] == "handler")
    assert asked == sorted([("transient", 1), ("to-dlq", 1), ("to-drop", 1),
                            ("handler-raises", 1), ("handler-raises", 2),
                            ("handler-raises", 3)])
    assert p.metric(metrics, "moosegen_dropped_total") == 1
    service = (tmp_path / "service.log").read_text()
    assert "error handler raised" in service
