"""End-to-end faults of a Kafka cluster and of the service itself:

- a three-node cluster (replication factor 3) loses one node mid-stream, the group's
  coordinator when it can be found, and gets it back;
- two instances share a group on a six-partition topic and one is killed (SIGKILL) mid-stream.

Every record ends up stored exactly once (lineage columns: unique (partition, offset))."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness as h
from tests.e2e.test_reliability_e2e import SPEC, Project
from tests.e2e.test_service_e2e import event
from tests.kafka_fixtures import KafkaCluster

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def coordinator(bootstrap: str, group: str) -> int | None:
    """The node id of the group's coordinator, or None when it cannot be told now."""
    from confluent_kafka.admin import AdminClient

    try:
        admin = AdminClient({"bootstrap.servers": bootstrap})
        desc = admin.describe_consumer_groups([group])[group].result(timeout=10)
        return int(desc.coordinator.id)
    except Exception:  # noqa: BLE001 - any node will do then
        return None


def topic_setting(bootstrap: str, topic: str, name: str) -> str:
    from confluent_kafka.admin import AdminClient, ConfigResource

    admin = AdminClient({"bootstrap.servers": bootstrap})
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = admin.describe_configs([res])[res].result(timeout=10)
    return str(configs[name].value)


def rows_inserted(p: Project) -> float:
    return p.metric(h.http_get(p.port, "/metrics")[1],
                    'moosegen_rows_inserted_total{destination="events"')


def test_three_node_cluster_loses_a_node_mid_stream(tmp_path: Path,
                                                    kafka_cluster3: KafkaCluster) -> None:
    """Replication factor 3, min.insync.replicas 2 (the source and the dead-letter topic):
    one node (the group coordinator if known) stops mid-stream and comes back; the service
    never exits, records produced during the outage arrive too, every record is stored
    exactly once and every poison message (1 in 100) is dead-lettered exactly once."""
    bootstrap = kafka_cluster3.bootstrap
    spec = SPEC.replace("replication_factor: {rf}}}",
                        'replication_factor: {rf}, config: {{min.insync.replicas: "2"}}}}')
    p = Project(tmp_path, bootstrap, partitions=3, rf=3, spec=spec)
    assert topic_setting(bootstrap, f"{p.topic}-dlq", "min.insync.replicas") == "2"
    total, during, after = 20_000, 500, 500
    poison = [b"{bad %d" % i for i in range(50, total, 100)]
    h.produce(bootstrap, p.topic, [(f"k{i}".encode(), b"{bad %d" % i if i % 100 == 50
                                    else event(f"u{i}")) for i in range(total)])
    proc = p.start("--batch-size", "1000", "--max-backoff", "2")
    try:
        h.wait_until(lambda: rows_inserted(p) > 0, 60, "the first rows stored", proc)
        at_stop = rows_inserted(p)
        node = coordinator(bootstrap, p.group) or 2
        started = time.monotonic()
        kafka_cluster3.stop_node(node)
        h.produce(bootstrap, p.topic, [(f"d{i}".encode(), event(f"d{i}")) for i in range(during)])
        time.sleep(2)
        assert proc.poll() is None, "the service exited while a node was down"
        kafka_cluster3.start_node(node)
        outage = time.monotonic() - started
        h.produce(bootstrap, p.topic, [(f"a{i}".encode(), event(f"a{i}")) for i in range(after)])
        p.wait_committed(proc, timeout=90)
        assert proc.poll() is None
    finally:
        p.stop(proc)
    print(f"\ncluster fault: node {node} down {outage:.1f}s; {at_stop:.0f} of {total} rows "
          "stored when it stopped")
    assert at_stop < total  # the fault did hit mid-stream
    n = total - len(poison) + during + after
    rows = p.query("SELECT count(), uniqExact(id), uniqExact(_partition, _offset) FROM events")
    assert rows == [[n, n, n]]
    dlq = h.read_topic(bootstrap, f"{p.topic}-dlq", expected=len(poison), timeout=60)
    assert sorted(m.value() for m in dlq) == sorted(poison)


def test_sigkill_one_of_two_instances_mid_stream(tmp_path: Path, kafka_bootstrap: str) -> None:
    """Two instances in one group on six partitions, both storing through one ClickHouse
    (an HTTP front of one chdb folder). Instance A's consumer hook is slow (2 ms a record), so
    its blocks wait stored with only their plan committed; A is SIGKILLed mid-stream; B takes
    over A's partitions after the session timeout, re-forms the planned blocks from the
    committed metadata (their inserts are deduplicated), and every record is stored exactly
    once."""
    from tests.e2e.chdb_http import http_query, serve_chdb
    from tests.e2e.test_service_e2e import free_port

    p = Project(tmp_path, kafka_bootstrap, partitions=6,
                hooks="consumers: [e2e_hooks:slow_consumer]")
    second = Project.__new__(Project)  # the same project; B gets its own metrics port
    second.__dict__.update(p.__dict__)
    second.port = free_port()
    total = 30_000
    h.produce(kafka_bootstrap, p.topic, [(f"k{i}".encode(), event(f"u{i}")) for i in range(total)])
    with serve_chdb(tmp_path, p.chdb) as url:
        a = h.start(tmp_path, "--bootstrap-servers", kafka_bootstrap, "--clickhouse", url,
                    "--group-id", p.group, "--batch-size", "500",
                    extra={"E2E_CONSUMER_SLEEP": "0.002"})
        b: Any = None
        try:
            h.wait_until(lambda: h.http_get(p.port, "/health")[0] == 200, 60, "A healthy", a)
            b = start_second(second, url)
            h.wait_until(lambda: rows_inserted(p) >= 1000 and rows_inserted(second) > 0, 60,
                         "both instances storing", a)
            killed_at = rows_inserted(p)
            mark = (tmp_path / "service.log").stat().st_size
            a.kill()  # SIGKILL: no commit, no leave; its partitions move after the timeout
            a.wait(10)
            h.produce(kafka_bootstrap, p.topic,
                      [(f"m{i}".encode(), event(f"m{i}")) for i in range(1000)])
            second.wait_committed(b, timeout=120)
            replans = [e for e in log_events(tmp_path, mark) if e.get("event") == "replan"]
            assert b.poll() is None
        finally:
            if a.poll() is None:
                a.kill()
                a.wait(10)
            if b is not None:
                p.stop(b)
        n = total + 1000
        rows = http_query(url, "SELECT count(), uniqExact(id), uniqExact(_partition, _offset) "
                          "FROM events")
        analytics = http_query(url, "SELECT count(), uniqExact(id) FROM analytics_events")
    print(f"\nSIGKILL: {killed_at:.0f} rows stored by A when killed; B re-formed "
          f"{len(replans)} planned blocks")
    assert len(replans) >= 1  # A died with a block stored but its end not committed
    assert rows == [[n, n, n]]
    assert analytics == [[n, n]]


def start_second(p: Project, url: str) -> Any:
    proc = h.start(p.tmp, "--bootstrap-servers", p.bootstrap, "--clickhouse", url,
                   "--group-id", p.group, "--batch-size", "500",
                   extra={"MOOSEGEN_METRICS_PORT": str(p.port)})
    h.wait_until(lambda: h.http_get(p.port, "/health")[0] == 200, 60, "health", proc)
    return proc


def log_events(tmp: Path, offset: int = 0) -> list[dict[str, Any]]:
    """The JSON lines the services logged (both append to one file) from byte `offset` on."""
    import json

    with open(tmp / "service.log", "rb") as fh:
        fh.seek(offset)
        text = fh.read().decode("utf-8", "replace")
    return [json.loads(x) for x in text.splitlines() if x.startswith("{")]


def test_one_of_two_instances_stopped_and_restarted_repeatedly(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    """Two instances in one group (plain path, worker processes on) store through one
    ClickHouse; B is stopped (SIGTERM) and started again three times while records keep
    arriving; each stop leaves no worker process behind, and every record is stored once."""
    from tests.e2e.chdb_http import serve_chdb
    from tests.e2e.faults import PLAIN_SPEC, exactly_once, produce_range, rows_stored
    from tests.e2e.test_service_e2e import free_port

    p = Project(tmp_path, kafka_bootstrap, partitions=6, batch=2000, spec=PLAIN_SPEC)
    second = Project.__new__(Project)
    second.__dict__.update(p.__dict__)
    second.port = free_port()
    cycles, trickle = 3, 500
    produced = 30_000
    produce_range(p, 0, produced)
    with serve_chdb(tmp_path, p.chdb) as url:
        a = h.start(tmp_path, "--bootstrap-servers", kafka_bootstrap, "--clickhouse", url,
                    "--group-id", p.group, "--batch-size", "2000")
        b: Any = None
        leftovers: list[int] = []
        try:
            h.wait_until(lambda: h.http_get(p.port, "/health")[0] == 200, 60, "A healthy", a)
            for _ in range(cycles):
                b = start_second(second, url)
                deadline = time.monotonic() + 90
                while rows_stored(second) == 0:  # records keep coming until B stores some
                    assert time.monotonic() < deadline and b.poll() is None, "B never stored"
                    produce_range(p, produced, produced + trickle)
                    produced += trickle
                    time.sleep(1)
                kids = h.descendants(b.pid)
                p.stop(b)
                left = h.wait_gone(kids, 10)
                h.kill_all(left)
                leftovers.append(len(left))
            p.wait_committed(a, timeout=180)
            assert a.poll() is None
        finally:
            if b is not None and b.poll() is None:
                p.stop(b)
            p.stop(a)
        counts = exactly_once(p, produced, url)
    print(f"\ntwo instances, B stopped and restarted {cycles} times: {produced} records")
    assert leftovers == [0] * cycles
    assert counts == [produced, produced, 0]
