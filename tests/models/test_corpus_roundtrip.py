"""The type corpus: hypothesis records round-trip through Avro and JSON; bad values fail."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from types import ModuleType
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moosegen.runtime.chvalues import column_values_converter

UTC = timezone.utc
INT32 = st.integers(-(2**31), 2**31 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)
UINT32 = st.integers(0, 2**32 - 1)
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
NANOS_MIN = datetime(1677, 9, 22)
NANOS_MAX = datetime(2262, 4, 10)


def decimals(precision: int, scale: int) -> st.SearchStrategy[Decimal]:
    bound = 10 ** (precision - scale) - Decimal(1).scaleb(-scale)
    return st.decimals(-bound, bound, places=scale, allow_nan=False, allow_infinity=False)


def node(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    nxt = st.none() if depth == 0 else st.none() | node(depth - 1)
    return st.fixed_dictionaries({"label": st.text(max_size=5), "next": nxt})


RECORDS = st.fixed_dictionaries(
    {
        "id": st.text(),
        "flag": st.booleans(),
        "small": INT32,
        "big": INT64,
        "ratio": st.floats(width=32, allow_nan=False),
        "precise": st.floats(allow_nan=False),
        "blob": st.binary(max_size=20),
        "amount": decimals(18, 4),
        "fixed_amount": decimals(12, 2),
        "uid": st.uuids(),
        "day": st.dates(),
        "t_ms": st.times(),
        "t_us": st.times(),
        "ts_ms": st.datetimes(
            timezones=ZONES, min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)
        ),
        "ts_us": st.datetimes(timezones=st.just(UTC)),
        "ts_ns": st.datetimes(NANOS_MIN, NANOS_MAX, timezones=st.just(UTC)),
        "lts_ms": st.datetimes(),
        "lts_us": st.datetimes(),
        "lts_ns": st.datetimes(NANOS_MIN, NANOS_MAX),
        "span": st.fixed_dictionaries({"months": UINT32, "days": UINT32, "milliseconds": UINT32}),
        "digest": st.binary(min_size=16, max_size=16),
        "home": st.fixed_dictionaries({"street": st.text(), "zip": st.none() | st.text()}),
    },
    optional={
        "text": st.text(),
        "color": st.sampled_from(["RED", "GREEN", "BLUE"]),
        "tags": st.lists(st.text(), max_size=3),
        "scores": st.dictionaries(st.text(max_size=4), INT64, max_size=3),
        "maybe_count": st.none() | INT64,
        "maybe_day": st.none() | st.dates(),
        "count_or_null": st.none() | INT64,
        "either": st.none() | INT64 | st.text(),
        "maybe_tags": st.none() | st.lists(INT64, max_size=3),
        "children": st.lists(node(2), max_size=3),
        "klass": st.text(),
        "old_name": INT32,
    },
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_corpus_models_import(corpus: ModuleType) -> None:
    assert corpus.MODEL.__name__ == "AllTypes"
    assert len(corpus.FINGERPRINT) == 8 and corpus.FINGERPRINT.hex() == corpus.FINGERPRINT_HEX
    assert corpus.WRITER_SCHEMAS == {corpus.SCHEMA_ID: corpus.SCHEMA_JSON}
    assert corpus.KEY_FIELDS == ("id",)
    assert corpus.DESTINATIONS == {"all_types": (corpus.MODEL, corpus.ROWS)}
    assert corpus.MODEL.model_fields["id"].json_schema_extra == {"key": True}


@SETTINGS
@given(RECORDS)
def test_avro_round_trip(corpus: ModuleType, data: dict[str, Any]) -> None:
    model = corpus.MODEL.model_validate(data)
    body = corpus.encode_avro(model)
    # The embedded schema, read by fastavro directly, agrees with the codec.
    parsed = fastavro.parse_schema(json.loads(corpus.SCHEMA_JSON), named_schemas={})
    raw = fastavro.schemaless_reader(io.BytesIO(body), parsed, None)
    assert raw["id"] == model.id and raw["small"] == model.small
    assert corpus.MODEL.model_validate(corpus.decode_avro(body)) == model
    assert (
        corpus.MODEL.model_validate(corpus.decode_single_object(corpus.encode_single_object(model)))
        == model
    )
    assert (
        corpus.MODEL.model_validate(corpus.decode_confluent(corpus.encode_confluent(model)))
        == model
    )
    # The TypedDict fast path reads the same Avro values into the same plain values.
    row = corpus.ROWS.validate_python([corpus.decode_avro(body)])[0]
    assert row == corpus.ROWS.validate_python([model.model_dump(by_alias=True)])[0]


@SETTINGS
@given(RECORDS)
def test_json_round_trip(corpus: ModuleType, data: dict[str, Any]) -> None:
    model = corpus.MODEL.model_validate(data)
    text = corpus.encode_json(model)
    assert corpus.MODEL.model_validate_json(text) == model
    rows = corpus.ROWS.validate_json(b"[" + text + b"]")
    assert corpus.MODEL.model_validate(rows[0]) == model
    wire = json.loads(text)
    assert isinstance(wire["amount"], str) and isinstance(wire["blob"], str)
    assert wire["ts_ms"].endswith("Z") and "class" in wire and "class_" not in wire


def test_documented_precision(corpus: ModuleType) -> None:
    base = corpus.MODEL.model_validate(_sample())
    assert base.ts_ms == datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)  # ms, from +02:00
    assert base.t_ms == time(1, 2, 3, 456000)
    assert base.ratio == 0.10000000149011612  # nearest float32
    assert base.amount == Decimal("1.5000") and str(base.amount) == "1.5000"
    # timestamp-nanos written by another producer: floored to microseconds when read.
    schema = fastavro.parse_schema(json.loads(corpus.SCHEMA_JSON), named_schemas={})
    value = corpus.CODEC.to_avro_value(base)
    value["ts_ns"] = 1_700_000_000_123_456_789
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, value)
    decoded = corpus.MODEL.model_validate(corpus.decode_avro(buffer.getvalue()))
    assert decoded.ts_ns == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)


def _sample() -> dict[str, Any]:
    return {
        "id": "k1",
        "flag": True,
        "small": 1,
        "big": 2,
        "ratio": 0.1,
        "precise": 0.2,
        "blob": b"\x00",
        "amount": "1.5",
        "fixed_amount": "2.25",
        "uid": "12345678-1234-5678-1234-567812345678",
        "day": "2024-05-01",
        "t_ms": "01:02:03.456789",
        "t_us": "01:02:03.456789",
        "ts_ms": "2024-05-01T12:00:00.123456+02:00",
        "ts_us": "2024-05-01T10:00:00Z",
        "ts_ns": "2024-05-01T10:00:00Z",
        "lts_ms": "2024-05-01T10:00:00",
        "lts_us": "2024-05-01T10:00:00",
        "lts_ns": "2024-05-01T10:00:00",
        "span": {"months": 1, "days": 2, "milliseconds": 3},
        "digest": b"0123456789abcdef",
        "home": {"street": "Main"},
    }


INVALID = [
    ("small", 2**31, "less than or equal to 2147483647"),
    ("small", "5", "valid integer"),
    ("big", -(2**63) - 1, "greater than or equal to"),
    ("ratio", 1e39, "32-bit float"),
    ("color", "PINK", "'RED', 'GREEN' or 'BLUE'"),
    ("digest", b"short", "exactly 16 bytes"),
    ("amount", "123456789012345", "no more than 14 digits before the decimal point"),
    ("amount", "1.23456", "no more than 4 decimal places"),
    ("fixed_amount", "12345678901", "no more than 10 digits before the decimal point"),
    ("ts_ms", "2024-05-01T10:00:00", "timezone"),
    ("lts_ms", "2024-05-01T10:00:00Z", "timezone"),
    ("ts_ns", "2300-01-01T00:00:00Z", "nanosecond timestamp range"),
    ("span", {"months": -1, "days": 0, "milliseconds": 0}, "greater than or equal to 0"),
    ("uid", "not-a-uuid", "UUID"),
    ("flag", 1, "valid boolean"),
    ("id", 5, "valid string"),
    ("either", 1.5, "either"),
    ("day", "2024-13-01", "date"),
]


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
def test_invalid_values_rejected(corpus: ModuleType, field: str, value: Any, message: str) -> None:
    from pydantic import ValidationError

    data = {**_sample(), field: value}
    with pytest.raises(ValidationError) as model_error:
        corpus.MODEL.model_validate(data)
    assert message in str(model_error.value)
    assert field in str(model_error.value)
    with pytest.raises(ValidationError) as rows_error:
        corpus.ROWS.validate_python([data])
    assert message in str(rows_error.value)


def test_same_verdicts_on_valid_sample(corpus: ModuleType) -> None:
    data = _sample()
    model = corpus.MODEL.model_validate(data)
    row = corpus.ROWS.validate_python([data])[0]
    assert corpus.MODEL.model_validate(row) == model
    assert row["color"] is corpus.Color.GREEN and row["class"] == "" and row["tags"] == []
    assert row["amount"] == model.amount
    # Row timestamps keep the value as given (+02:00, µs); the model normalises to UTC
    # and truncates to ms. What ClickHouse stores, DateTime64 ticks, is the same.
    assert row["ts_ms"] == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    ticks = column_values_converter("DateTime64(3, 'UTC')")
    assert ticks is not None and ticks([row["ts_ms"]]) == ticks([model.ts_ms])
    local = column_values_converter("DateTime64(3)")
    assert local is not None and local([row["lts_ms"]]) == local([model.lts_ms])
    assert row["span"] == {"months": 1, "days": 2, "milliseconds": 3}


def test_aliases_and_keywords(corpus: ModuleType) -> None:
    model = corpus.MODEL.model_validate({**_sample(), "klass": "k", "old_name": 4})
    assert model.class_ == "k" and model.renamed == 4
    dumped = model.model_dump(by_alias=True)
    assert dumped["class"] == "k" and "klass" not in dumped
    row = corpus.ROWS.validate_python([{**_sample(), "klass": "k", "old_name": 4}])[0]
    assert row["class"] == "k" and row["renamed"] == 4


def test_defaults_follow_avro(corpus: ModuleType) -> None:
    model = corpus.MODEL.model_validate(_sample())
    assert model.text == "none" and model.color is corpus.Color.GREEN
    assert model.count_or_null == 7 and model.maybe_count is None and model.children == []
    fields = corpus.MODEL.model_fields
    assert fields["color"].default is corpus.Color.GREEN
    assert fields["id"].is_required() and not fields["text"].is_required()


def test_union_left_to_right(corpus: ModuleType) -> None:
    assert corpus.MODEL.model_validate({**_sample(), "either": 5}).either == 5
    assert corpus.MODEL.model_validate({**_sample(), "either": "5"}).either == "5"


def test_recursive_records(corpus: ModuleType) -> None:
    data = {
        **_sample(),
        "children": [{"label": "a", "next": {"label": "b", "next": {"label": "c"}}}],
    }
    model = corpus.MODEL.model_validate(data)
    assert model.children[0].next.next.label == "c"
    assert corpus.MODEL.model_validate(corpus.decode_avro(corpus.encode_avro(model))) == model


def test_date_type_is_plain_date(corpus: ModuleType) -> None:
    assert corpus.MODEL.model_validate(_sample()).day == date(2024, 5, 1)


@SETTINGS
@given(
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2299, 12, 30)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_row_timestamps_store_what_the_model_stores(
    corpus: ModuleType, moment: datetime, offset_minutes: int
) -> None:
    """Rows keep timestamps as given; their DateTime64 ticks equal the model's."""
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    data = {**_sample(), "ts_ms": aware, "ts_us": aware, "lts_ms": moment, "lts_us": moment}
    model = corpus.MODEL.model_validate(data)
    row = corpus.ROWS.validate_python([data])[0]
    for field, ch_type in (
        ("ts_ms", "DateTime64(3, 'UTC')"),
        ("ts_us", "DateTime64(6, 'UTC')"),
        ("lts_ms", "DateTime64(3)"),
        ("lts_us", "DateTime64(6)"),
    ):
        conv = column_values_converter(ch_type)
        assert conv is not None
        assert conv([row[field]]) == conv([getattr(model, field)]), field
