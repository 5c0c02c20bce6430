# Copied by `moosegen build` into generated/_runtime/. DO NOT EDIT the copy.
"""Apply a stream's numbered ClickHouse migrations, once each, in order.

`generated/<stream>/migrations/NNNN_<name>.sql` holds one or more statements
separated by a line `-- moosegen:statement` (clickhouse-connect runs one
statement per command); the file is split by its SQL structure (see sqltext).
Table names in the files are unqualified: they run in `database`, where the
table `_moosegen_migrations` records what was applied.
Every statement is idempotent (IF NOT EXISTS / IF EXISTS / MODIFY to the same
type), so a run interrupted half-way is finished by running again.

Several services may run `setup` at once against one ClickHouse, which has no
transactions: a stream's migrations are applied under a lock made of claim rows in
`_moosegen_migration_locks`. Claim number g+1 is inserted with the deduplication token
`<stream>.claim.<g+1>`, so only the first insert of it is kept, and reading it back says
who won; the holder renews its claim between statements and releases it with a row of
its own. A claim neither released nor renewed for `lease_s` (its holder died) is taken
over with the next number. Ages are measured on the server's clock.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import logging
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .sqltext import Piece, SqlTextError, pieces

MARKER = "-- moosegen:statement"
TABLE = "_moosegen_migrations"
LOCK_TABLE = "_moosegen_migration_locks"
LEASE_S = 60.0  # a claim not renewed for this long is taken over (its holder died)
WAIT_S = 300.0  # how long to wait for another process's claim before giving up
log = logging.getLogger("moosegen.runtime.migrations")
FILE_RE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql\Z")
_DB_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class MigrationError(Exception):
    """A migration cannot be applied safely; nothing after it was applied."""


def split_statements(text: str) -> list[str]:
    """The statements of one migration file, comments removed, each run on its own.

    The file is read by its SQL structure: only a marker comment standing on its
    own line splits it, never one inside a literal; a `;` anywhere but at the
    end of a statement is refused, so a file never runs more statements than it
    declares.
    """
    statements: list[str] = []
    chunk: list[str] = []
    line_start = True
    for piece in _pieces(text):
        if line_start and piece.kind == "comment" and piece.text.rstrip(" \t\r") == MARKER:
            statements += _statement(chunk)
            chunk = []
        else:
            chunk.append("" if piece.kind == "comment" else piece.text)
        line_start = piece.text.endswith("\n")
    return statements + _statement(chunk)


def _pieces(text: str) -> list[Piece]:
    try:
        return pieces(text)
    except SqlTextError as exc:
        raise MigrationError(f"a migration does not scan as SQL: {exc}") from exc


def _statement(chunk: list[str]) -> list[str]:
    """The one statement of a chunk (none if it is only comments and blanks)."""
    body = "".join(chunk).strip()
    if body.endswith(";"):
        body = body[:-1].rstrip()
    if not body:
        return []
    if any(p.kind == "code" and ";" in p.text for p in pieces(body)):
        raise MigrationError(
            f"a migration chunk holds more than one statement: {body[:80]!r}; "
            f"separate statements with a line {MARKER!r}"
        )
    return [body]


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def migration_files(folder: Path) -> list[tuple[int, str, Path]]:
    found: dict[int, tuple[int, str, Path]] = {}
    for path in sorted(folder.glob("*.sql")):
        m = FILE_RE.match(path.name)
        if m is None:
            continue
        number = int(m.group(1))
        if number in found:
            raise MigrationError(f"two migrations numbered {number:04d} in {folder}")
        found[number] = (number, path.stem, path)
    return [found[n] for n in sorted(found)]


def _quote(identifier: str) -> str:
    return "`" + identifier.replace("\\", "\\\\").replace("`", "\\`") + "`"


def apply_migrations(
    client: Any,
    folder: Path,
    stream: str,
    database: str = "default",
    lease_s: float = LEASE_S,
    wait_s: float = WAIT_S,
) -> list[str]:
    """Apply the pending migrations of `stream` from `folder`; returns the names applied.

    `client` is a clickhouse-connect client (HTTP or chdb). Refuses, before
    applying anything, when an applied migration's file changed or went missing.
    Concurrent callers for one stream apply each migration once (see the module text).
    """
    if not _DB_RE.match(database):
        raise MigrationError(f"invalid database name {database!r}")
    files = migration_files(Path(folder))
    db = _quote(database)
    client.command(f"CREATE DATABASE IF NOT EXISTS {db}")
    client.command(
        f"CREATE TABLE IF NOT EXISTS {db}.{TABLE} (stream String, id UInt32, name String, "
        "checksum String, applied_at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY (stream, id)"
    )
    client.command(
        f"CREATE TABLE IF NOT EXISTS {db}.{LOCK_TABLE} (stream String, claim UInt64, "
        "kind LowCardinality(String), owner String, at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = MergeTree ORDER BY (stream, claim, kind) "
        "SETTINGS non_replicated_deduplication_window = 1000"
    )
    texts = {number: path.read_text(encoding="utf-8") for number, _, path in files}
    with _locked(_Lock(client, database, stream, lease_s), wait_s) as lock:
        applied = _applied(client, db, stream)
        _check_applied(applied, texts, stream, database)
        return _apply_pending(client, lock, files, texts, applied, stream, database)


def _applied(client: Any, db: str, stream: str) -> dict[int, tuple[str, str]]:
    rows = client.query(
        f"SELECT id, name, checksum FROM {db}.{TABLE} WHERE stream = {{stream:String}} ORDER BY id",
        parameters={"stream": stream},
    ).result_rows
    return {int(r[0]): (str(r[1]), str(r[2])) for r in rows}


def _check_applied(
    applied: dict[int, tuple[str, str]], texts: dict[int, str], stream: str, database: str
) -> None:
    for number, (name, digest) in sorted(applied.items()):
        if number not in texts:
            raise MigrationError(f"migration {name} of {stream!r} was applied but its file is gone")
        if checksum(texts[number]) != digest:
            raise MigrationError(
                f"migration {name} of {stream!r} changed after it was applied (checksum "
                f"{digest[:12]} in {database}.{TABLE}, file has {checksum(texts[number])[:12]}); "
                "add a new migration instead of editing an applied one"
            )


def _apply_pending(
    client: Any,
    lock: _Lock,
    files: list[tuple[int, str, Path]],
    texts: dict[int, str],
    applied: dict[int, tuple[str, str]],
    stream: str,
    database: str,
) -> list[str]:
    done: list[str] = []
    previous = client.database
    client.database = database
    try:
        for number, name, _ in files:
            if number in applied:
                continue
            for statement in split_statements(texts[number]):
                lock.renew()
                client.command(statement)
            lock.renew()
            client.insert(
                TABLE,
                [
                    [stream],
                    [number],
                    [name],
                    [checksum(texts[number])],
                    [_dt.datetime.now(_dt.timezone.utc)],
                ],
                column_names=["stream", "id", "name", "checksum", "applied_at"],
                column_oriented=True,
                database=database,
                settings={"async_insert": 0},
            )
            done.append(name)
    finally:
        if previous:
            client.database = previous
    return done


@dataclass
class _Lock:
    """One process's claims on the migration lock of one stream."""

    client: Any
    database: str
    stream: str
    lease_s: float
    owner: str = ""
    claim: int = 0
    renewals: int = 0
    renewed: float = 0.0  # monotonic time of the last claim or renewal

    def latest(self) -> tuple[int, str, bool, float] | None:
        """The newest claim: (number, owner, released, seconds since its last renewal)."""
        rows = self.client.query(
            f"SELECT claim, anyIf(owner, kind = 'claim'), countIf(kind = 'release') > 0, "
            f"dateDiff('millisecond', max(at), now64(3)) / 1000 "
            f"FROM {_quote(self.database)}.{LOCK_TABLE} WHERE stream = {{stream:String}} "
            "GROUP BY claim ORDER BY claim DESC LIMIT 1",
            parameters={"stream": self.stream},
        ).result_rows
        if not rows:
            return None
        number, owner, released, age = rows[0]
        return int(number), str(owner), bool(released), float(age)

    def _row(self, number: int, kind: str, token: str) -> None:
        self.client.insert(
            LOCK_TABLE,
            [[self.stream], [number], [kind], [self.owner]],
            column_names=["stream", "claim", "kind", "owner"],
            column_oriented=True,
            database=self.database,
            settings={"async_insert": 0, "insert_deduplication_token": token},
        )

    def try_claim(self) -> tuple[int, str, bool, float] | None:
        """Claim the lock if it is free or stale: None once held, else the holder's claim."""
        latest = self.latest()
        if latest is not None:
            number, holder, released, age = latest
            if not released and age <= self.lease_s:
                return latest
            if not released:
                log.warning(
                    "taking over the migration lock of %s from %s (no renewal for %.0fs)",
                    self.stream,
                    holder,
                    age,
                    extra={"event": "migration_lock_takeover"},
                )
        number = latest[0] + 1 if latest is not None else 1
        self._row(number, "claim", f"{self.stream}.claim.{number}")
        won = self.latest()
        if won is not None and won[:2] == (number, self.owner):
            self.claim, self.renewed = number, time.monotonic()
            return None
        return won or (number, "?", False, 0.0)

    def renew(self) -> None:
        """Refresh the claim (at most every lease/4); refuse to go on once taken over."""
        if time.monotonic() - self.renewed < self.lease_s / 4:
            return
        latest = self.latest()
        if latest is None or latest[0] != self.claim or latest[1] != self.owner:
            raise MigrationError(
                f"the migration lock of {self.stream!r} was taken over (claim {self.claim} "
                "not renewed within its lease); run setup again"
            )
        self.renewals += 1
        self._row(self.claim, "renew", f"{self.stream}.renew.{self.claim}.{self.renewals}")
        self.renewed = time.monotonic()

    def release(self) -> None:
        self._row(self.claim, "release", f"{self.stream}.release.{self.claim}")


@contextlib.contextmanager
def _locked(lock: _Lock, wait_s: float) -> Iterator[_Lock]:
    lock.owner = f"{uuid.uuid4()}"
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        held = lock.try_claim()
        if held is None:
            break
        if time.monotonic() > deadline:
            number, holder, _, age = held
            raise MigrationError(
                f"migrations of {lock.stream!r} are being applied by another process (claim "
                f"{number} by {holder}, renewed {age:.0f}s ago) and it did not finish "
                f"within {wait_s:.0f}s; a claim not renewed for {lock.lease_s:.0f}s is "
                "taken over"
            )
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    try:
        yield lock
    finally:
        lock.release()
