"""Migrations under concurrency: several `setup`s at once against one ClickHouse apply
each migration once (a claim row per lock holder, deduplicated by its insert token); a
claim whose holder died is taken over after its lease; a live one makes others wait."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest
from moosegen.runtime.migrations import LOCK_TABLE, TABLE, MigrationError, apply_migrations

from tests.e2e.chdb_http import serve_chdb

MIGRATIONS = [
    ("0001_create.sql", "CREATE TABLE IF NOT EXISTS m (id String, n Int32) ENGINE = MergeTree "
                        "ORDER BY id;\n"),
    ("0002_note.sql", "ALTER TABLE m ADD COLUMN IF NOT EXISTS note String DEFAULT 'n/a';\n"
                      "-- moosegen:statement\n"
                      "ALTER TABLE m ADD COLUMN IF NOT EXISTS tag String;\n"),
    ("0003_wider.sql", "ALTER TABLE m MODIFY COLUMN n Int64;\n"),
    # not idempotent on its own: applied twice, the table would hold two rows
    ("0004_seed.sql",
     "INSERT INTO m (id, n) SETTINGS insert_deduplicate = 0 VALUES ('seed', 1);\n"),
]


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("front")
    with serve_chdb(tmp, tmp / "chdb") as url:
        yield url


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name, sql in MIGRATIONS:
        (tmp_path / name).write_text(sql, encoding="utf-8")
    return tmp_path


def client(url: str) -> Any:
    return clickhouse_connect.get_client(dsn=url, autogenerate_session_id=False)


def run_at_once(url: str, folder: Path, database: str, n: int) -> list[Any]:
    """`n` threads, each with its own HTTP client, apply the folder at the same moment."""
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n

    def one(k: int) -> None:
        c = client(url)
        barrier.wait()
        try:
            out[k] = apply_migrations(c, folder, "m", database=database)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            out[k] = exc

    threads = [threading.Thread(target=one, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


@pytest.mark.parametrize("round_", range(4))
def test_concurrent_setups_apply_each_migration_once(front: str, folder: Path,
                                                     round_: int) -> None:
    db = f"conc{round_}"
    results = run_at_once(front, folder, db, 3)
    assert not [r for r in results if isinstance(r, Exception)], results
    names = sorted(n for r in results for n in r)
    assert names == ["0001_create", "0002_note", "0003_wider", "0004_seed"]  # once each
    c = client(front)
    recorded = c.query(f"SELECT id, count() FROM {db}.{TABLE} GROUP BY id ORDER BY id")
    assert recorded.result_rows == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert c.query(f"SELECT id, n, note, tag FROM {db}.m").result_rows == [("seed", 1, "n/a", "")]
    types = c.query(f"SELECT name, type FROM system.columns WHERE database = '{db}' "
                    "AND table = 'm' ORDER BY position").result_rows
    assert types == [("id", "String"), ("n", "Int64"), ("note", "String"), ("tag", "String")]
    # every claim was released; a later setup has nothing to do
    assert apply_migrations(c, folder, "m", database=db) == []


def test_a_dead_holders_claim_is_taken_over_after_its_lease(front: str, folder: Path) -> None:
    c = client(front)
    apply_migrations(c, folder, "other", database="lease")  # creates the tables
    c.insert(LOCK_TABLE, [["m"], [1], ["claim"], ["dead-process"]], database="lease",
             column_names=["stream", "claim", "kind", "owner"], column_oriented=True)
    with pytest.raises(MigrationError, match=r"applied by another process \(claim 1 by "
                                             r"dead-process"):
        apply_migrations(c, folder, "m", database="lease", wait_s=0.5)
    assert c.query("SELECT count() FROM lease._moosegen_migrations WHERE stream = 'm'"
                   ).result_rows == [(0,)]
    applied = apply_migrations(c, folder, "m", database="lease", lease_s=0.0, wait_s=5)
    assert len(applied) == 4
    claims = c.query(f"SELECT claim, kind, owner = 'dead-process' FROM lease.{LOCK_TABLE} "
                     "WHERE stream = 'm' AND kind != 'renew' ORDER BY claim, kind").result_rows
    assert claims == [(1, "claim", 1), (2, "claim", 0), (2, "release", 0)]
