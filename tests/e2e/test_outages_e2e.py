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

from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness as h
from tests.e2e.faults import PLAIN_SPEC, clickhouse_outage_drill, poison_drill
from tests.e2e.test_reliability_e2e import Project
from tests.e2e.test_schema_versions_e2e import (  # noqa: F401 - `project` is a fixture
    IDS,
    confluent,
    project,
    run_page_views,
    single_object,
)
from tests.e2e.test_schema_versions_e2e import record as pv_record

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_clickhouse_lost_mid_stream_then_back(tmp_path: Path, kafka_bootstrap: str) -> None:
    total, during = 50_000, 1000
    p = Project(tmp_path, kafka_bootstrap, partitions=3, batch=2000, spec=PLAIN_SPEC)
    r = clickhouse_outage_drill(p, total, during, outage_s=10.0)
    n = total + during
    print(f"\nClickHouse outage {r.outage_s:.1f}s mid-stream: {r.stored_when_lost:.0f} of "
          f"{total} rows stored when it went, {r.backoffs:.0f} back-offs, then {r.counts}")
    assert r.stored_when_lost < total
    assert r.counts == [n, n, 0]


def test_one_percent_poison_of_mixed_kinds(tmp_path: Path, kafka_bootstrap: str) -> None:
    total = 30_000
    p = Project(tmp_path, kafka_bootstrap, partitions=3, batch=5000, spec=PLAIN_SPEC)
    r = poison_drill(p, total)
    headers = [dict(m.headers()) for m in r.dead]
    sources = {(hd["x-moosegen-source-partition"], hd["x-moosegen-source-offset"])
               for hd in headers}
    print(f"\npoison 1%: {len(r.poison)} of {total} dead-lettered, {r.counts[0]} stored; "
          f"peak RSS (MiB) { {k: round(v / 1024) for k, v in r.rss_kib.items()} }")
    assert len(r.dead) == len(sources) == len(r.poison)  # each once
    assert sorted(hd["x-moosegen-error-type"].decode() for hd in headers) == sorted(r.poison)
    assert all(hd["trace"] == b"t" and hd["x-moosegen-error-message"] for hd in headers)
    good = total - len(r.poison)
    assert r.counts == [good, good, 0]
    assert r.rss_kib["service"] < 1024 * 1024  # bounded: blocks of 5000 in memory, not more


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
