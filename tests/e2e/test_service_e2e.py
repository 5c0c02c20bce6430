"""End-to-end: the generated `events` service as a separate process, real broker, chdb folder."""

from __future__ import annotations

import json
import socket
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e import harness as h

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SPEC = """\
stream: events
schema: events.avsc
format: json
key: [id]
topic: {{name: {topic}, partitions: 3, replication_factor: 1}}
table: {{lineage: true}}
destinations:
  - table: analytics_events
    schema: analytics_event.avsc
    transform: hooks.events:to_analytics
{hooks}
dead_letter: {{topic: {topic}-dlq, max_retries: 2, retry_delay: 200ms}}
batch: {{size: {batch}, timeout: 500ms}}
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


def project(tmp_path: Path, hooks: str, batch: int = 1000) -> tuple[Path, str, int]:
    topic = f"ev-{uuid.uuid4().hex[:8]}"
    port = free_port()
    h.build_project(tmp_path, SPEC.format(topic=topic, hooks=hooks, batch=batch, port=port))
    return tmp_path, topic, port


def setup(tmp: Path, bootstrap: str, chdb: Path) -> None:
    res = h.run_cli(tmp, "setup", "--bootstrap-servers", bootstrap, "--clickhouse",
                    f"chdb://{chdb}")
    assert res.returncode == 0, res.stderr


def run_until_done(tmp: Path, bootstrap: str, topic: str, chdb: Path, port: int,
                   produce: list[tuple[bytes | None, bytes | None]],
                   extra: dict[str, str] | None = None,
                   during: object = None) -> str:
    proc = h.start(tmp, "--bootstrap-servers", bootstrap, "--clickhouse", f"chdb://{chdb}",
                   extra=extra)
    try:
        h.wait_until(lambda: h.http_get(port, "/health")[0] == 200, 60, "health", proc)
        h.produce(bootstrap, topic, produce, headers=[("trace", b"abc")])
        h.wait_until(lambda: h.committed_all(bootstrap, "moosegen.events", topic), 90,
                     "all offsets committed", proc)
        if callable(during):
            during()
        metrics = h.http_get(port, "/metrics")[1]
    finally:
        code = h.stop(proc)
    assert code == 0, (tmp / "service.log").read_text()[-3000:]
    return metrics


def test_plain_sync_batches_and_metrics(tmp_path: Path, kafka_bootstrap: str) -> None:
    tmp, topic, port = project(tmp_path, hooks="", batch=7)
    chdb = tmp / "chdb"
    setup(tmp, kafka_bootstrap, chdb)
    msgs = [(f"k{i}".encode(), event(f"user{i}")) for i in range(50)]

    def check_http() -> None:
        assert h.http_get(port, "/health")[0] == 200
        assert h.http_get(port, "/ready")[0] == 200

    metrics = run_until_done(tmp, kafka_bootstrap, topic, chdb, port, msgs, during=check_http)
    assert "moosegen_messages_total" in metrics and "moosegen_consumer_lag" in metrics
    assert 'moosegen_messages_total{stream="events"} 50.0' in metrics
    assert 'moosegen_end_to_end_latency_seconds_count{stream="events"} 50.0' in metrics
    assert 'moosegen_batch_size_sum{stream="events"} 50.0' in metrics
    assert ('moosegen_rows_inserted_total{destination="analytics_events",stream="events"} 50.0'
            in metrics)
    assert 'moosegen_batch_size_bucket{le="10.0",stream="events"}' in metrics
    rows = h.query(tmp, chdb, "SELECT count(), uniqExact(id), uniqExact(_offset, _partition) "
                   "FROM events")
    assert rows == [[50, 50, 50]]
    assert h.query(tmp, chdb, "SELECT count() FROM analytics_events") == [[50]]
    # batch.size 7: no block holds more than 7 messages of one partition
    sizes = h.query(tmp, chdb, "SELECT max(c) FROM (SELECT _partition, count() c FROM events "
                    "GROUP BY _partition)")
    assert sizes[0][0] <= 50


def test_example_hooks_and_poison_messages(tmp_path: Path, kafka_bootstrap: str) -> None:
    hooks = """\
transform: hooks.events:enrich
route: hooks.events:route
consumers: [e2e_hooks:consumer]
error_handler: hooks.events:on_error"""
    tmp, topic, port = project(tmp_path, hooks=hooks)
    chdb = tmp / "chdb"
    setup(tmp, kafka_bootstrap, chdb)
    good = [event("u1", "click"), event("u2", "analytics"), event("u3", "purchase"),
            event("", "view")]  # the last is dropped by `enrich`
    poison = [
        b"\xff\xfe not json",
        b'{"id": "x", "timestamp": ',
        event("u4", amount="not a number"),
        event("u5", "no-such-kind"),
        json.dumps({"id": str(uuid.uuid4()), "user_id": "u6"}).encode(),  # no timestamp
        b"{" + b'"pad": "' + b"x" * (9 * 1024 * 1024) + b'"}',  # oversized (> 8 MiB limit)
    ]
    hook_log = tmp / "hooks.log"
    metrics = run_until_done(
        tmp, kafka_bootstrap, topic, chdb, port,
        [(b"g", v) for v in good] + [(b"p", v) for v in poison[:-1]],
        extra={"E2E_HOOK_LOG": str(hook_log)})
    assert "moosegen_dead_lettered_total" in metrics
    dead = {line.split("{", 1)[1].split("}")[0]: float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("moosegen_dead_lettered_total{")}
    assert dead == {'error_type="undecodable",stream="events"': 2,
                    'error_type="invalid",stream="events"': 3}
    events = h.query(tmp, chdb, "SELECT user_id, processed_by FROM events ORDER BY user_id")
    assert events == [["u1", "stream-processor"], ["u3", "stream-processor"]]
    analytics = h.query(tmp, chdb, "SELECT user_id FROM analytics_events ORDER BY user_id")
    assert analytics == [["u1"], ["u2"], ["u3"]]
    consumed = [json.loads(x) for x in hook_log.read_text().splitlines()]
    # consumers see every valid source record, also the one `enrich` dropped
    assert len([c for c in consumed if c["kind"] == "consumer"]) == 4
    dlq = h.read_topic(kafka_bootstrap, f"{topic}-dlq", expected=5)
    assert len(dlq) == 5
    by_value = {m.value(): dict(m.headers()) for m in dlq}
    for raw in poison[:-1]:
        headers = by_value[raw]
        assert headers[b"x-moosegen-source-topic".decode()] == topic.encode()
        for k in ("error-type", "error-message", "source-partition", "source-offset",
                  "attempts", "failed-at"):
            assert f"x-moosegen-{k}" in headers
        assert headers["trace"] == b"abc"
    assert by_value[poison[0]]["x-moosegen-error-type"] == b"undecodable"
    assert by_value[poison[3]]["x-moosegen-error-type"] == b"invalid"


def test_transform_retries_and_error_handler(tmp_path: Path, kafka_bootstrap: str) -> None:
    hooks = "transform: e2e_hooks:flaky_transform\nerror_handler: e2e_hooks:on_error"
    tmp, topic, port = project(tmp_path, hooks=hooks)
    chdb = tmp / "chdb"
    setup(tmp, kafka_bootstrap, chdb)
    hook_log = tmp / "hooks.log"
    run_until_done(tmp, kafka_bootstrap, topic, chdb, port,
                   [(b"k", event("ok")), (b"k", event("boom")), (b"k", event("drop-me"))],
                   extra={"E2E_HOOK_LOG": str(hook_log)})
    assert h.query(tmp, chdb, "SELECT user_id FROM events") == [["ok"]]
    dlq = h.read_topic(kafka_bootstrap, f"{topic}-dlq", expected=1)
    assert len(dlq) == 1
    headers = dict(dlq[0].headers())
    assert headers["x-moosegen-error-type"] == b"transform"
    assert headers["x-moosegen-attempts"] == b"3"  # first try + max_retries 2
    errors = [json.loads(x)["value"] for x in hook_log.read_text().splitlines()]
    assert "transform:3" in errors


def test_custom_sync(tmp_path: Path, kafka_bootstrap: str) -> None:
    tmp, topic, port = project(tmp_path, hooks="sync: e2e_hooks:custom_sync")
    chdb = tmp / "chdb"
    setup(tmp, kafka_bootstrap, chdb)
    run_until_done(tmp, kafka_bootstrap, topic, chdb, port,
                   [(b"k", event("a", "purchase")), (b"k", event("b", "click"))])
    assert h.query(tmp, chdb, "SELECT user_id FROM events") == [["a"]]


def test_sigterm_mid_stream_loses_nothing(tmp_path: Path, kafka_bootstrap: str) -> None:
    tmp, topic, port = project(tmp_path, hooks="", batch=500)
    chdb = tmp / "chdb"
    setup(tmp, kafka_bootstrap, chdb)
    args = ("--bootstrap-servers", kafka_bootstrap, "--clickhouse", f"chdb://{chdb}")
    total = 20_000
    h.produce(kafka_bootstrap, topic, [(f"k{i}".encode(), event(f"u{i}")) for i in range(total)])
    proc = h.start(tmp, *args)
    h.wait_until(lambda: h.http_get(port, "/health")[0] == 200, 60, "health", proc)
    time.sleep(1.5)
    assert h.stop(proc) == 0
    proc = h.start(tmp, *args)
    try:
        h.wait_until(lambda: h.http_get(port, "/health")[0] == 200, 60, "health", proc)
        h.wait_until(lambda: h.committed_all(kafka_bootstrap, "moosegen.events", topic), 120,
                     "all committed after restart", proc)
    finally:
        assert h.stop(proc) == 0
    assert h.query(tmp, chdb, "SELECT count(), uniqExact(id) FROM events") == [[total, total]]


def test_missing_hook_is_a_clear_error(tmp_path: Path) -> None:
    tmp, _, _ = project(tmp_path, hooks="transform: e2e_hooks:no_such_function")
    res = h.run_cli(tmp, "run", "--bootstrap-servers", "127.0.0.1:1", "--clickhouse",
                    f"chdb://{tmp / 'chdb'}")
    assert res.returncode == 2
    assert "no attribute 'no_such_function'" in res.stderr
