# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Tombstones on a compacted topic: a key with a null value deletes that key's rows.

A compacted topic (`cleanup.policy` with `compact`) keeps the latest value
per key, and a null value says the key is gone. The service turns each tombstone into a
ClickHouse lightweight delete of the rows of that key stored *from earlier offsets of the
same partition*:

    DELETE FROM t WHERE (key columns = the tombstone's key) AND _partition = p AND _offset < o

run after its block's rows are inserted and before the block's end is committed. The
offset bound makes it exact and idempotent: a row of the same key later in the same block
(a re-creation) survives, and a replayed block (insert deduplicated, delete run again)
ends in the same state. So a destination takes deletes only when it has the lineage
columns and a column for every key field; a tombstone no destination can take, or whose
key cannot be read, is dead-lettered (error type `tombstone`), never lost. On any other
topic a null value is what it always was: an undecodable message.

The key is read as the generated Producer writes it (`avro_codec.key_bytes`): one key
field as its text, several as a JSON object of the key fields.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .chvalues import quote_identifier
from .config import ServiceConfig


@dataclass(frozen=True)
class Target:
    """A destination that takes deletes: its name and key columns (by key field)."""

    table: str
    columns: tuple[str, ...]


def compacted(config: ServiceConfig) -> bool:
    """Does the stream's topic compact (its `cleanup.policy`)?"""
    for topic in config.topics:
        if topic.name == config.topic:
            return "compact" in topic.config.get("cleanup.policy", "")
    return False


def targets(config: ServiceConfig, key_fields: Sequence[str]) -> list[Target]:
    out = []
    for d in config.destinations:
        by_field = {c.field: c.name for c in d.columns if c.field is not None}
        names = {c.name for c in d.columns}
        if key_fields and {"_partition", "_offset"} <= names and set(key_fields) <= set(by_field):
            out.append(Target(d.name, tuple(by_field[f] for f in key_fields)))
    return out


def key_values(raw: Any, key_fields: Sequence[str]) -> tuple[Any, ...]:
    """The key fields' values of a message key; raises ValueError when it cannot be read."""
    if not isinstance(raw, bytes) or not raw:
        raise ValueError("tombstone without a key")
    text = raw.decode("utf-8")
    if len(key_fields) == 1:
        return (text,)
    data = json.loads(text)
    if not isinstance(data, dict) or set(data) != set(key_fields):
        raise ValueError(f"tombstone key is not a JSON object of {', '.join(key_fields)}")
    values = tuple(data[f] for f in key_fields)
    if not all(isinstance(v, (str, int, float, bool)) for v in values):
        raise ValueError("tombstone key values must be strings or numbers")
    return values


class Tombstones:
    """Which tombstones a stream turns into deletes, and the statement that does it."""

    def __init__(self, config: ServiceConfig) -> None:
        self.key_fields: tuple[str, ...] = tuple(getattr(config.models, "KEY_FIELDS", ()))
        self.enabled = compacted(config)
        self.targets = targets(config, self.key_fields) if self.enabled else []
        self.database = config.database

    def is_tombstone(self, msg: Any) -> bool:
        return self.enabled and msg.value() is None

    def unusable(self, msg: Any) -> str | None:
        """Why this tombstone cannot become a delete (None: it can)."""
        if not self.targets:
            return "no destination has lineage columns and every key column to delete by"
        try:
            key_values(msg.key(), self.key_fields)
        except (ValueError, UnicodeDecodeError) as exc:
            return str(exc)
        return None

    def statement(self, target: Target, msgs: Sequence[Any]) -> tuple[str, dict[str, Any]]:
        """One DELETE for a block's readable tombstones (all of one partition)."""
        params: dict[str, Any] = {}
        conditions = []
        for i, m in enumerate(msgs):
            values = key_values(m.key(), self.key_fields)
            parts = []
            for j, (column, value) in enumerate(zip(target.columns, values, strict=True)):
                params[f"k{i}_{j}"] = value
                parts.append(f"{quote_identifier(column)} = %(k{i}_{j})s")
            params[f"p{i}"], params[f"o{i}"] = m.partition(), m.offset()
            parts.append(f"_partition = %(p{i})s AND _offset < %(o{i})s")
            conditions.append("(" + " AND ".join(parts) + ")")
        table = f"{quote_identifier(self.database)}.{quote_identifier(target.table)}"
        return f"DELETE FROM {table} WHERE " + " OR ".join(conditions), params
