"""End-to-end: the broker stops mid-stream and comes back; the service never exits,
every record arrives exactly once and every poison message is dead-lettered exactly once
(the DLQ producer lives through the outage too). Uses the session's own broker (restarted in place),
so it skips when the broker is an external one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e import harness as h
from tests.e2e.test_reliability_e2e import Project, event
from tests.kafka_fixtures import KafkaCluster

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_broker_outage_mid_stream(tmp_path: Path, kafka_cluster: KafkaCluster) -> None:
    if not kafka_cluster.managed:
        pytest.skip("needs a broker this session started (it is stopped and started again)")
    bootstrap = kafka_cluster.bootstrap
    p = Project(tmp_path, bootstrap, partitions=3)
    total, poison = 30_000, 300  # every 100th record is not JSON
    h.produce(bootstrap, p.topic, [(f"k{i}".encode(), b"{bad %d" % i if i % 100 == 50
                                    else event(f"u{i}")) for i in range(total)])
    proc = p.start("--batch-size", "1000", "--max-backoff", "2")
    outage = at_stop = 0.0
    try:
        def storing() -> bool:
            return p.metric(h.http_get(p.port, "/metrics")[1], "moosegen_rows_inserted_total") > 0
        h.wait_until(storing, 60, "the first rows stored", proc)
        text = h.http_get(p.port, "/metrics")[1]
        at_stop = p.metric(text, 'moosegen_rows_inserted_total{destination="events"')
        started = time.monotonic()
        kafka_cluster.stop_node(1)  # mid-stream: most records are not stored yet
        time.sleep(3)
        assert proc.poll() is None, "the service exited while the broker was down"
        assert h.http_get(p.port, "/health")[0] == 200
        kafka_cluster.start_node(1)
        outage = time.monotonic() - started
        more = [(f"m{i}".encode(), event(f"m{i}")) for i in range(1000)]
        h.produce(bootstrap, p.topic, more)
        p.wait_committed(proc, timeout=120)
        assert proc.poll() is None
    finally:
        p.stop(proc)
    print(f"\nbroker outage: {outage:.1f}s down (stop + restart); {at_stop:.0f} of {total} "
          "rows stored when it stopped")
    assert at_stop < total  # the outage did hit mid-stream
    rows = p.query("SELECT count(), uniqExact(id), uniqExact(_partition, _offset) FROM events")
    assert rows == [[total - poison + 1000] * 3]
    dlq = h.read_topic(bootstrap, f"{p.topic}-dlq", expected=poison, timeout=60)
    assert sorted(m.value() for m in dlq) == sorted(b"{bad %d" % i for i in range(50, total, 100))
