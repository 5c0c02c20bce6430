"""End-to-end: the Streams guide, example by example (creating-streams.md), each as a spec
run by its generated service against a real broker and chdb, with exact results.

The README's guide table maps every section of the guide to the test proving it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness as h
from tests.e2e.test_reliability_e2e import Project
from tests.e2e.test_service_e2e import event, free_port

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


class Example:
    """The example project `specs/` itself, built with per-test topic names; each stream's
    service runs on its own chdb folder (chdb locks a folder for one process)."""

    def __init__(self, tmp: Path, bootstrap: str, streams: list[str],
                 edit: dict[str, str] | None = None) -> None:
        import shutil

        import yaml

        self.tmp, self.bootstrap = tmp, bootstrap
        specs = tmp / "specs"
        shutil.copytree(h.SPECS, specs, ignore=shutil.ignore_patterns("__pycache__"))
        for name, text in (edit or {}).items():
            (specs / name).write_text(text)
        self.topics: dict[str, str] = {}
        for stream in streams:
            path = specs / f"{stream}.yaml"  # the example names each file after its stream
            spec = yaml.safe_load(path.read_text())
            topic = f"{stream.replace('_', '-')}-{uuid.uuid4().hex[:8]}"
            spec.setdefault("topic", {})["name"] = topic
            path.write_text(yaml.safe_dump(spec, sort_keys=False))
            self.topics[stream] = topic
        h.build_tree(tmp, specs)

    def chdb(self, stream: str) -> Path:
        return self.tmp / f"chdb-{stream}"

    def run(self, stream: str, messages: list[tuple[bytes | None, bytes | None]],
            partition: int | None = None) -> str:
        """setup, then run the service until every message is committed; its /metrics."""
        args = ("--bootstrap-servers", self.bootstrap, "--clickhouse",
                f"chdb://{self.chdb(stream)}")
        res = h.run_cli(self.tmp, "setup", *args, stream=stream)
        assert res.returncode == 0, res.stderr
        port = free_port()
        group = f"g-{self.topics[stream]}"
        h.produce(self.bootstrap, self.topics[stream], messages, partition=partition)
        proc = h.start(self.tmp, *args, "--metrics-port", str(port), "--group-id", group,
                       stream=stream)
        try:
            h.wait_until(lambda: h.committed_all(self.bootstrap, group, self.topics[stream]),
                         90, f"{stream}: all offsets committed", proc)
            metrics = h.http_get(port, "/metrics")[1]
        finally:
            code = h.stop(proc)
        assert code == 0, (self.tmp / "service.log").read_text()[-3000:]
        return metrics

    def query(self, stream: str, sql: str) -> list[list[Any]]:
        return h.query(self.tmp, self.chdb(stream), sql)


def jbytes(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


def test_event_sourcing_example_service(tmp_path: Path, kafka_bootstrap: str) -> None:
    """The guide's event store, `specs/domain_events.yaml`: a compacted topic kept forever,
    and a ReplacingMergeTree whose version is `sequence`: a fact sent twice (a producer
    retry) is one row after deduplication. A tombstone deletes its key's earlier rows (and
    not a re-creation after it); one whose key cannot be read is dead-lettered."""
    from confluent_kafka.admin import AdminClient, ConfigResource

    ex = Example(tmp_path, kafka_bootstrap, ["domain_events"])

    def fact(agg: str, seq: int, kind: str, payload: dict[str, Any]) -> tuple[bytes, bytes]:
        key = jbytes({"aggregate_id": agg, "sequence": seq})
        return key, jbytes({"aggregate_id": agg, "sequence": seq, "event_type": kind,
                            "occurred_at": f"2026-03-0{seq}T10:00:00.123456Z",
                            "payload": json.dumps(payload)})

    def tombstone(agg: str, seq: int) -> tuple[bytes, None]:
        return jbytes({"aggregate_id": agg, "sequence": seq}), None

    facts = [fact("cart-1", 1, "created", {}), fact("cart-1", 2, "item_added", {"sku": "A"}),
             fact("cart-2", 1, "created", {}), fact("cart-1", 2, "item_added", {"sku": "A"}),
             fact("cart-1", 3, "checked_out", {"total": "12.50"}),
             fact("cart-3", 1, "created", {}), tombstone("cart-3", 1),  # deleted
             tombstone("cart-1", 3), fact("cart-1", 3, "checked_out", {"total": "9.99"}),
             (b"not a key of the store", None)]  # unreadable: dead-lettered
    # one partition: the tombstones' offsets order them among the facts
    metrics = ex.run("domain_events", facts, partition=0)
    topic = ex.topics["domain_events"]
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = admin.describe_configs([resource])[resource].result(timeout=10)
    assert (configs["cleanup.policy"].value, configs["retention.ms"].value) == ("compact", "-1")
    rows = ex.query("domain_events", "SELECT aggregate_id, sequence, event_type, "
                    "toString(occurred_at), payload FROM domain_events FINAL "
                    "ORDER BY aggregate_id, sequence")
    assert rows == [
        ["cart-1", 1, "created", "2026-03-01 10:00:00.123456", "{}"],
        ["cart-1", 2, "item_added", "2026-03-02 10:00:00.123456", '{"sku": "A"}'],
        ["cart-1", 3, "checked_out", "2026-03-03 10:00:00.123456", '{"total": "9.99"}'],
        ["cart-2", 1, "created", "2026-03-01 10:00:00.123456", "{}"],
    ]
    assert samples(metrics, "moosegen_tombstone_deletes_total") == {
        '{destination="domain_events",stream="domain_events"}': 2}
    assert samples(metrics, "moosegen_errors_total") == {
        '{stage="tombstone",stream="domain_events"}': 1}
    dlq = h.read_topic(kafka_bootstrap, f"{topic}-dlq", expected=1)
    assert [(m.key(), m.value(), dict(m.headers())["x-moosegen-error-type"]) for m in dlq] == [
        (b"not a key of the store", None, b"tombstone")]
    engine = ex.query("domain_events", "SELECT engine_full FROM system.tables "
                      "WHERE name = 'domain_events'")[0][0]
    assert engine.startswith("ReplacingMergeTree(sequence)")


def test_cqrs_example_services(tmp_path: Path, kafka_bootstrap: str) -> None:
    """The guide's CQRS pair, `specs/commands.yaml` (custom sync: a delete without an
    aggregate id is not stored) and `specs/queries.yaml` (a consumer; omitted counters take
    their defaults), each run by its own service."""
    ex = Example(tmp_path, kafka_bootstrap, ["commands", "queries"])
    cmd = ids(3)
    commands = [
        {"command_id": cmd[0], "issued_at": "2026-03-01T10:00:00.001Z", "aggregate_id": "a1",
         "command": "create", "body": {"name": "cart"}, "issued_by": "ann"},
        {"command_id": cmd[1], "issued_at": "2026-03-01T10:00:01.002Z", "aggregate_id": "a1",
         "command": "update", "body": {"name": "basket"}, "issued_by": None},
        {"command_id": cmd[2], "issued_at": "2026-03-01T10:00:02.003Z", "aggregate_id": "",
         "command": "delete", "body": {}},
    ]
    ex.run("commands", [(c["command_id"].encode(), jbytes(c)) for c in commands])
    assert ex.query("commands", "SELECT toString(command_id), toString(issued_at), "
                    "aggregate_id, toString(command), body, issued_by FROM commands "
                    "ORDER BY issued_at") == [
        [cmd[0], "2026-03-01 10:00:00.001", "a1", "create", {"name": "cart"}, "ann"],
        [cmd[1], "2026-03-01 10:00:01.002", "a1", "update", {"name": "basket"}, None],
    ]
    qid = ids(2)
    # recent: the table's TTL drops queries older than 30 days
    asked = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    queries = [
        {"query_id": qid[0], "asked_at": asked, "query": "cart by id",
         "parameters": {"id": "a1"}, "duration_ms": 1500, "rows": 1},
        {"query_id": qid[1], "asked_at": asked, "query": "all carts", "parameters": {}},
    ]
    ex.run("queries", [(q["query_id"].encode(), jbytes(q)) for q in queries])
    assert ex.query("queries", "SELECT toString(query_id), query, parameters, duration_ms, "
                    "rows FROM queries ORDER BY query_id") == [
        [qid[0], "cart by id", {"id": "a1"}, 1500, 1],
        [qid[1], "all carts", {}, 0, 0],
    ]
    assert "slow query" in (tmp_path / "service.log").read_text()  # the consumer ran


V2_IN_PLACE = """\
stream: versioned_events
compatibility: BACKWARD
fields:
  id: {type: string, key: true}
  timestamp: timestamp-millis
  data: {type: map, values: string}
  version: {type: int, default: 2}
topic: {partitions: 3}
table: {order_by: [id]}
"""


def test_schema_evolution_v1_and_v2_side_by_side(tmp_path: Path, kafka_bootstrap: str) -> None:
    """The guide's versioned schemas. V2 written over V1 (data: string → map) is refused by
    `build` under BACKWARD, located, with the hint to bump `version:`, and nothing is
    written; the example's bump (versioned_events_v2.yaml) runs its own topic and table
    beside version 1."""
    refused = tmp_path / "refused"
    refused.mkdir()
    ex = Example(refused, kafka_bootstrap, [])  # the example as committed: builds
    (refused / "specs" / "versioned_events.yaml").write_text(V2_IN_PLACE)
    res = subprocess.run([sys.executable, "-m", "moosegen", "build", "specs"], cwd=refused,
                         env={**h.env(), "PYTHONPATH": str(h.ROOT / "generator")},
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1
    assert res.stderr.splitlines() == [
        "specs/versioned_events.yaml:6:3: error[TYPE_MISMATCH]: the new schema cannot read data "
        "written with version 1: reader type map cannot read writer type string (BACKWARD "
        "against v1 of versioned_events; bump `version:` for a breaking change)"]

    side = tmp_path / "side"
    side.mkdir()
    ex = Example(side, kafka_bootstrap, ["versioned_events", "versioned_events_v2"])
    assert len(set(ex.topics.values())) == 2
    v1 = [(b"e1", jbytes({"id": "e1", "timestamp": "2026-03-01T00:00:00.000Z",
                          "data": "plain text"}))]
    v2 = [(b"e2", jbytes({"id": "e2", "timestamp": "2026-03-02T00:00:00.000Z",
                          "data": {"k": "v"}, "version": 2})),
          (b"e3", jbytes({"id": "e3", "timestamp": "2026-03-03T00:00:00.000Z",
                          "data": {}}))]
    ex.run("versioned_events", v1)
    ex.run("versioned_events_v2", v2)
    assert ex.query("versioned_events", "SELECT id, data FROM versioned_events") == [
        ["e1", "plain text"]]
    assert ex.query("versioned_events_v2", "SELECT id, data, version FROM versioned_events_v2 "
                    "ORDER BY id") == [["e2", {"k": "v"}, 2], ["e3", {}, 2]]
