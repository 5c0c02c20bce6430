"""End-to-end reliability: retries that hold one partition only, a ClickHouse that is
down, batch size and timeout, oversized messages, routing and fan-out, hook side effects.

Each test builds the `events` stream under its own topic and group (real broker,
chdb folder owned by the service process while it runs).
"""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness as h

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SPEC = """\
stream: events
schema: events.avsc
format: json
key: [id]
topic: {{name: {topic}, partitions: {partitions}, replication_factor: 1}}
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def event(user: str = "u1", kind: str = "click", **extra: object) -> bytes:
    data = {"id": str(uuid.uuid4()), "timestamp": "2026-01-02T03:04:05.678Z", "user_id": user,
            "event_type": kind, "amount": "12.5000", "data": {"k": "v"}, **extra}
    return json.dumps(data).encode()


class Project:
    """One built events project: its folder, topic, group, metrics port and chdb folder."""

    def __init__(self, tmp: Path, bootstrap: str, hooks: str = "", partitions: int = 2,
                 retries: int = 2, delay: str = "200ms", batch: int = 1000,
                 timeout: str = "200ms") -> None:
        self.tmp = tmp
        self.bootstrap = bootstrap
        self.topic = f"rel-{uuid.uuid4().hex[:8]}"
        self.group = f"g-{self.topic}"
        self.port = free_port()
        self.chdb = tmp / "chdb"
        self.hook_log = tmp / "hooks.log"
        h.build_project(tmp, SPEC.format(topic=self.topic, hooks=hooks, partitions=partitions,
                                         retries=retries, delay=delay, batch=batch,
                                         timeout=timeout, port=self.port))
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
            if line.startswith(name + "{") or line.startswith(name + " "):
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
