"""End-to-end faults at CI scale on the plain path (worker processes on):

- ClickHouse goes away mid-stream (its HTTP front stopped for ~10 s) and comes back: the
  service backs off, stays in its group, and stores everything exactly once afterwards;
- 1% poison of mixed kinds in a JSON stream (bad JSON, wrong types, missing fields,
  oversized, not UTF-8, not an object): 100% dead-lettered with headers, 100% of the
  valid stored once, peak RSS reported and bounded;
- the same for an Avro stream with bad framing (wrong magic, short headers, an unknown
  schema id, a truncated body).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness as h
from tests.e2e.chdb_http import ChdbFront
from tests.e2e.faults import PLAIN_SPEC, exactly_once, produce_range, record, rows_stored
from tests.e2e.test_reliability_e2e import Project, group_members
from tests.e2e.test_schema_versions_e2e import (  # noqa: F401 - `project` is a fixture
    IDS,
    confluent,
    project,
    run_page_views,
    single_object,
)
from tests.e2e.test_schema_versions_e2e import record as pv_record

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def errors(p: Project) -> float:
    return p.metric(h.http_get(p.port, "/metrics")[1], "moosegen_errors_total")


def test_clickhouse_lost_mid_stream_then_back(tmp_path: Path, kafka_bootstrap: str) -> None:
    total, during, outage_s = 50_000, 1000, 10.0
    p = Project(tmp_path, kafka_bootstrap, partitions=3, batch=2000, spec=PLAIN_SPEC)
    front = ChdbFront(tmp_path, p.chdb)
    front.start()
    produce_range(p, 0, total)
    proc = h.start(tmp_path, "--bootstrap-servers", kafka_bootstrap, "--clickhouse", front.url,
                   "--group-id", p.group, "--max-backoff", "2", "--session-timeout", "10s")
    try:
        h.wait_until(lambda: h.http_get(p.port, "/health")[0] == 200, 60, "health", proc)
        h.wait_until(lambda: rows_stored(p) >= 5000, 120, "the first rows stored", proc)
        front.stop()
        down = time.monotonic()
        at_stop = rows_stored(p)
        before = errors(p)
        produce_range(p, total, total + during, prefix="d")
        h.wait_until(lambda: errors(p) >= before + 3, 60, "three ClickHouse back-offs", proc)
        while time.monotonic() - down < outage_s:  # longer than the session timeout
            assert group_members(kafka_bootstrap, p.group) == 1
            time.sleep(1)
        assert h.http_get(p.port, "/ready")[0] == 503
        assert proc.poll() is None
        front.start()
        outage = time.monotonic() - down
        p.wait_committed(proc, timeout=180)
        assert h.http_get(p.port, "/ready")[0] == 200
        backoffs = errors(p) - before
    finally:
        p.stop(proc)
    n = total + during
    try:
        counts = exactly_once(p, n, front.url)
    finally:
        front.stop()
    print(f"\nClickHouse outage {outage:.1f}s mid-stream: {at_stop:.0f} of {total} rows "
          f"stored when it went, {backoffs:.0f} back-offs, then all {n} stored once")
    assert at_stop < total
    assert counts == [n, n, 0]


JSON_POISON = [
    ("undecodable", lambda i: b'{"id": "x", "timestamp": ' + str(i).encode()),
    ("invalid", lambda i: json.dumps({**json.loads(record(i, "p")[1]),
                                      "amount": "not a number"}).encode()),
    ("invalid", lambda i: json.dumps({"id": record(i, "p")[0].decode()}).encode()),
    ("oversized", lambda i: json.dumps({**json.loads(record(i, "p")[1]),
                                        "data": {"pad": "x" * 5000}}).encode()),
    ("undecodable", lambda i: b"\xff\xfe" + str(i).encode()),
    ("invalid", lambda i: f"[{i}]".encode()),
]


def test_one_percent_poison_of_mixed_kinds(tmp_path: Path, kafka_bootstrap: str) -> None:
    total = 30_000
    p = Project(tmp_path, kafka_bootstrap, partitions=3, batch=5000, spec=PLAIN_SPEC)
    values: list[tuple[bytes | None, bytes | None]] = []
    kinds: list[str] = []
    for i in range(total):
        if i % 100 == 37:
            kind, make = JSON_POISON[(i // 100) % len(JSON_POISON)]
            values.append((f"p{i}".encode(), make(i)))
            kinds.append(kind)
        else:
            values.append(record(i))
    poison = len(kinds)
    h.produce(kafka_bootstrap, p.topic, values, headers=[("trace", b"t")])
    proc = p.start("--max-message-bytes", "4096")
    try:
        p.wait_committed(proc, timeout=180)
        rss = h.peak_rss_kib({proc.pid, *h.descendants(proc.pid)})
    finally:
        p.stop(proc)
    dlq = h.read_topic(kafka_bootstrap, f"{p.topic}-dlq", expected=poison, timeout=60)
    headers = [dict(m.headers()) for m in dlq]
    sources = {(hd["x-moosegen-source-partition"], hd["x-moosegen-source-offset"])
               for hd in headers}
    service_mib = rss[proc.pid] / 1024
    print(f"\npoison 1%: {poison} of {total} dead-lettered, {total - poison} stored; peak RSS "
          f"service {service_mib:.0f} MiB, workers "
          f"{[round(v / 1024) for k, v in rss.items() if k != proc.pid]} MiB")
    assert len(dlq) == len(sources) == poison  # each once
    assert sorted(hd["x-moosegen-error-type"].decode() for hd in headers) == sorted(kinds)
    assert all(hd["trace"] == b"t" and hd["x-moosegen-error-message"] for hd in headers)
    good = total - poison
    assert exactly_once(p, good) == [good, good, 0]
    assert service_mib < 1024  # bounded: blocks of 5000, not the topic, in memory


def test_avro_bad_framing_is_dead_lettered(project: tuple[Path, str],  # noqa: F811
                                           kafka_bootstrap: str) -> None:
    tmp, topic = project
    good = [confluent(IDS["v2"], "v2", pv_record(n, "v2", "confluent")) if n % 2 else
            single_object("v3", pv_record(n, "v3", "single")) for n in range(1, 1001)]
    sample = good[0]
    poison = [
        b"\x07" + sample[1:],  # no known magic byte
        b"\xc3\x01\x00\x01",  # a single-object header cut short
        b"\x00\x00\x00",  # a Confluent header cut short
        b"\x00" + (4242).to_bytes(4, "big") + sample[5:],  # an id no registry answers
        sample[:7],  # a known id, the body cut short
        single_object("v3", pv_record(9, "v3", "single"))[:12],
        b"",
        b"\xc3\x01" + b"\x01" * 8 + b"\x02",  # an unknown fingerprint
        b"\x00" + IDS["v1"].to_bytes(4, "big") + b"\xff" * 3,  # garbage body
        b"\x00" + IDS["v1"].to_bytes(4, "big"),  # no body at all
    ]
    values = good[:500] + poison + good[500:]
    run_page_views(tmp, kafka_bootstrap, topic, values)
    dlq = h.read_topic(kafka_bootstrap, f"{topic}-dlq", expected=len(poison), timeout=30)
    headers: list[dict[str, Any]] = [dict(m.headers()) for m in dlq]
    sources = {(hd["x-moosegen-source-partition"], hd["x-moosegen-source-offset"])
               for hd in headers}
    assert len(dlq) == len(sources) == len(poison)  # each once
    assert sorted(m.value() or b"" for m in dlq) == sorted(poison)  # original bytes kept
    assert {hd["x-moosegen-error-type"] for hd in headers} <= {b"undecodable", b"invalid"}
    rows = h.query(tmp, tmp / "chdb", "SELECT count(), uniqExact(view_id) FROM page_views")
    assert rows == [[len(good), len(good)]]
