"""Every mapped type: pydantic python-mode values → column_converter → insert → read back."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.clickhouse.conftest import ROOT, build_into
from moosegen.runtime.chvalues import column_converter
from moosegen.runtime.migrations import apply_migrations
from moosegen.targets.clickhouse import columns
from test_mapping import units

UTC = dt.timezone.utc


class Color(str, enum.Enum):  # the shape the pydantic target generates for an Avro enum
    RED = "RED"
    GREEN = "GREEN"
    BLUE = "BLUE"


# column → (values as the model gives them, values as clickhouse-connect reads them back)
ROWS: dict[str, tuple[list[Any], list[Any]]] = {
    "id": (["a", "b"], ["a", "b"]),
    "flag": ([True, False], [True, False]),
    "small": ([-(2**31), 2**31 - 1], [-(2**31), 2**31 - 1]),
    "big": ([-(2**63), 2**63 - 1], [-(2**63), 2**63 - 1]),
    "ratio": ([1.5, -0.25], [1.5, -0.25]),
    "precise": ([3.141592653589793, -1e300], [3.141592653589793, -1e300]),
    "blob": ([b"\x00\xff'`;", b""], [b"\x00\xff'`;", b""]),
    "text": (["it's \\ `x`; -- é 🙂", ""], ["it's \\ `x`; -- é 🙂", ""]),
    "amount": (
        [decimal.Decimal("12345678901234.5678"), decimal.Decimal("-0.0001")],
        [decimal.Decimal("12345678901234.5678"), decimal.Decimal("-0.0001")],
    ),
    "fixed_amount": (
        [decimal.Decimal("9999999999.99"), decimal.Decimal("0")],
        [decimal.Decimal("9999999999.99"), decimal.Decimal("0")],
    ),
    "uid": (
        [uuid.UUID(int=1), uuid.UUID("12345678-1234-5678-1234-567812345678")],
        [uuid.UUID(int=1), uuid.UUID("12345678-1234-5678-1234-567812345678")],
    ),
    "day": (
        [dt.date(1900, 1, 1), dt.date(2299, 12, 31)],
        [dt.date(1900, 1, 1), dt.date(2299, 12, 31)],
    ),
    "t_ms": (
        [dt.time(0, 0), dt.time(23, 59, 59, 999000)],
        [dt.timedelta(0), dt.timedelta(hours=23, minutes=59, seconds=59, milliseconds=999)],
    ),
    "t_us": (
        [dt.time(12, 0, 0, 1), dt.time(0, 0, 0, 999999)],
        [dt.timedelta(hours=12, microseconds=1), dt.timedelta(microseconds=999999)],
    ),
    "ts_ms": (
        [
            dt.datetime(2024, 2, 29, 23, 59, 59, 123000, tzinfo=UTC),
            dt.datetime(1969, 12, 31, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        ],
        [
            dt.datetime(2024, 2, 29, 23, 59, 59, 123000, tzinfo=UTC),
            dt.datetime(1970, 1, 1, 4, 0, tzinfo=UTC),
        ],
    ),
    "ts_us": (
        [dt.datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC)] * 2,
        [dt.datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC)] * 2,
    ),
    "ts_ns": (
        [dt.datetime(2200, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)] * 2,
        [dt.datetime(2200, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)] * 2,
    ),
    "lts_ms": (
        [dt.datetime(2024, 5, 6, 7, 8, 9, 123000)] * 2,
        [dt.datetime(2024, 5, 6, 7, 8, 9, 123000)] * 2,
    ),
    "lts_us": (
        [dt.datetime(2024, 5, 6, 7, 8, 9, 123456)] * 2,
        [dt.datetime(2024, 5, 6, 7, 8, 9, 123456)] * 2,
    ),
    "lts_ns": (
        [dt.datetime(2024, 5, 6, 7, 8, 9, 5)] * 2,
        [dt.datetime(2024, 5, 6, 7, 8, 9, 5)] * 2,
    ),
    "span": (
        [(1, 2, 3), (2**32 - 1).to_bytes(4, "little") * 3],
        [
            {"months": 1, "days": 2, "milliseconds": 3},
            {"months": 2**32 - 1, "days": 2**32 - 1, "milliseconds": 2**32 - 1},
        ],
    ),
    "color": ([Color.GREEN, "BLUE"], ["GREEN", "BLUE"]),
    "digest": ([bytes(range(16)), b"\xff" * 16], [bytes(range(16)), b"\xff" * 16]),
    "tags": ([["a", "b"], []], [["a", "b"], []]),
    "scores": ([{"x": 1, "y": -(2**63)}, {}], [{"x": 1, "y": -(2**63)}, {}]),
    "home": (
        [{"street": "Main", "zip": None}, {"street": "", "zip": "12345"}],
        [{"street": "Main", "zip": None}, {"street": "", "zip": "12345"}],
    ),
    "maybe_count": ([None, 5], [None, 5]),
    "maybe_day": ([None, dt.date(2020, 1, 1)], [None, dt.date(2020, 1, 1)]),
    "count_or_null": ([7, None], [7, None]),
    "either": ([42, "forty-two"], [42, "forty-two"]),
    "maybe_tags": ([[1, 2], []], [[1, 2], []]),
    "children": (
        [[{"label": "a", "next": '{"label": "b", "next": null}'}], []],
        [[{"label": "a", "next": '{"label": "b", "next": null}'}], []],
    ),
    "class": (["x", ""], ["x", ""]),
    "renamed": ([1, 0], [1, 0]),
}


def test_every_mapped_type_round_trips(tmp_path: Path, client: Any, database: str) -> None:
    specs = ROOT / "tests/corpus/types/specs"
    out = build_into(specs, tmp_path / "gen")
    (unit,) = units(specs)
    apply_migrations(client, out / "all_types" / "migrations", "all_types", database)
    cols = [c for c in columns(unit, unit.stream.destinations[0]) if c.insertable]
    assert {c.name for c in cols} == set(ROWS)
    data = []
    for c in cols:
        conv = column_converter(c.type)
        values = ROWS[c.name][0]
        data.append(values if conv is None else [conv(v) for v in values])
    client.insert(
        "all_types",
        data,
        column_names=[c.name for c in cols],
        column_oriented=True,
        settings={"async_insert": 0, "insert_deduplication_token": "rt-1"},
    )
    # Avro bytes live in String columns: read them as bytes (clickhouse-connect reads str).
    result = client.query("SELECT * FROM all_types ORDER BY id", column_formats={"blob": "bytes"})
    got = dict(zip(result.column_names, zip(*result.result_rows, strict=True), strict=True))
    for c in cols:
        assert list(got[c.name]) == ROWS[c.name][1], c.name


@pytest.mark.parametrize(
    ("ch_type", "value", "error"),
    [
        ("Enum8('a' = 1)", "b", ValueError),
        ("Int32", 2**31, ValueError),
        ("Int64", True, TypeError),
        ("Decimal(5, 2)", decimal.Decimal("1000.00"), ValueError),
        ("Decimal(5, 2)", decimal.Decimal("1.001"), ValueError),
        ("FixedString(4)", b"abc", ValueError),
        ("Variant(Int64, String)", 1.5, TypeError),
        ("Array(Int32)", "abc", TypeError),
    ],
)
def test_converters_refuse_what_clickhouse_connect_would_corrupt(
    ch_type: str, value: Any, error: type[Exception]
) -> None:
    conv = column_converter(ch_type)
    assert conv is not None
    with pytest.raises(error):
        conv(value)


def test_identity_types_need_no_converter() -> None:
    for ch_type in ("String", "Bool", "Float64", "LowCardinality(String)", "Nullable(String)"):
        assert column_converter(ch_type) is None


def test_deduplication_token_on_plain_mergetree(tmp_path: Path, client: Any, database: str) -> None:
    specs = ROOT / "specs"
    out = build_into(specs, tmp_path / "gen")
    apply_migrations(client, out / "queries" / "migrations", "queries", database)
    # asked_at within the table TTL (30 days), or the insert drops the row
    now = dt.datetime.now(UTC)
    row = [[uuid.UUID(int=7)], [now], ["SELECT 1"], [{}], [3], [1]]
    names = ["query_id", "asked_at", "query", "parameters", "duration_ms", "rows"]
    for token in ("queries/0/0-99", "queries/0/0-99", "queries/0/100-199"):
        client.insert(
            "queries",
            row,
            column_names=names,
            column_oriented=True,
            settings={"async_insert": 0, "insert_deduplication_token": token},
        )
        if token == "queries/0/0-99":
            assert client.command("SELECT count() FROM queries") == 1
    assert client.command("SELECT count() FROM queries") == 2


# Types the Arrow mapping leaves to the Native path (the whole block then goes Native).
ARROW_FALLBACK = {"span", "home", "either", "children"}


def test_arrow_insert_stores_what_the_native_path_stores(
    tmp_path: Path, client: Any, database: str
) -> None:
    """Per mapped type: the same converted column inserted through Arrow and through
    clickhouse-connect's Native path reads back identically (bytes compared as hex)."""
    from moosegen.runtime.chvalues import arrow_column_converter

    specs = ROOT / "tests/corpus/types/specs"
    (unit,) = units(specs)
    cols = [c for c in columns(unit, unit.stream.destinations[0]) if c.insertable]
    covered = set()
    for i, c in enumerate(cols):
        to_arrow = arrow_column_converter(c.type)
        if to_arrow is None:
            continue
        covered.add(c.name)
        conv = column_converter(c.type)
        values = ROWS[c.name][0]
        data = values if conv is None else [conv(v) for v in values]
        for kind in ("native", "arrow"):
            client.command(
                f"CREATE TABLE {kind}{i} (n UInt8, x {c.type}) ENGINE = MergeTree ORDER BY n"
            )
        settings = {"async_insert": 0, "insert_deduplication_token": f"arrow-{i}"}
        client.insert(
            f"native{i}",
            [list(range(len(data))), data],
            column_names=["n", "x"],
            column_oriented=True,
            settings=settings,
        )
        import pyarrow

        table = pyarrow.Table.from_arrays(
            [pyarrow.array(range(len(data)), pyarrow.uint8()), to_arrow(data)], names=["n", "x"]
        )
        client.insert_arrow(f"arrow{i}", table, settings=settings)
        read = "SELECT toTypeName(x), hex(toString(x)), x FROM {} ORDER BY n"
        native = client.query(read.format(f"native{i}")).result_rows
        arrow = client.query(read.format(f"arrow{i}")).result_rows
        assert arrow == native, (c.name, c.type)
    assert covered == set(ROWS) - ARROW_FALLBACK


def test_column_builder_inserts_arrow_when_it_can(client: Any) -> None:
    """The builder takes the Arrow path only when every column maps; a value Arrow
    refuses sends the block the Native way (same rows stored)."""
    from moosegen.runtime.columns import ColumnBuilder
    from moosegen.runtime.config import ColumnConfig

    cols = [ColumnConfig("id", "id", "UUID"), ColumnConfig("s", "s", "String")]
    builder = ColumnBuilder(cols)
    assert builder.arrow is not None
    client.command("CREATE TABLE arrow_b (id UUID, s String) ENGINE = MergeTree ORDER BY id")
    rows = [{"id": uuid.UUID(int=1), "s": "a"}, {"id": uuid.UUID(int=2), "s": b"\xff"}]
    data = builder.build(rows, [])
    assert builder.to_arrow(data) is not None
    builder.insert(client, "arrow_b", data, settings={"async_insert": 0})
    mixed = builder.build(
        [{"id": uuid.UUID(int=3), "s": "x"}, {"id": uuid.UUID(int=4), "s": "y"}], []
    )
    assert builder.to_arrow(mixed) is not None

    def refuse(values: list[Any]) -> Any:
        import pyarrow

        raise pyarrow.ArrowInvalid("refused")

    assert builder.arrow is not None
    builder.arrow[1] = refuse
    assert builder.to_arrow(mixed) is None  # the block goes the Native way
    builder.insert(client, "arrow_b", mixed, settings={"async_insert": 0})
    got = client.query("SELECT id, hex(s) FROM arrow_b ORDER BY id").result_rows
    assert got == [
        (uuid.UUID(int=1), "61"),
        (uuid.UUID(int=2), "FF"),
        (uuid.UUID(int=3), "78"),
        (uuid.UUID(int=4), "79"),
    ]
    tuples = ColumnBuilder([ColumnConfig("t", "t", "Tuple(a Int32)")])
    assert tuples.arrow is None
