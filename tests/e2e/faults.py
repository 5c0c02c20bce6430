"""Fault drills shared by the end-to-end tests (CI sizes) and `bench/faults.py` (full
sizes): a plain `events` project (no hooks, so blocks go to worker processes) that is
SIGKILLed at random moments and restarted with the same static instance id.

Every record has a deterministic key and id, so "exactly once" is counted by id in SQL
(no FINAL); recovery is the time from a restart to the first rows it stores.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.e2e import harness as h
from tests.e2e.test_reliability_e2e import Project

PLAIN_SPEC = """\
stream: events
schema: events.avsc
format: json
key: [id]
topic: {{name: {topic}, partitions: {partitions}, replication_factor: {rf}}}
table: {{lineage: true}}
{hooks}
dead_letter: {{topic: {topic}-dlq, max_retries: {retries}, retry_delay: {delay}}}
batch: {{size: {batch}, timeout: {timeout}}}
monitoring: {{port: {port}}}
health_check: {{interval: 5s, timeout: 5s}}
"""

SESSION_TIMEOUT_S = 45


def record(i: int, prefix: str = "r") -> tuple[bytes, bytes]:
    """The i-th record: key and a JSON event whose id is derived from (prefix, i)."""
    rid = uuid.uuid5(uuid.NAMESPACE_OID, f"{prefix}{i}")
    value = {"id": str(rid), "timestamp": "2026-01-02T03:04:05.678Z", "user_id": f"u{i % 97}",
             "event_type": "click", "amount": "12.5000", "data": {"k": "v"}}
    return f"{prefix}{i}".encode(), json.dumps(value).encode()


def produce_range(p: Project, lo: int, hi: int, prefix: str = "r") -> None:
    for start in range(lo, hi, 50_000):  # bounded producer queues
        h.produce(p.bootstrap, p.topic, [record(i, prefix) for i in
                                         range(start, min(hi, start + 50_000))])


def rows_stored(p: Project) -> float:
    return p.metric(h.http_get(p.port, "/metrics")[1],
                    'moosegen_rows_inserted_total{destination="events"')


def exactly_once(p: Project, expected: int, chdb_url: str | None = None) -> list[Any]:
    """[rows, distinct ids, ids stored more than once] of the events table."""
    sql = ("SELECT count(), uniqExact(id), (SELECT count() FROM (SELECT id FROM events "
           "GROUP BY id HAVING count() > 1)) FROM events")
    if chdb_url is not None:
        from tests.e2e.chdb_http import http_query

        return [int(x) for x in http_query(chdb_url, sql)[0]]
    return [int(x) for x in p.query(sql)[0]]


@dataclass
class KillReport:
    """What the SIGKILL drill saw: per kill, the recovery time (restart to first rows
    stored), the seconds from the kill to the restarted instance's assignment, the
    worker processes the killed instance had and those found alive afterwards."""

    recoveries: list[float] = field(default_factory=list)
    assigned_after: list[float] = field(default_factory=list)
    workers: list[int] = field(default_factory=list)
    orphans: list[int] = field(default_factory=list)

    def summary(self) -> str:
        def stats(xs: list[float]) -> str:
            return (f"median {sorted(xs)[len(xs) // 2]:.1f}s, max {max(xs):.1f}s"
                    if xs else "n/a")

        return (f"{len(self.recoveries)} kills: recovery (restart to rows stored) "
                f"{stats(self.recoveries)} [{', '.join(f'{r:.1f}' for r in self.recoveries)}]; "
                f"kill to assignment {stats(self.assigned_after)}; worker processes per "
                f"kill {self.workers}; orphans left {sum(self.orphans)}")


def service_args(p: Project, instance: str) -> list[str]:
    return ["--bootstrap-servers", p.bootstrap, "--clickhouse", f"chdb://{p.chdb}",
            "--group-id", p.group, "--instance-id", instance,
            "--session-timeout", str(SESSION_TIMEOUT_S * 1000), "--workers", "2"]


def first_assignment(p: Project, offset: int) -> float | None:
    """The wall-clock time of the first non-empty assignment logged from byte `offset`."""
    import datetime as dt

    with open(p.tmp / "service.log", "rb") as fh:
        fh.seek(offset)
        lines = fh.read().decode("utf-8", "replace").splitlines()
    for line in lines:
        if line.startswith("{"):
            e = json.loads(line)
            if e.get("event") == "assign" and e.get("partitions"):
                return dt.datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()
    return None


def sigkill_drill(p: Project, total: int, kills: int, during: int, seed: int,
                  extra_args: tuple[str, ...] = ()) -> KillReport:
    """Produce `total` records (`during` of them while each killed instance is down), kill
    the service with SIGKILL `kills` times at random moments and restart it with the same
    instance id; returns once everything is committed (the service stopped)."""
    rng = random.Random(seed)
    instance = f"drill-{p.topic}"
    upfront = total - kills * during
    produce_range(p, 0, upfront)
    # kill points in rows stored by the incarnation, spread over its share of the backlog
    share = upfront / (kills + 1)
    report = KillReport()
    args = [*service_args(p, instance), *extra_args]
    proc = h.start(p.tmp, *args)
    produced = upfront
    try:
        h.wait_until(lambda: h.http_get(p.port, "/health")[0] == 200, 60, "health", proc)
        for _ in range(kills):
            target = rng.uniform(0.2, 0.9) * share
            h.wait_until(lambda t=target: rows_stored(p) >= t, 120, "rows stored", proc)
            kids = h.descendants(proc.pid)
            proc.kill()
            proc.wait(10)
            killed_at = time.time()
            left = h.wait_gone(kids, 10)
            h.kill_all(left)
            report.workers.append(len(kids))
            report.orphans.append(len(left))
            produce_range(p, produced, produced + during)
            produced += during
            mark = (p.tmp / "service.log").stat().st_size
            started = time.monotonic()
            proc = h.start(p.tmp, *args)
            h.wait_until(lambda: rows_stored(p) > 0, 120, "rows stored after the restart", proc)
            report.recoveries.append(time.monotonic() - started)
            assigned = first_assignment(p, mark)
            report.assigned_after.append(assigned - killed_at if assigned else float("inf"))
        p.wait_committed(proc, timeout=300)
    finally:
        kids = h.descendants(proc.pid)
        p.stop(proc)
        h.kill_all(h.wait_gone(kids, 10))
    return report

