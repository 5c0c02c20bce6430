"""End-to-end: the Streams guide, example by example (creating-streams.md), each as a spec
run by its generated service against a real broker and chdb, with exact results.

The README's guide table maps every section of the guide to the test proving it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness as h
from tests.e2e.test_reliability_e2e import Project
from tests.e2e.test_service_e2e import event

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

# The guide's "Advanced Configuration" (replication factor 1: the test broker is one node).
ADVANCED = """\
stream: events
schema: events.avsc
key: [id]
topic: {{name: {topic}, partitions: 6, replication_factor: {rf}, retention: 7d,
         compression: lz4, cleanup_policy: delete}}
table: {{lineage: true}}
{hooks}
dead_letter: {{topic: {topic}-dlq}}
batch: {{size: {batch}, timeout: {timeout}}}
"""

MONITORING = "monitoring: {{port: {port}, metrics: [throughput, latency, error-rate, lag]}}\n"


def ids(n: int) -> list[str]:
    return [str(uuid.UUID(int=i + 1)) for i in range(n)]


def samples(text: str, name: str) -> dict[str, float]:
    """Every sample of metric `name` in a /metrics text, by its label text."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line[len(name):].rsplit(" ", 1)
            out[labels] = float(value)
    return out


def test_advanced_configuration_automatic_sync_and_metric_values(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    """Automatic sync of the advanced configuration: the topic has exactly its settings,
    every valid message is one row, and the metrics count exactly: messages, stored
    latencies, errors by stage, dead letters by type, lag back to 0."""
    from confluent_kafka.admin import AdminClient, ConfigResource

    p = Project(tmp_path, kafka_bootstrap, spec=ADVANCED + MONITORING)
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    md = admin.list_topics(p.topic, timeout=10)
    assert len(md.topics[p.topic].partitions) == 6
    resource = ConfigResource(ConfigResource.Type.TOPIC, p.topic)
    configs = admin.describe_configs([resource])[resource].result(timeout=10)
    assert {k: configs[k].value for k in ("retention.ms", "compression.type",
                                          "cleanup.policy")} == {
        "retention.ms": "604800000", "compression.type": "lz4", "cleanup.policy": "delete"}

    n = 40
    keys = ids(n)
    good = [(f"u{i % 7}".encode(), event(f"u{i}", "click", id=keys[i])) for i in range(n)]
    poison = [(b"p", b"\xff not json"), (b"p", event("bad", "no-such-kind")),
              (b"p", event("bad", amount="not a number"))]
    proc = p.start()
    try:
        h.produce(kafka_bootstrap, p.topic, good + poison)
        p.wait_committed(proc)

        def lag_zero() -> bool:
            lag = samples(h.http_get(p.port, "/metrics")[1], "moosegen_consumer_lag")
            return bool(lag) and all(v == 0 for v in lag.values())

        h.wait_until(lag_zero, 30, "consumer lag back to 0", proc)
        metrics = h.http_get(p.port, "/metrics")[1]
    finally:
        p.stop(proc)
    rows = p.query("SELECT toString(id), user_id, toString(event_type) FROM events ORDER BY id")
    assert rows == sorted([[keys[i], f"u{i}", "click"] for i in range(n)])
    assert samples(metrics, "moosegen_messages_total") == {'{stream="events"}': n + 3}
    assert samples(metrics, "moosegen_rows_inserted_total") == {
        '{destination="events",stream="events"}': n}
    latency = samples(metrics, "moosegen_end_to_end_latency_seconds_count")
    assert latency == {'{stream="events"}': n}  # per stored message, poison excluded
    assert samples(metrics, "moosegen_errors_total") == {
        '{stage="decode",stream="events"}': 1, '{stage="validate",stream="events"}': 2}
    # not selected in `monitoring.metrics`: not served
    assert "moosegen_dead_lettered_total" not in metrics
    assert "moosegen_batch_size" not in metrics
    dlq = h.read_topic(kafka_bootstrap, f"{p.topic}-dlq", expected=3)
    assert sorted(dict(m.headers())["x-moosegen-error-type"] for m in dlq) == [
        b"invalid", b"invalid", b"undecodable"]


def test_monitoring_disabled_serves_no_metrics(tmp_path: Path, kafka_bootstrap: str) -> None:
    spec = ADVANCED + "monitoring: {{enabled: false, port: {port}}}\n"
    p = Project(tmp_path, kafka_bootstrap, spec=spec)
    proc = p.start()
    try:
        h.produce(kafka_bootstrap, p.topic, [(b"k", event("u1", id=ids(1)[0]))])
        p.wait_committed(proc)
        assert h.http_get(p.port, "/metrics")[0] == 404
        assert h.http_get(p.port, "/ready")[0] == 200
    finally:
        p.stop(proc)
    assert p.query("SELECT toString(id) FROM events") == [[ids(1)[0]]]


def test_health_check_reports_a_stalled_consumer(tmp_path: Path, kafka_bootstrap: str) -> None:
    """health_check interval 1s, timeout 1s, stall bound 2s: a transform that blocks leaves
    messages waiting with nothing stored; the progress check fails, /ready answers 503 and
    the failure is counted; once the transform returns, the rows are stored and the next
    checks pass again."""
    spec = ADVANCED.replace("{hooks}", "transform: e2e_hooks:stall_while_file\n{hooks}") + (
        "monitoring: {{port: {port}}}\nhealth_check: {{interval: 1s, timeout: 1s}}\n")
    p = Project(tmp_path, kafka_bootstrap, spec=spec)
    stall = tmp_path / "stall"
    stall.touch()
    proc = h.start(p.tmp, "--bootstrap-servers", kafka_bootstrap, "--clickhouse",
                   f"chdb://{p.chdb}", "--group-id", p.group, "--stall-after", "2",
                   extra={"E2E_STALL_FILE": str(stall)})
    try:
        h.wait_until(lambda: h.http_get(p.port, "/ready")[0] == 200, 60, "ready", proc)
        metrics = h.http_get(p.port, "/metrics")[1]
        assert samples(metrics, "moosegen_health_check_up") == {
            f'{{check="{c}",stream="events"}}': 1 for c in ("clickhouse", "kafka", "progress")}
        h.produce(kafka_bootstrap, p.topic, [(b"k", event("u1", id=ids(1)[0]))])

        def progress_failed() -> bool:
            text = h.http_get(p.port, "/metrics")[1]
            up = samples(text, "moosegen_health_check_up")
            return up.get('{check="progress",stream="events"}') == 0

        h.wait_until(progress_failed, 30, "the progress check fails", proc)
        assert h.http_get(p.port, "/ready")[0] == 503
        failures = samples(h.http_get(p.port, "/metrics")[1],
                           "moosegen_health_check_failures_total")
        assert failures['{check="progress",stream="events"}'] >= 1
        assert '{check="kafka",stream="events"}' not in failures
        stall.unlink()
        p.wait_committed(proc)
        h.wait_until(lambda: h.http_get(p.port, "/ready")[0] == 200, 30,
                     f"ready again ({h.http_get(p.port, '/ready')})", proc)
    finally:
        p.stop(proc)
    assert p.query("SELECT toString(id) FROM events") == [[ids(1)[0]]]


def test_fan_out_without_a_default_table(tmp_path: Path, kafka_bootstrap: str) -> None:
    """The guide's fan-out: a stream with no destination of its own (`table: false`) and
    two added destinations, the events table and the analytics table."""
    spec = ADVANCED.replace("table: {{lineage: true}}\n", """\
table: false
destinations:
  - table: all_events
    schema: events.avsc
  - table: analytics_events
    schema: analytics_event.avsc
    transform: hooks.events:to_analytics
""") + MONITORING
    p = Project(tmp_path, kafka_bootstrap, spec=spec)
    keys = ids(3)
    proc = p.start()
    try:
        h.produce(kafka_bootstrap, p.topic, [(b"k", event(f"u{i}", "view", id=keys[i]))
                                            for i in range(3)])
        p.wait_committed(proc)
    finally:
        p.stop(proc)
    tables = p.query("SELECT name FROM system.tables WHERE database = 'default' "
                     "AND name NOT LIKE '\\_%' ORDER BY name")
    assert tables == [["all_events"], ["analytics_events"]]
    assert p.query("SELECT toString(id), user_id FROM all_events ORDER BY id") == [
        [keys[i], f"u{i}"] for i in range(3)]
    assert p.query("SELECT toString(id), user_id, toString(event_type) FROM analytics_events "
                   "ORDER BY id") == [[keys[i], f"u{i}", "view"] for i in range(3)]


def test_conditional_routing_none_and_unknown_names(tmp_path: Path,
                                                   kafka_bootstrap: str) -> None:
    """routeFunction: 'analytics' → analytics table only, 'click' → events only, 'view' →
    None (stored nowhere, not an error), 'purchase' → an unknown table: dead-lettered."""
    spec = ADVANCED.replace("table: {{lineage: true}}\n", """\
table: {{lineage: true}}
destinations:
  - table: analytics_events
    schema: analytics_event.avsc
    transform: hooks.events:to_analytics
route: e2e_hooks:guide_route
""") + MONITORING
    p = Project(tmp_path, kafka_bootstrap, spec=spec)
    keys = ids(4)
    kinds = ["click", "analytics", "view", "purchase"]
    proc = p.start()
    try:
        h.produce(kafka_bootstrap, p.topic, [(b"k", event(f"u{i}", kinds[i], id=keys[i]))
                                            for i in range(4)])
        p.wait_committed(proc)
        metrics = h.http_get(p.port, "/metrics")[1]
    finally:
        p.stop(proc)
    assert p.query("SELECT toString(id), user_id FROM events") == [[keys[0], "u0"]]
    assert p.query("SELECT toString(id), user_id FROM analytics_events") == [[keys[1], "u1"]]
    dlq = h.read_topic(kafka_bootstrap, f"{p.topic}-dlq", expected=1)
    assert len(dlq) == 1
    headers = dict(dlq[0].headers())
    assert headers["x-moosegen-error-type"] == b"route"
    assert headers["x-moosegen-source-offset"] == b"3"
    assert b"unknown destination 'no_such_table'" in headers["x-moosegen-error-message"]
    assert samples(metrics, "moosegen_errors_total") == {'{stage="route",stream="events"}': 1}


PRODUCE = """\
import json, sys
from datetime import datetime, timezone
from generated.events.models import Event, Producer

users = json.loads(sys.argv[3])
with Producer(sys.argv[1], topic=sys.argv[2]) as producer:
    for i, user in enumerate(users):
        producer.produce(Event(id=f"00000000-0000-0000-0000-{i + 1:012d}",
                               timestamp=datetime(2026, 1, 2, tzinfo=timezone.utc),
                               user_id=user, event_type="click", data={}))
"""


def test_partition_key_places_users_as_kafka_does(tmp_path: Path, kafka_bootstrap: str) -> None:
    """partitionFunction: `topic.partition_key: [user_id]`. The generated Producer picks the
    partition of each record by user id; the oracle is librdkafka's own `murmur2_random`
    partitioner (Kafka's Java default) keyed by the same user id."""
    spec = ADVANCED.replace("cleanup_policy: delete}}", "cleanup_policy: delete, "
                            "partition_key: [user_id]}}") + MONITORING
    p = Project(tmp_path, kafka_bootstrap, spec=spec)
    users = [f"user-{i % 9}" for i in range(45)]
    subprocess.run([sys.executable, "-c", PRODUCE, kafka_bootstrap, p.topic, json.dumps(users)],
                   cwd=p.tmp, env=h.env(), check=True, timeout=60)
    oracle_topic = f"{p.topic}-oracle"
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.create_topics([NewTopic(oracle_topic, 6, 1)])[oracle_topic].result(timeout=30)
    h.produce(kafka_bootstrap, oracle_topic, [(u.encode(), b"x") for u in sorted(set(users))],
              config={"partitioner": "murmur2_random"})
    expected = {m.key().decode(): m.partition()
                for m in h.read_topic(kafka_bootstrap, oracle_topic, expected=9)}
    proc = p.start()
    try:
        p.wait_committed(proc)
    finally:
        p.stop(proc)
    placed = p.query("SELECT user_id, groupUniqArray(_partition), count() FROM events "
                     "GROUP BY user_id ORDER BY user_id")
    assert placed == [[u, [expected[u]], 5] for u in sorted(expected)]
    assert len({v for v in expected.values()}) > 1  # the users really are spread out
