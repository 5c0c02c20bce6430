"""Whole-column conversions give what the per-value converters give, and fail alike."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any

import pytest
from moosegen.runtime.chvalues import column_converter, column_values_converter
from moosegen.runtime.columns import ColumnBuilder, Lineage, RowSource
from moosegen.runtime.config import ColumnConfig

D = decimal.Decimal
UTC = dt.timezone.utc


class Kind(str, enum.Enum):
    a = "a"
    b_ = "b"  # a member whose name is not its symbol


class Plain(enum.Enum):
    a = "a"


CASES: list[tuple[str, list[Any]]] = [
    ("Int32", [1, -(2**31), 2**31 - 1]),
    ("Int32", [1, 2**31]),
    ("Int8", [1, True]),
    ("UInt64", [0, 2**64 - 1]),
    ("Nullable(Int16)", [None, 3, None]),
    ("Enum8('a' = 1, 'b' = 2)", ["a", Kind.b_, Kind.a, Plain.a]),
    ("Enum8('a' = 1, 'b' = 2)", ["a", "c"]),
    ("Nullable(Enum8('a' = 1, 'b' = 2))", [None, Kind.b_]),
    ("DateTime64(3, 'UTC')", [dt.datetime(2026, 1, 2, 3, 4, 5, 678999, UTC)]),
    ("DateTime64(6)", [dt.datetime(1969, 12, 31, 23, 59, 59, 1, UTC)]),
    ("DateTime64(3)", [dt.datetime(2026, 1, 2), 5]),  # naive and int ticks: per value
    ("DateTime64(0)", [dt.datetime(2026, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=5)))]),
    ("UUID", [uuid.UUID(int=5), "00000000-0000-0000-0000-000000000001"]),
    ("Decimal(18, 4)", [D("1.2500"), D("-0"), D("99999999999999.9999")]),
    ("Decimal(18, 4)", [D("1.23456")]),
    ("Decimal(18, 4)", [D("100000000000000")]),
    ("Decimal(18, 4)", [D("NaN")]),
    ("Decimal(9, 2)", [D("1.20000"), 3, "4.5"]),
    ("Nullable(Decimal(9, 2))", [None, D("1.1")]),
    ("Map(String, String)", [{"k": "v"}, {}]),
    ("Map(String, Int8)", [{"k": 300}]),
    ("Array(String)", [["a"], ("b",)]),
    ("String", ["x"]),
]


def _outcome(fn: Any, values: list[Any]) -> Any:
    try:
        return ("ok", fn(values))
    except (TypeError, ValueError, ArithmeticError, KeyError) as exc:
        return ("error", type(exc).__name__)


@pytest.mark.parametrize(("ch_type", "values"), CASES)
def test_column_matches_per_value(ch_type: str, values: list[Any]) -> None:
    one = column_converter(ch_type)
    column = column_values_converter(ch_type)
    if one is None:
        assert column is None
        return
    assert column is not None
    expected = _outcome(lambda vs: [None if v is None else one(v) for v in vs], values)
    got = _outcome(column, list(values))
    if expected[0] == "ok" and got[0] == "ok" and ch_type.startswith(("Decimal", "Nullable(Dec")):
        # The same number; clickhouse-connect scales either to the same integer.
        assert [None if v is None else D(v) for v in expected[1]] == got[1]
    else:
        assert got == expected


def test_builder_lineage_and_defaults() -> None:
    cols = [
        ColumnConfig("a", "a", "Enum8('a' = 1, 'b' = 2)", "a"),
        ColumnConfig("m", "m", "Map(String, String)", {}),
        ColumnConfig("_timestamp", None, "DateTime64(3, 'UTC')"),
        ColumnConfig("_offset", None, "Int64"),
    ]
    builder = ColumnBuilder(cols)
    rows: list[dict[str, Any]] = [{"a": Kind.b_, "m": {"x": "y"}}, {}]
    sources = [RowSource("t", 0, 7, 1767322000123), RowSource("t", 0, 8, 5)]
    data = builder.build(rows, sources)
    assert data == [["b", "a"], [{"x": "y"}, {}], [1767322000123, 5], [7, 8]]


class _Msg:
    def __init__(self, topic: str, partition: int, offset: int, ms: int) -> None:
        self._t, self._p, self._o, self._ms = topic, partition, offset, ms

    def topic(self) -> str:
        return self._t

    def partition(self) -> int:
        return self._p

    def offset(self) -> int:
        return self._o

    def timestamp(self) -> tuple[int, int]:
        return (1, self._ms)


@pytest.mark.parametrize(
    "ts_type", ["DateTime64(3, 'UTC')", "DateTime64(0)", "DateTime64(6, 'UTC')"]
)
def test_block_lineage_builds_the_same_columns_as_row_sources(ts_type: str) -> None:
    cols = [
        ColumnConfig("_topic", None, "LowCardinality(String)"),
        ColumnConfig("_partition", None, "Int32"),
        ColumnConfig("_offset", None, "Int64"),
        ColumnConfig("_timestamp", None, ts_type),
    ]
    builder = ColumnBuilder(cols)
    for msgs in (
        [_Msg("t", 2, 7, 1767322000123), _Msg("t", 2, 9, -1), _Msg("t", 2, 10, 5)],
        [_Msg("t", 2, 7, 1767322000999), _Msg("u", 3, 9, 0)],
        [],
    ):
        sources = [RowSource(m.topic(), m.partition(), m.offset(), m.timestamp()[1]) for m in msgs]
        rows: list[dict[str, Any]] = [{} for _ in msgs]
        assert builder.build(rows, Lineage(msgs)) == builder.build(rows, sources)
