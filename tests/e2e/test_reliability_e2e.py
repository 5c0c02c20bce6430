"""End-to-end reliability: retries that hold one partition only, a ClickHouse that is
down, batch size and timeout, oversized messages, routing and fan-out, hook side effects.

Each test builds the `events` stream under its own topic and group (real broker,
chdb folder owned by the service process while it runs).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness as h
from tests.e2e.test_service_e2e import event, free_port

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SPEC = """\
stream: events
schema: events.avsc
format: json
key: [id]
topic: {{name: {topic}, partitions: {partitions}, replication_factor: {rf}}}
table: {{lineage: true}}
destinations:
  - table: analytics_events
    schema: analytics_event.avsc
    transform: hooks.events:to_analytics
{hooks}
dead_letter: {{topic: {topic}-dlq, max_retries: {retries}, retry_delay: {delay}}}
batch: {{size: {batch}, timeout: {timeout}}}
monitoring: {{port: {port}}}
health_check: {{interval: 5s, timeout: 5s}}
"""


class Project:
    """One built events project: its folder, topic, group, metrics port and chdb folder."""

    def __init__(self, tmp: Path, bootstrap: str, hooks: str = "", partitions: int = 2,
                 retries: int = 2, delay: str = "200ms", batch: int = 1000,
                 timeout: str = "200ms", rf: int = 1, spec: str = SPEC) -> None:
        self.tmp = tmp
        self.bootstrap = bootstrap
        self.topic = f"rel-{uuid.uuid4().hex[:8]}"
        self.group = f"g-{self.topic}"
        self.port = free_port()
        self.chdb = tmp / "chdb"
        self.hook_log = tmp / "hooks.log"
        h.build_project(tmp, spec.format(topic=self.topic, hooks=hooks, partitions=partitions,
                                         retries=retries, delay=delay, batch=batch,
                                         timeout=timeout, port=self.port, rf=rf))
        res = h.run_cli(tmp, "setup", "--bootstrap-servers", bootstrap, "--clickhouse",
                        f"chdb://{self.chdb}")
        assert res.returncode == 0, res.stderr

    def start(self, *extra_args: str, clickhouse: str | None = None) -> Any:
        proc = h.start(self.tmp, "--bootstrap-servers", self.bootstrap, "--clickhouse",
                       clickhouse or f"chdb://{self.chdb}", "--group-id", self.group,
                       *extra_args, extra={"E2E_HOOK_LOG": str(self.hook_log)})
        h.wait_until(lambda: h.http_get(self.port, "/health")[0] == 200, 60, "health", proc)
        return proc

    def wait_committed(self, proc: Any, timeout: float = 90) -> None:
        h.wait_until(lambda: h.committed_all(self.bootstrap, self.group, self.topic), timeout,
                     "all offsets committed", proc)

    def stop(self, proc: Any) -> None:
        code = h.stop(proc)
        assert code == 0, (self.tmp / "service.log").read_text()[-3000:]

    def query(self, sql: str) -> list[list[Any]]:
        return h.query(self.tmp, self.chdb, sql)

    def log(self) -> list[dict[str, Any]]:
        if not self.hook_log.exists():
            return []
        return [json.loads(line) for line in self.hook_log.read_text().splitlines()]

    def metric(self, text: str, name: str) -> float:
        """The sum of every sample of `name` (any labels) in a /metrics text."""
        total = 0.0
        for line in text.splitlines():
            if line.startswith((name + "{", name + " ", name + ",")):
                total += float(line.rsplit(" ", 1)[1])
        return total


def test_retry_holds_only_its_partition(tmp_path: Path, kafka_bootstrap: str) -> None:
    """A record awaiting its retry (delay 3 s, max_retries 2) pauses only its partition:
    records produced to the other partition after its first failure are stored (the consumer
    hook runs after the store) before its second attempt; it is dead-lettered with
    attempts=3, and every other record is stored exactly once."""
    p = Project(tmp_path, kafka_bootstrap,
                hooks="transform: e2e_hooks:fail_on_boom\nconsumers: [e2e_hooks:log_stored]",
                retries=2, delay="3s")
    proc = p.start()
    try:
        h.produce(kafka_bootstrap, p.topic, [(b"a", event(u)) for u in ("a1", "boom", "a2")],
                  partition=0)
        h.wait_until(lambda: any(e["kind"] == "fail" for e in p.log()), 30, "first failure",
                     proc)
        h.produce(kafka_bootstrap, p.topic, [(b"b", event(f"b{i}")) for i in range(5)],
                  partition=1)
        p.wait_committed(proc, timeout=60)
        metrics = h.http_get(p.port, "/metrics")[1]
    finally:
        p.stop(proc)
    log = p.log()
    fails = [e["t"] for e in log if e["kind"] == "fail"]
    stored = {e["user"]: e["t"] for e in log if e["kind"] == "stored"}
    assert len(fails) == 3  # the first try and max_retries 2
    assert sorted(stored) == ["a1", "a2", "b0", "b1", "b2", "b3", "b4"]
    # ordering, not timing: partition 1 was stored while partition 0 waited for its retry
    last_b = max(stored[f"b{i}"] for i in range(5))
    assert last_b < fails[1]
    assert stored["a1"] < fails[1]  # the records before the failing one were not held
    assert stored["a2"] > fails[2]  # the records after it waited for its last attempt
    print(f"\nretry hold: partition 1 stored {last_b - fails[0]:.2f}s after the first "
          f"failure; retries at +{fails[1] - fails[0]:.2f}s and "
          f"+{fails[2] - fails[0]:.2f}s; a2 stored at +{stored['a2'] - fails[0]:.2f}s")
    rows = p.query("SELECT user_id, count() FROM events GROUP BY user_id ORDER BY user_id")
    assert rows == [[u, 1] for u in ["a1", "a2", "b0", "b1", "b2", "b3", "b4"]]
    dlq = h.read_topic(kafka_bootstrap, f"{p.topic}-dlq", expected=1)
    assert len(dlq) == 1
    headers = dict(dlq[0].headers())
    assert headers["x-moosegen-attempts"] == b"3"
    assert headers["x-moosegen-error-stage"] == b"transform"
    assert headers["x-moosegen-source-partition"] == b"0"
    assert headers["x-moosegen-source-offset"] == b"1"
    assert p.metric(metrics, "moosegen_retries_total") == 2


def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> list[int]:
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        tps = c.committed([TopicPartition(topic, i) for i in range(partitions)], timeout=10)
        return [tp.offset for tp in tps]
    finally:
        c.close()


def group_members(bootstrap: str, group: str) -> int:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    desc = admin.describe_consumer_groups([group])[group].result(timeout=10)
    return len(desc.members)


def service_log(p: Project) -> list[dict[str, Any]]:
    out = []
    for line in (p.tmp / "service.log").read_text().splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_clickhouse_down_backs_off_then_resumes(tmp_path: Path, kafka_bootstrap: str) -> None:
    """ClickHouse unreachable (a closed loopback port): the service backs off (bounded
    exponential), stays in its group with partitions paused, reports /ready false, commits
    nothing beyond what was stored, and exits 0 on SIGTERM; run again against the real
    engine, every record arrives exactly once."""
    p = Project(tmp_path, kafka_bootstrap, partitions=2)
    total = 40
    h.produce(kafka_bootstrap, p.topic, [(f"k{i}".encode(), event(f"u{i}")) for i in range(total)])
    closed = free_port()  # bound and released: nothing listens there
    proc = p.start("--max-backoff", "2", clickhouse=f"http://127.0.0.1:{closed}")
    try:
        def backed_off() -> bool:
            return p.metric(h.http_get(p.port, "/metrics")[1], "moosegen_errors_total") >= 5
        h.wait_until(backed_off, 60, "five ClickHouse back-offs", proc)
        status, why = h.http_get(p.port, "/ready")
        assert (status, why.strip()) == (503, "clickhouse not reachable")
        assert h.http_get(p.port, "/health")[0] == 200
        assert group_members(kafka_bootstrap, p.group) == 1  # polling kept it in the group
        assert all(o <= 0 for o in committed_offsets(kafka_bootstrap, p.group, p.topic, 2))
    finally:
        p.stop(proc)
    assert proc.returncode == 0
    # nothing stored, so nothing committed past the first offset (a plan at 0 at most)
    assert all(o <= 0 for o in committed_offsets(kafka_bootstrap, p.group, p.topic, 2))
    delays = [float(e["msg"].split("backing off ")[1].split("s")[0])
              for e in service_log(p) if e.get("event") == "clickhouse_backoff"
              and "backing off" in e.get("msg", "")]
    assert delays[:3] == [0.5, 1.0, 2.0] and max(delays) == 2.0  # doubling, capped
    proc = p.start()
    try:
        p.wait_committed(proc)
        assert h.http_get(p.port, "/ready")[0] == 200
    finally:
        p.stop(proc)
    assert p.query("SELECT count(), uniqExact(id) FROM events") == [[total, total]]


def test_batch_size_and_batch_timeout(tmp_path: Path, kafka_bootstrap: str) -> None:
    """batch.size caps every batch (95 waiting records, size 10: ten inserts of at most 10);
    a batch far from full is flushed by batch.timeout (size 100000, timeout 300 ms)."""
    p = Project(tmp_path, kafka_bootstrap, partitions=1)
    h.produce(kafka_bootstrap, p.topic, [(b"k", event(f"u{i}")) for i in range(95)])
    proc = p.start("--batch-size", "10", "--batch-timeout-ms", "2000")
    try:
        p.wait_committed(proc)
        metrics = h.http_get(p.port, "/metrics")[1]
    finally:
        p.stop(proc)
    batches = p.metric(metrics, "moosegen_batch_size_count")
    assert p.metric(metrics, "moosegen_batch_size_sum") == 95
    assert batches >= 10
    assert 'moosegen_batch_size_bucket{le="10.0",stream="events"} ' + f"{batches}" in metrics
    inserts = 'moosegen_insert_latency_seconds_count{destination="events",stream="events"}'
    assert p.metric(metrics, inserts.split("{")[0]) >= 20  # two tables, ten blocks each

    proc = p.start("--batch-size", "100000", "--batch-timeout-ms", "300")
    try:
        started = time.monotonic()
        h.produce(kafka_bootstrap, p.topic, [(b"k", event(f"late{i}")) for i in range(5)])
        p.wait_committed(proc)
        waited = time.monotonic() - started
        metrics = h.http_get(p.port, "/metrics")[1]
    finally:
        p.stop(proc)
    print(f"\nbatch timeout 300 ms: 5 records stored and committed {waited:.2f}s after produce")
    assert p.metric(metrics, "moosegen_batch_size_sum") == 5  # flushed though far from full
    assert p.query("SELECT count(), uniqExact(id) FROM events") == [[100, 100]]


def test_oversized_messages_are_dead_lettered(tmp_path: Path, kafka_bootstrap: str) -> None:
    """--max-message-bytes: a larger record goes to the dead-letter topic, original bytes and
    headers kept, error type `oversized`; the others are stored."""
    p = Project(tmp_path, kafka_bootstrap, partitions=1)
    big = event("big", data={"pad": "x" * 3000})
    small = event("small")
    proc = p.start("--max-message-bytes", "2048")
    try:
        h.produce(kafka_bootstrap, p.topic, [(b"b", big), (b"s", small)],
                  headers=[("trace", b"t-1")])
        p.wait_committed(proc)
    finally:
        p.stop(proc)
    assert p.query("SELECT user_id FROM events") == [["small"]]
    dlq = h.read_topic(kafka_bootstrap, f"{p.topic}-dlq", expected=1)
    assert len(dlq) == 1
    assert dlq[0].value() == big and dlq[0].key() == b"b"
    headers = dict(dlq[0].headers())
    assert headers["trace"] == b"t-1"
    assert headers["x-moosegen-error-type"] == b"oversized"
    assert headers["x-moosegen-source-offset"] == b"0"
    assert b"exceeds the limit of 2048" in headers["x-moosegen-error-message"]


def test_route_and_fan_out_exact_tables(tmp_path: Path, kafka_bootstrap: str) -> None:
    """The example's transform, route and fan-out hooks: each table holds exactly the rows
    the hooks say, in its own schema; the consumer hook saw every valid source record."""
    hooks = ("transform: hooks.events:enrich\nroute: hooks.events:route\n"
             "consumers: [e2e_hooks:log_stored]")
    p = Project(tmp_path, kafka_bootstrap, hooks=hooks, partitions=2)
    ids = [str(uuid.UUID(int=i + 1)) for i in range(4)]
    source = [("u1", "click", ids[0]), ("u2", "analytics", ids[1]), ("u3", "purchase", ids[2]),
              ("", "view", ids[3])]  # enrich drops the empty user
    proc = p.start()
    try:
        h.produce(kafka_bootstrap, p.topic,
                  [(u.encode() or b"x", event(u, kind, id=i)) for u, kind, i in source])
        p.wait_committed(proc)
    finally:
        p.stop(proc)
    events = p.query("SELECT toString(id), user_id, toString(event_type), toString(amount), "
                     "processed_by, data FROM events ORDER BY user_id")
    assert events == [
        [ids[0], "u1", "click", "12.5", "stream-processor", {"k": "v"}],
        [ids[2], "u3", "purchase", "12.5", "stream-processor", {"k": "v"}],
    ]
    analytics = p.query("SELECT toString(id), toString(timestamp), user_id, "
                        "toString(event_type) FROM analytics_events ORDER BY user_id")
    assert analytics == [
        [ids[0], "2026-01-02 03:04:05.678", "u1", "click"],
        [ids[1], "2026-01-02 03:04:05.678", "u2", "analytics"],
        [ids[2], "2026-01-02 03:04:05.678", "u3", "purchase"],
    ]
    columns = p.query("SELECT name FROM system.columns WHERE table = 'analytics_events' "
                      "ORDER BY position")
    assert [c[0] for c in columns] == ["id", "timestamp", "user_id", "event_type"]
    # the consumer hook ran once per valid source record, after its block was stored
    assert sorted(e["user"] for e in p.log() if e["kind"] == "stored") == ["", "u1", "u2", "u3"]
