# Copied by `moosegen build` into generated/_runtime/. DO NOT EDIT the copy.
"""Apply a stream's numbered ClickHouse migrations, once each, in order.

`generated/<stream>/migrations/NNNN_<name>.sql` holds one or more statements
separated by a line `-- moosegen:statement` (clickhouse-connect runs one
statement per command); the file is split by its SQL structure (see sqltext).
Table names in the files are unqualified: they run in `database`, where the
table `_moosegen_migrations` records what was applied.
Every statement is idempotent (IF NOT EXISTS / IF EXISTS / MODIFY to the same
type), so a run interrupted half-way is finished by running again.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from pathlib import Path
from typing import Any

from .sqltext import Piece, SqlTextError, pieces

MARKER = "-- moosegen:statement"
TABLE = "_moosegen_migrations"
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
    client: Any, folder: Path, stream: str, database: str = "default"
) -> list[str]:
    """Apply the pending migrations of `stream` from `folder`; returns the names applied.

    `client` is a clickhouse-connect client (HTTP or chdb). Refuses, before
    applying anything, when an applied migration's file changed or went missing.
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
    rows = client.query(
        f"SELECT id, name, checksum FROM {db}.{TABLE} WHERE stream = {{stream:String}} ORDER BY id",
        parameters={"stream": stream},
    ).result_rows
    applied = {int(r[0]): (str(r[1]), str(r[2])) for r in rows}
    texts = {number: path.read_text(encoding="utf-8") for number, _, path in files}
    present = {number for number, _, _ in files}
    for number, (name, digest) in sorted(applied.items()):
        if number not in present:
            raise MigrationError(f"migration {name} of {stream!r} was applied but its file is gone")
        if checksum(texts[number]) != digest:
            raise MigrationError(
                f"migration {name} of {stream!r} changed after it was applied (checksum "
                f"{digest[:12]} in {database}.{TABLE}, file has {checksum(texts[number])[:12]}); "
                "add a new migration instead of editing an applied one"
            )
    done: list[str] = []
    previous = client.database
    client.database = database
    try:
        for number, name, _ in files:
            if number in applied:
                continue
            for statement in split_statements(texts[number]):
                client.command(statement)
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
