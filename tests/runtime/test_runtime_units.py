"""Unit tests of runtime pieces, used directly (no broker, no ClickHouse)."""

from __future__ import annotations

import datetime as dt
import json
import types
import uuid
from typing import Any

import pytest
from moosegen.runtime.batching import Batcher
from moosegen.runtime.columns import ColumnBuilder, RowSource
from moosegen.runtime.config import ColumnConfig, DeadLetterConfig, DestinationConfig, ServiceConfig
from moosegen.runtime.deadletter import decide, headers_for
from moosegen.runtime.errors import is_data_error
from moosegen.runtime.hooks import HookError, resolve
from moosegen.runtime.pipeline import Failure, Pipeline
from moosegen.runtime.planning import Block, decode_plan, encode_plan

from tests.runtime import events_models


class Msg:
    def __init__(self, offset: int, value: Any = b"", partition: int = 0) -> None:
        self._o, self._v, self._p = offset, value, partition

    def offset(self) -> int:
        return self._o

    def partition(self) -> int:
        return self._p

    def value(self) -> Any:
        return self._v

    def key(self) -> bytes:
        return b"k"

    def topic(self) -> str:
        return "events"

    def headers(self) -> list[tuple[str, bytes]]:
        return [("trace", b"t1")]

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_700_000_000_000)


def test_plan_round_trip_and_token() -> None:
    assert decode_plan(encode_plan(120), 100) == 120
    assert decode_plan("", 100) is None
    assert decode_plan("not json", 100) is None
    assert decode_plan(encode_plan(100), 100) is None  # nothing pending
    b = Block("events", 2, 100, 120)
    assert b.token("events") == "moosegen:events:2:100-120:events"
    assert decode_plan(b.plan_metadata, 100) == 120


def test_batcher_reforms_pending_block_exactly() -> None:
    batcher = Batcher("events")
    batcher.assign(0, (10, 15))
    batcher.assign(1, None)
    batcher.add([Msg(o, partition=0) for o in range(10, 13)] + [Msg(5, partition=1)])
    blocks = batcher.cut()
    assert [(b.partition, b.start, b.end) for b, _ in blocks] == [(1, 5, 6)]  # 0 incomplete
    batcher.add([Msg(o, partition=0) for o in range(13, 18)])
    blocks = batcher.cut()
    assert [(b.partition, b.start, b.end) for b, _ in blocks] == [(0, 10, 15)]
    assert len(blocks[0][1]) == 5
    blocks = batcher.cut()
    assert [(b.start, b.end) for b, _ in blocks] == [(15, 18)]


def test_batcher_position_completes_block_with_gaps() -> None:
    batcher = Batcher("events")
    batcher.assign(0, (0, 10))
    batcher.add([Msg(0), Msg(3)])
    assert batcher.cut({0: 5}) == []
    assert [(b.start, b.end) for b, _ in batcher.cut({0: 10})] == [(0, 10)]


def test_dlq_headers() -> None:
    f = Failure(Msg(7, b"raw"), ValueError("bad"), "decode", False)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    headers = dict(headers_for(f, 1, now))
    assert headers["trace"] == b"t1"
    assert headers["x-moosegen-error-type"] == b"undecodable"
    assert headers["x-moosegen-error-message"] == b"ValueError: bad"
    assert headers["x-moosegen-source-topic"] == b"events"
    assert headers["x-moosegen-source-partition"] == b"0"
    assert headers["x-moosegen-source-offset"] == b"7"
    assert headers["x-moosegen-attempts"] == b"1"
    assert headers["x-moosegen-failed-at"] == b"2026-01-01T00:00:00.000Z"


def test_retry_policy_and_handler_choices() -> None:
    hook = Failure(Msg(1), RuntimeError("x"), "transform", True)
    bad = Failure(Msg(1), ValueError("x"), "decode", False)
    assert decide(hook, 1, 3, None) == "retry"
    assert decide(hook, 4, 3, None) == "dead_letter"
    assert decide(bad, 1, 3, None) == "dead_letter"
    assert decide(bad, 1, 3, lambda e, r, c: "retry") == "dead_letter"  # never for bad bytes
    assert decide(hook, 1, 3, lambda e, r, c: "drop") == "drop"
    assert decide(hook, 1, 3, lambda e, r, c: "dead_letter") == "dead_letter"
    assert decide(hook, 1, 3, lambda e, r, c: "nonsense") == "retry"

    def broken(e: Any, r: Any, c: Any) -> str:
        raise RuntimeError("handler bug")
    assert decide(hook, 1, 3, broken) == "retry"


def test_column_builder_defaults_and_lineage() -> None:
    builder = ColumnBuilder([ColumnConfig("a", "a", "String"),
                             ColumnConfig("kind", "kind", "Enum8('x' = 1, 'y' = 2)", "x"),
                             ColumnConfig("m", "m", "Map(String, String)", {}),
                             ColumnConfig("_offset", None, "Int64"),
                             ColumnConfig("_topic", None, "String")])
    cols = builder.build([{"a": "1", "kind": "y", "m": {"k": "v"}}, {"a": "2"}],
                         [RowSource("t", 0, 5, 0), RowSource("t", 0, 6, 0)])
    assert cols == [["1", "2"], ["y", "x"], [{"k": "v"}, {}], [5, 6], ["t", "t"]]


def test_data_error_classification() -> None:
    assert is_data_error(ValueError("x"))
    assert is_data_error(Exception("Code: 6. DB::Exception: Cannot parse"))
    assert not is_data_error(Exception("Code: 252. DB::Exception: Too many parts"))


def test_hook_resolution_errors() -> None:
    assert resolve("json:dumps", "transform") is json.dumps
    with pytest.raises(HookError, match="cannot import module"):
        resolve("no_such_module_xyz:f", "transform")
    with pytest.raises(HookError, match="has no attribute"):
        resolve("json:nope", "transform")


def _pipeline(**kw: Any) -> Pipeline:
    dest = DestinationConfig("events", (ColumnConfig("id", "id", "UUID"),))
    cfg = ServiceConfig(stream="events", topic="events", models=events_models,
                        destinations=(dest,), dead_letter=DeadLetterConfig("dlq"), **kw)
    return Pipeline(cfg)


def _event(**kw: Any) -> bytes:
    return json.dumps({"id": str(uuid.uuid4()), "timestamp": "2026-01-01T00:00:00Z",
                       "user_id": "u", **kw}).encode()


def test_batch_validation_falls_back_per_message() -> None:
    p = _pipeline()
    assert p.plain
    msgs = [Msg(0, _event()), Msg(1, b"{oops"), Msg(2, _event(event_type="nope")),
            Msg(3, _event() + b"," + _event()), Msg(4, None), Msg(5, _event())]
    items, failures = p.decode(msgs)
    assert [i.msg.offset() for i in items] == [0, 5]
    assert {f.msg.offset(): f.stage for f in failures} == {
        1: "decode", 2: "validate", 3: "decode", 4: "decode"}
    items, failures = p.decode([Msg(0, _event()), Msg(1, _event())])
    assert len(items) == 2 and not failures


def test_confluent_framed_json_is_decoded_in_the_batch() -> None:
    known = 7  # the one registered version of this stand-in module
    models = types.ModuleType("framed_models")
    models.__dict__.update({**vars(events_models), "WRITER_SCHEMAS": {known: "{}"}})
    dest = DestinationConfig("events", (ColumnConfig("id", "id", "UUID"),))
    p = Pipeline(ServiceConfig(stream="events", topic="events", models=models,
                               destinations=(dest,), dead_letter=DeadLetterConfig("dlq")))

    def framed(schema_id: int, body: bytes) -> bytes:
        return b"\x00" + schema_id.to_bytes(4, "big") + body

    msgs = [Msg(0, framed(known, _event())), Msg(1, _event()), Msg(2, framed(known + 99, _event())),
            Msg(3, b"\x00\x00"), Msg(4, framed(known, b"{oops"))]
    items, failures = p.decode(msgs)
    assert [i.msg.offset() for i in items] == [0, 1]
    assert {f.msg.offset(): f.stage for f in failures} == {2: "decode", 3: "decode", 4: "decode"}
    assert "schema id" in str(next(f.error for f in failures if f.msg.offset() == 2))
    items, failures = p.decode([Msg(0, framed(known, _event())), Msg(1, framed(known, _event()))])
    assert len(items) == 2 and not failures  # the whole block at once
