"""Tombstones of a compacted topic (runtime/tombstones.py): which destinations take
deletes, how the key is read, the statement, and that it runs on the ClickHouse engine."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest

from moosegen.runtime.config import (
    ColumnConfig,
    DeadLetterConfig,
    DestinationConfig,
    ServiceConfig,
    TopicConfig,
)
from moosegen.runtime.tombstones import Tombstones, key_values

KEY = ("aggregate_id", "sequence")


def columns(lineage: bool) -> tuple[ColumnConfig, ...]:
    cols = [ColumnConfig("aggregate_id", "aggregate_id", "String"),
            ColumnConfig("sequence", "sequence", "Int64"),
            ColumnConfig("payload", "payload", "String")]
    if lineage:
        cols += [ColumnConfig("_partition", None, "Int32"), ColumnConfig("_offset", None, "Int64")]
    return tuple(cols)


def config(tmp: Path, policy: str, lineage: bool = True) -> ServiceConfig:
    topics = (TopicConfig("store", 3, 1, {"cleanup.policy": policy}),)
    models = types.ModuleType("models")
    models.KEY_FIELDS = KEY  # type: ignore[attr-defined]
    return ServiceConfig(stream="store", topic="store", models=models,
                         destinations=(DestinationConfig("store", columns(lineage)),
                                       DestinationConfig("slim", columns(False)[:1], False)),
                         dead_letter=DeadLetterConfig("store-dlq"), topics=topics)


class Msg:
    def __init__(self, key: bytes | None, offset: int, value: bytes | None = None) -> None:
        self._key, self._offset, self._value = key, offset, value

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset


def key(agg: str, seq: int) -> bytes:
    return json.dumps({"aggregate_id": agg, "sequence": seq}).encode()


def test_only_a_compacted_topic_turns_null_values_into_deletes(tmp_path: Path) -> None:
    assert Tombstones(config(tmp_path, "delete")).is_tombstone(Msg(b"k", 0)) is False
    t = Tombstones(config(tmp_path, "compact,delete"))
    assert t.is_tombstone(Msg(b"k", 0)) is True
    assert t.is_tombstone(Msg(b"k", 0, b"{}")) is False
    assert [(x.table, x.columns) for x in t.targets] == [("store", ("aggregate_id", "sequence"))]


def test_without_lineage_no_destination_takes_deletes(tmp_path: Path) -> None:
    t = Tombstones(config(tmp_path, "compact", lineage=False))
    assert t.targets == []
    assert t.unusable(Msg(key("a", 1), 0)) == (
        "no destination has lineage columns and every key column to delete by")


def test_key_values() -> None:
    assert key_values(b"user-1", ("user_id",)) == ("user-1",)
    assert key_values(key("a", 3), KEY) == ("a", 3)
    for raw, message in ((None, "without a key"), (b"", "without a key"),
                         (b"[1, 2]", "not a JSON object of aggregate_id, sequence"),
                         (json.dumps({"aggregate_id": "a"}).encode(), "not a JSON object"),
                         (json.dumps({"aggregate_id": [1], "sequence": 1}).encode(),
                          "strings or numbers")):
        with pytest.raises(ValueError, match=message):
            key_values(raw, KEY)


def test_statement_deletes_only_earlier_offsets_on_the_engine(tmp_path: Path) -> None:
    t = Tombstones(config(tmp_path, "compact"))
    client: Any = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path / 'chdb'}")
    client.command("CREATE TABLE store (aggregate_id String, sequence Int64, payload String, "
                   "_partition Int32, _offset Int64) ENGINE = ReplacingMergeTree(sequence) "
                   "ORDER BY (aggregate_id, sequence)")
    client.insert("store", [["a", 1, "old", 0, 0], ["b'`", 1, "x", 0, 1], ["a", 1, "new", 0, 5]],
                  column_names=["aggregate_id", "sequence", "payload", "_partition", "_offset"])
    # tombstones at offset 3 for ('a', 1) and for the quoting-hostile key ("b'`", 1)
    sql, params = t.statement(t.targets[0], [Msg(key("a", 1), 3), Msg(key("b'`", 1), 3)])
    client.command(sql, parameters=params)
    assert client.query("SELECT aggregate_id, payload, _offset FROM store ORDER BY _offset"
                        ).result_rows == [("a", "new", 5)]
