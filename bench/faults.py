"""Fault soak of the generated consumer service at full size, against a real broker and
chdb (the drills of tests/e2e/faults.py, which the end-to-end tests run at CI size).

    PYTHONPATH=generator:. python bench/faults.py [--records N] [--kills K] [--outage S]
        [--drills kills,clickhouse,poison] [--kafka HOST:PORT]

- kills: N keyed records, K SIGKILLs at random moments, each restart with the same static
  instance id (session timeout 45 s): every id exactly once (SQL count by id, no FINAL),
  the worker processes of each killed instance gone, recovery time per kill (restart to
  the first rows it stores) and kill-to-assignment time;
- clickhouse: ClickHouse (an HTTP front of the chdb folder) gone for S seconds once a
  tenth is stored: backs off, stays in its group, everything stored once afterwards;
- poison: N records, 1% poison of mixed kinds: all dead-lettered once, the valid stored
  once, peak RSS of the service and its workers.

Without --kafka a one-node broker is started with scripts/kafka (and stopped). Defaults
are the full sizes: 1,000,000 records, 20 kills, 30 s. Prints one summary line a drill.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "generator")]

from tests.e2e import faults  # noqa: E402
from tests.e2e.test_reliability_e2e import Project  # noqa: E402
from tests.kafka_fixtures import start_cluster, stop_cluster  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--outage", type=float, default=30.0)
    ap.add_argument("--drills", default="kills,clickhouse,poison")
    ap.add_argument("--kafka", help="bootstrap of a running broker (default: start one)")
    args = ap.parse_args()
    cluster = None if args.kafka else start_cluster(f"faults-{int(time.time())}", 1)
    bootstrap = args.kafka or (cluster.bootstrap if cluster else "")
    n = args.records
    ok = True
    try:
        for drill in args.drills.split(","):
            tmp = Path(tempfile.mkdtemp(prefix=f"faults-{drill}-"))
            started = time.monotonic()
            try:
                ok &= run(drill, tmp, bootstrap, n, args)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            print(f"  ({drill}: {time.monotonic() - started:.0f}s)", flush=True)
    finally:
        if cluster is not None:
            stop_cluster(cluster)
    return 0 if ok else 1


def run(drill: str, tmp: Path, bootstrap: str, n: int, args: argparse.Namespace) -> bool:
    if drill == "kills":
        p = Project(tmp, bootstrap, partitions=6, batch=10_000, spec=faults.PLAIN_SPEC)
        report = faults.sigkill_drill(p, n, args.kills, seed=1)
        counts = faults.exactly_once(p, n)
        good = counts == [n, n, 0] and sum(report.orphans) == 0
        print(f"kills, {n} records: {report.summary()}; rows/ids/duplicated ids {counts}"
              f" -> {'OK' if good else 'FAILED'}", flush=True)
        return good
    if drill == "clickhouse":
        p = Project(tmp, bootstrap, partitions=6, batch=10_000, spec=faults.PLAIN_SPEC)
        during = max(1000, n // 100)
        r = faults.clickhouse_outage_drill(p, n, during, args.outage)
        good = r.counts == [n + during, n + during, 0]
        print(f"clickhouse outage {r.outage_s:.0f}s after {r.stored_when_lost:.0f} of {n} rows: "
              f"{r.backoffs:.0f} back-offs, one group member throughout; rows/ids/duplicated "
              f"ids {r.counts} -> {'OK' if good else 'FAILED'}", flush=True)
        return good
    if drill == "poison":
        p = Project(tmp, bootstrap, partitions=6, batch=10_000, spec=faults.PLAIN_SPEC)
        r = faults.poison_drill(p, n)
        sources = {(dict(m.headers())["x-moosegen-source-partition"],
                    dict(m.headers())["x-moosegen-source-offset"]) for m in r.dead}
        good_n = n - len(r.poison)
        good = len(r.dead) == len(sources) == len(r.poison) and r.counts == [good_n, good_n, 0]
        rss = ", ".join(f"{k} {v / 1024:.0f}" for k, v in r.rss_kib.items())
        print(f"poison 1% of {n}: {len(r.dead)} of {len(r.poison)} dead-lettered, rows/ids/"
              f"duplicated ids {r.counts}; peak RSS MiB: {rss} -> {'OK' if good else 'FAILED'}",
              flush=True)
        return good
    raise SystemExit(f"unknown drill {drill!r}")


if __name__ == "__main__":
    raise SystemExit(main())
