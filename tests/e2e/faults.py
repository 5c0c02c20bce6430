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


def sigkill_drill(p: Project, total: int, kills: int, seed: int,
                  extra_args: tuple[str, ...] = ()) -> KillReport:
    """Kill the service with SIGKILL `kills` times at random moments while it consumes and
    restart it with the same instance id; returns once all `total` records are committed
    (the service stopped).

    The records come in `kills + 1` equal shares: one before the first start, one while
    each killed instance is down. So every incarnation finds at least a share waiting, and
    its kill point (rows it stored, drawn below a share) is always reached while it
    consumes: a fast incarnation that finished the backlog before it could be killed would
    leave the next one nothing to store, and the drill would wait for rows that never come.
    """
    rng = random.Random(seed)
    instance = f"drill-{p.topic}"
    share = total // (kills + 1)
    bounds = [k * share for k in range(kills + 1)] + [total]
    produce_range(p, bounds[0], bounds[1])
    report = KillReport()
    args = [*service_args(p, instance), *extra_args]
    proc = h.start(p.tmp, *args)
    try:
        h.wait_until(lambda: h.http_get(p.port, "/health")[0] == 200, 60, "health", proc)
        for k in range(kills):
            target = rng.uniform(0.1, 0.9) * share
            h.wait_until(lambda t=target: rows_stored(p) >= t, 120, "rows stored", proc,
                         poll=0.02)
            kids = h.descendants(proc.pid)
            proc.kill()
            proc.wait(10)
            killed_at = time.time()
            left = h.wait_gone(kids, 10)
            h.kill_all(left)
            report.workers.append(len(kids))
            report.orphans.append(len(left))
            produce_range(p, bounds[k + 1], bounds[k + 2])
            mark = (p.tmp / "service.log").stat().st_size
            started = time.monotonic()
            proc = h.start(p.tmp, *args)
            h.wait_until(lambda: rows_stored(p) > 0, 120, "rows stored after the restart", proc,
                         poll=0.02)
            report.recoveries.append(time.monotonic() - started)
            assigned = first_assignment(p, mark)
            report.assigned_after.append(assigned - killed_at if assigned else float("inf"))
        p.wait_committed(proc, timeout=300)
    finally:
        kids = h.descendants(proc.pid)
        p.stop(proc)
        h.kill_all(h.wait_gone(kids, 10))
    return report


def errors(p: Project) -> float:
    return p.metric(h.http_get(p.port, "/metrics")[1], "moosegen_errors_total")


@dataclass
class OutageReport:
    outage_s: float
    stored_when_lost: float
    backoffs: float
    counts: list[int]  # exactly_once() afterwards


def clickhouse_outage_drill(p: Project, total: int, during: int, outage_s: float) -> OutageReport:
    """ClickHouse (an HTTP front of the project's chdb folder) goes away once `total / 10`
    rows are stored and comes back after `outage_s`; `during` more records arrive
    meanwhile. The service must stay up and in its group (one member) throughout."""
    from tests.e2e.chdb_http import ChdbFront
    from tests.e2e.test_reliability_e2e import group_members

    front = ChdbFront(p.tmp, p.chdb)
    front.start()
    produce_range(p, 0, total)
    proc = h.start(p.tmp, "--bootstrap-servers", p.bootstrap, "--clickhouse", front.url,
                   "--group-id", p.group, "--max-backoff", "2", "--session-timeout", "10s")
    try:
        h.wait_until(lambda: h.http_get(p.port, "/health")[0] == 200, 60, "health", proc)
        h.wait_until(lambda: rows_stored(p) >= total / 10, 300, "the first rows stored", proc)
        front.stop()
        down = time.monotonic()
        at_stop = rows_stored(p)
        before = errors(p)
        produce_range(p, total, total + during, prefix="d")
        h.wait_until(lambda: errors(p) >= before + 3, 60, "three ClickHouse back-offs", proc)
        while time.monotonic() - down < outage_s:  # longer than the session timeout
            assert group_members(p.bootstrap, p.group) == 1, "left its group"
            time.sleep(1)
        assert h.http_get(p.port, "/ready")[0] == 503
        assert proc.poll() is None
        front.start()
        outage = time.monotonic() - down
        p.wait_committed(proc, timeout=600)
        assert h.http_get(p.port, "/ready")[0] == 200
        backoffs = errors(p) - before
    finally:
        p.stop(proc)
    try:
        counts = exactly_once(p, total + during, front.url)
    finally:
        front.stop()
    return OutageReport(outage, at_stop, backoffs, counts)


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


@dataclass
class PoisonReport:
    poison: list[str]  # the error type expected of each poison message
    dead: list[Any]  # the dead-letter messages read back
    counts: list[int]  # exactly_once() of the valid records
    rss_kib: dict[str, int]  # peak RSS: 'service' and each worker


def poison_drill(p: Project, total: int) -> PoisonReport:
    """`total` records, 1 in 100 poison of the JSON_POISON kinds in turn (with a header
    the dead letter must keep), consumed with --max-message-bytes 4096."""
    values: list[tuple[bytes | None, bytes | None]] = []
    kinds: list[str] = []
    for i in range(total):
        if i % 100 == 37:
            kind, make = JSON_POISON[(i // 100) % len(JSON_POISON)]
            values.append((f"p{i}".encode(), make(i)))
            kinds.append(kind)
        else:
            values.append(record(i))
    for lo in range(0, total, 50_000):
        h.produce(p.bootstrap, p.topic, values[lo:lo + 50_000], headers=[("trace", b"t")])
    del values
    proc = p.start("--max-message-bytes", "4096")
    try:
        p.wait_committed(proc, timeout=1800)
        workers = h.descendants(proc.pid)
        rss = h.peak_rss_kib({proc.pid, *workers})
    finally:
        p.stop(proc)
    dead = h.read_topic(p.bootstrap, f"{p.topic}-dlq", expected=len(kinds), timeout=120)
    good = total - len(kinds)
    named = {"service": rss.get(proc.pid, 0),
             **{f"child {pid}": kib for pid, kib in rss.items() if pid != proc.pid}}
    return PoisonReport(kinds, dead, exactly_once(p, good), named)
