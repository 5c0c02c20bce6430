# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Avro and JSON codecs, Avro-typed pydantic building blocks and a typed Kafka producer.

Shared by every generated `models.py`; third-party imports only (pydantic, fastavro;
confluent-kafka is imported lazily by the producer), so the generated package runs
without moosegen installed.

Value rules (the model's input form and what fastavro reads and writes):

- `int` / `long`: Python `int`, strict (no `"5"` -> 5), range-checked to 32 / 64 bits.
- `float`: Python `float` rounded to the nearest 32-bit float on validation, so a
  model survives an Avro round trip unchanged; finite values beyond float32 fail.
- timestamps: aware `datetime` in UTC (naive input is rejected), truncated to the
  logical type's precision. `timestamp-nanos` / `local-timestamp-nanos` are kept at
  microsecond precision: reading floors the nanoseconds to microseconds.
- `local-timestamp-*`: naive `datetime` (aware input is rejected).
- The TypedDict (row) forms of timestamp-/local-timestamp-millis/-micros accept and
  reject the same inputs but keep the value as given (offset, sub-unit digits); the
  ClickHouse column conversion floors it to the column's precision.
- `time-millis` / `time-micros`: naive `time`, truncated to the precision.
- `duration`: a `Duration(months, days, milliseconds)` of three unsigned 32-bit ints.
- `decimal`: `Decimal` with at most `precision` digits and `scale` decimal places,
  quantized to exactly `scale` places.
- `fixed`: `bytes` of exactly `size` bytes.
"""

from __future__ import annotations

import importlib
import io
import json
import struct
import sys
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from decimal import Context, Decimal, DecimalException, Inexact, InvalidOperation
from enum import Enum
from typing import Annotated, Any, Generic, TypeVar, cast
from uuid import UUID

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import fingerprint as _fingerprint
from fastavro.schema import to_parsing_canonical_form
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    NaiveDatetime,
    with_config,
)
from pydantic_core import (
    CoreSchema,
    PydanticCustomError,
    PydanticKnownError,
    SchemaValidator,
    ValidationError,
    core_schema,
)
from pydantic_core.core_schema import ErrorType
from typing_extensions import TypedDict

from .registry import SchemaRegistry

__all__ = [
    "CONFIG",
    "Codec",
    "DecimalDigits",
    "Duration",
    "DurationDict",
    "FixedSize",
    "TypedProducer",
    "UnknownSchemaError",
    "murmur2",
]

# The JSON wire format is the model's JSON form: bytes as base64, NaN/Infinity as
# JSON5-style constants (pydantic reads them back), fields by their Avro names.
CONFIG = ConfigDict(
    ser_json_bytes="base64",
    val_json_bytes="base64",
    ser_json_inf_nan="constants",
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=True,
)

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_MICRO = timedelta(microseconds=1)
_FLOAT32_MAX = 3.4028234663852886e38


# --- pydantic building blocks -------------------------------------------------------


def _f32(value: float) -> float:
    if value != value or value in (float("inf"), float("-inf")):
        return value
    if abs(value) > _FLOAT32_MAX:
        raise ValueError("value does not fit in a 32-bit float")
    rounded: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return rounded


# These run once per timestamp of every validated record: keep them lean (no replace()
# unless a digit below the unit is set; one astimezone() for the UTC normalisation).
def _truncate(unit: int) -> Callable[[Any], Any]:
    def truncate(value: Any) -> Any:
        extra = value.microsecond % unit
        return value.replace(microsecond=value.microsecond - extra) if extra else value

    return truncate


def _utc(unit: int) -> Callable[[datetime], datetime]:
    utc = timezone.utc

    def to_utc(value: datetime) -> datetime:
        value = value.astimezone(utc)
        extra = value.microsecond % unit
        return value.replace(microsecond=value.microsecond - extra) if extra else value

    return to_utc


def _nanos_range(value: datetime) -> datetime:
    epoch = _EPOCH if value.tzinfo is not None else _NAIVE_EPOCH
    if not -(2**63) <= (value - epoch) // _MICRO * 1000 <= 2**63 - 1:
        raise ValueError("out of the nanosecond timestamp range (years 1677 to 2262)")
    return value


def _naive_time(unit: int) -> Callable[[time], time]:
    def check(value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("a time of day carries no time zone")
        return value.replace(microsecond=value.microsecond // unit * unit)

    return check


Boolean = Annotated[bool, Field(strict=True)]
Int = Annotated[int, Field(strict=True, ge=-(2**31), le=2**31 - 1)]
Long = Annotated[int, Field(strict=True, ge=-(2**63), le=2**63 - 1)]
Float = Annotated[float, Field(strict=True), AfterValidator(_f32)]
Double = Annotated[float, Field(strict=True)]
String = Annotated[str, Field(strict=True)]
Bytes = Annotated[bytes, Field(strict=True)]
Uuid = UUID
Date = date
TimeMillis = Annotated[time, AfterValidator(_naive_time(1000))]
TimeMicros = Annotated[time, AfterValidator(_naive_time(1))]
TimestampMillis = Annotated[AwareDatetime, AfterValidator(_utc(1000))]
TimestampMicros = Annotated[AwareDatetime, AfterValidator(_utc(1))]
TimestampNanos = Annotated[AwareDatetime, AfterValidator(_utc(1)), AfterValidator(_nanos_range)]
LocalTimestampMillis = Annotated[NaiveDatetime, AfterValidator(_truncate(1000))]
LocalTimestampMicros = Annotated[NaiveDatetime, AfterValidator(_truncate(1))]
LocalTimestampNanos = Annotated[
    NaiveDatetime, AfterValidator(_truncate(1)), AfterValidator(_nanos_range)
]
UInt32 = Annotated[int, Field(strict=True, ge=0, le=2**32 - 1)]
# The TypedDict (row) forms of timestamp-millis/-micros and local-timestamp-millis/
# -micros: what the model accepts and rejects, checked by pydantic-core alone (no
# Python call per value). The value keeps its offset and sub-unit digits; the
# column conversion to DateTime64(p) ticks floors the instant to p digits, which is
# what the model's UTC normalisation and truncation give.
RowTimestamp = AwareDatetime
RowLocalTimestamp = NaiveDatetime


class Duration(BaseModel):
    """Avro `duration`: months, days and milliseconds, each an unsigned 32-bit int."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    months: UInt32 = 0
    days: UInt32 = 0
    milliseconds: UInt32 = 0


@with_config(ConfigDict(extra="forbid"))
class DurationDict(TypedDict):
    """Avro `duration` as plain values."""

    months: Annotated[UInt32, Field(default=0)]
    days: Annotated[UInt32, Field(default=0)]
    milliseconds: Annotated[UInt32, Field(default=0)]


class DecimalDigits:
    """`Annotated[Decimal, DecimalDigits(precision, scale)]`: Avro decimal bounds, quantized.

    Fast path: parse the Decimal, then one `quantize` in a context of `precision`
    digits that traps on rounding and overflow; it succeeds exactly when the value
    has at most `scale` significant decimal places and fits `precision` digits, and
    gives the same value. Anything else is re-validated by pydantic's own
    constrained decimal (the exact rules and errors).
    """

    def __init__(self, precision: int, scale: int) -> None:
        self.precision = precision
        self.scale = scale
        self.quantum = Decimal(1).scaleb(-scale)
        self._context = Context(prec=precision, traps=[Inexact, InvalidOperation])
        self._exact: SchemaValidator | None = None

    def _exact_schema(self) -> CoreSchema:
        return core_schema.decimal_schema(
            max_digits=self.precision, decimal_places=self.scale, allow_inf_nan=False
        )

    def _check(self, value: Decimal) -> Decimal:
        try:
            return value.quantize(self.quantum, context=self._context)
        except DecimalException:
            pass
        if self._exact is None:
            self._exact = SchemaValidator(self._exact_schema())
        try:
            exact: Decimal = self._exact.validate_python(value)
        except ValidationError as exc:
            error = exc.errors()[0]
            raise PydanticKnownError(cast(ErrorType, error["type"]), error.get("ctx")) from None
        return exact.quantize(self.quantum)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        if self.precision <= self.scale:  # pydantic's own rules reject a zero here: keep them
            return core_schema.no_info_after_validator_function(
                lambda value: value.quantize(self.quantum),
                self._exact_schema(),
                serialization=core_schema.plain_serializer_function_ser_schema(
                    _decimal_text, when_used="json"
                ),
            )
        return core_schema.no_info_after_validator_function(
            self._check,
            core_schema.decimal_schema(allow_inf_nan=False),
            serialization=core_schema.plain_serializer_function_ser_schema(
                _decimal_text, when_used="json"
            ),
        )


def _decimal_text(value: Decimal) -> str:
    return str(value)


class FixedSize:
    """`Annotated[bytes, FixedSize(n)]`: exactly `n` bytes."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        size = self.size

        def check(value: bytes) -> bytes:
            if len(value) != size:
                raise PydanticCustomError(
                    "fixed_size",
                    "Avro fixed needs exactly {size} bytes, got {actual}",
                    {"size": size, "actual": len(value)},
                )
            return value

        return core_schema.no_info_after_validator_function(
            check, core_schema.bytes_schema(strict=True)
        )


# --- schema-driven conversion between model values and fastavro values ------------

Convert = Callable[[Any], Any]
_PRIMITIVE_TYPES: dict[str, tuple[type, ...]] = {
    "null": (type(None),),
    "boolean": (bool,),
    "int": (int,),
    "long": (int,),
    "float": (float, int),
    "double": (float, int),
    "bytes": (bytes,),
    "string": (str,),
}
_LOGICAL_TYPES: dict[str, tuple[type, ...]] = {
    "decimal": (Decimal,),
    "uuid": (UUID, str),
    "date": (date,),
    "time-millis": (time,),
    "time-micros": (time,),
    "timestamp-millis": (datetime,),
    "timestamp-micros": (datetime,),
    "timestamp-nanos": (datetime,),
    "local-timestamp-millis": (datetime,),
    "local-timestamp-micros": (datetime,),
    "local-timestamp-nanos": (datetime,),
    "duration": (Duration, dict),
}


def _resolve(schema: Any, named: dict[str, Any], namespace: str | None = None) -> Any:
    if isinstance(schema, str):
        if schema in _PRIMITIVE_TYPES:
            return schema
        full = schema if "." in schema or not namespace else f"{namespace}.{schema}"
        return named.get(full, named.get(schema, schema))
    return schema


def _index_named(schema: Any, named: dict[str, Any], namespace: str | None = None) -> None:
    if isinstance(schema, list):
        for branch in schema:
            _index_named(branch, named, namespace)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "error", "enum", "fixed"):
            name = str(schema["name"])
            if "." not in name and schema.get("namespace"):
                name = f"{schema['namespace']}.{name}"
            elif "." not in name and namespace:
                name = f"{namespace}.{name}"
            named[name] = schema
            inner = name.rpartition(".")[0] or None
            for field in schema.get("fields", []):
                _index_named(field["type"], named, inner)
        elif kind == "array":
            _index_named(schema["items"], named, namespace)
        elif kind == "map":
            _index_named(schema["values"], named, namespace)


def _branch_label(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, dict):
        kind = schema["type"]
        if kind in ("record", "error", "enum", "fixed"):
            return str(schema["name"])
        return str(kind) if isinstance(kind, str) else _branch_label(kind)
    return "union"


class _Converters:
    """Builds, per schema node, a converter to fastavro values and one back; None = identity."""

    def __init__(self, schema: Any) -> None:
        self.named: dict[str, Any] = {}
        _index_named(schema, self.named)
        self.enc_cache: dict[str, Convert | None] = {}
        self.dec_cache: dict[str, Convert | None] = {}

    # model value -> fastavro value
    def encoder(self, schema: Any, namespace: str | None = None) -> Convert | None:
        schema = _resolve(schema, self.named, namespace)
        if isinstance(schema, list):
            return self._union_encoder(schema, namespace)
        if isinstance(schema, str):
            return None
        kind = schema["type"]
        logical = schema.get("logicalType")
        if kind in ("record", "error"):
            name = str(schema["name"])
            if name in self.enc_cache:
                return lambda value: _call(self.enc_cache[name], value)
            self.enc_cache[name] = None
            inner = name.rpartition(".")[0] or None
            fields = [(f["name"], self.encoder(f["type"], inner)) for f in schema["fields"]]
            convert = _record_encoder(fields)
            self.enc_cache[name] = convert
            return convert
        if kind == "array":
            item = self.encoder(schema["items"], namespace)
            return None if item is None else (lambda value: [item(v) for v in value])
        if kind == "map":
            conv = self.encoder(schema["values"], namespace)
            return None if conv is None else (lambda value: {k: conv(v) for k, v in value.items()})
        if logical in ("timestamp-nanos", "local-timestamp-nanos"):
            epoch = _EPOCH if logical == "timestamp-nanos" else _NAIVE_EPOCH
            return lambda value: (value - epoch) // _MICRO * 1000
        if logical == "duration":
            return _encode_duration
        if logical == "decimal":
            quantum = Decimal(1).scaleb(-int(schema.get("scale", 0)))
            return lambda value: value.quantize(quantum)
        if logical == "uuid":
            return str
        if kind == "enum":
            return lambda value: value.value if isinstance(value, Enum) else value
        return None

    def _union_encoder(self, branches: list[Any], namespace: str | None) -> Convert:
        plan = []
        for branch in branches:
            resolved = _resolve(branch, self.named, namespace)
            plan.append((resolved, _branch_label(resolved), self.encoder(resolved, namespace)))

        def convert(value: Any) -> Any:
            for resolved, label, conv in plan:
                if _matches(resolved, value):
                    return (label, value if conv is None else conv(value))
            raise ValueError(f"{value!r} matches no branch of the union {[p[1] for p in plan]}")

        return convert

    # fastavro value -> model input value
    def decoder(self, schema: Any, namespace: str | None = None) -> Convert | None:
        schema = _resolve(schema, self.named, namespace)
        if isinstance(schema, list):
            return self._union_decoder(schema, namespace)
        if isinstance(schema, str):
            return None
        kind = schema["type"]
        logical = schema.get("logicalType")
        if kind in ("record", "error"):
            name = str(schema["name"])
            if name in self.dec_cache:
                return lambda value: _call(self.dec_cache[name], value)
            self.dec_cache[name] = None
            inner = name.rpartition(".")[0] or None
            fields = [(f["name"], self.decoder(f["type"], inner)) for f in schema["fields"]]
            active = [(n, c) for n, c in fields if c is not None]
            convert: Convert | None = None
            if active:

                def convert(value: Any) -> Any:
                    for field_name, conv in active:
                        value[field_name] = conv(value[field_name])
                    return value

            self.dec_cache[name] = convert
            return convert
        if kind == "array":
            item = self.decoder(schema["items"], namespace)
            return None if item is None else (lambda value: [item(v) for v in value])
        if kind == "map":
            conv = self.decoder(schema["values"], namespace)
            return None if conv is None else (lambda value: {k: conv(v) for k, v in value.items()})
        if logical in ("timestamp-nanos", "local-timestamp-nanos"):
            epoch = _EPOCH if logical == "timestamp-nanos" else _NAIVE_EPOCH
            return lambda value: (
                value if isinstance(value, datetime) else epoch + (value // 1000) * _MICRO
            )
        if logical == "duration":
            return _decode_duration
        return None

    def _union_decoder(self, branches: list[Any], namespace: str | None) -> Convert | None:
        plan = []
        for branch in branches:
            resolved = _resolve(branch, self.named, namespace)
            plan.append((resolved, _branch_label(resolved), self.decoder(resolved, namespace)))
        if all(conv is None for _, _, conv in plan):
            return None

        def convert(value: Any) -> Any:
            if isinstance(value, tuple):  # fastavro's (record name, value) for record branches
                label, value = value
                for _, branch_label, conv in plan:
                    if branch_label == label:
                        return value if conv is None else conv(value)
            for resolved, _, conv in plan:
                if _matches_decoded(resolved, value):
                    return value if conv is None else conv(value)
            return value

        return convert


def _call(conv: Convert | None, value: Any) -> Any:
    return value if conv is None else conv(value)


def _record_encoder(fields: list[tuple[str, Convert | None]]) -> Convert:
    attr_maps: dict[type, dict[str, str]] = {}

    def convert(value: Any) -> Any:
        if isinstance(value, BaseModel):
            cls = type(value)
            attrs = attr_maps.get(cls)
            if attrs is None:
                attrs = {}
                for attr, info in cls.model_fields.items():
                    attrs[info.serialization_alias or info.alias or attr] = attr
                attr_maps[cls] = attrs
            data = value.__dict__
            return {
                name: (data[attrs[name]] if conv is None else conv(data[attrs[name]]))
                for name, conv in fields
            }
        return {name: (value[name] if conv is None else conv(value[name])) for name, conv in fields}

    return convert


def _encode_duration(value: Any) -> bytes:
    if isinstance(value, BaseModel):
        value = value.__dict__
    return struct.pack("<III", value["months"], value["days"], value["milliseconds"])


def _decode_duration(value: bytes) -> dict[str, int]:
    months, days, millis = struct.unpack("<III", value)
    return {"months": months, "days": days, "milliseconds": millis}


def _matches(schema: Any, value: Any) -> bool:
    """Whether a model value belongs to this union branch (the model already chose it)."""
    if isinstance(schema, str):
        if schema in ("int", "long"):
            return isinstance(value, int) and not isinstance(value, bool)
        return isinstance(value, _PRIMITIVE_TYPES[schema])
    kind = schema["type"]
    logical = schema.get("logicalType")
    if logical in _LOGICAL_TYPES:
        if logical.startswith("timestamp"):
            return isinstance(value, datetime) and value.tzinfo is not None
        if logical.startswith("local-timestamp"):
            return isinstance(value, datetime) and value.tzinfo is None
        if logical == "date":
            return isinstance(value, date) and not isinstance(value, datetime)
        return isinstance(value, _LOGICAL_TYPES[logical])
    if kind in ("record", "error"):
        if isinstance(value, BaseModel):
            return bool(getattr(type(value), "AVRO_NAME", None) == schema["name"])
        return isinstance(value, dict) and all(
            f["name"] in value or "default" in f for f in schema["fields"]
        )
    if kind == "enum":
        return isinstance(value, str) and value in schema["symbols"]
    if kind == "fixed":
        return isinstance(value, bytes) and len(value) == schema["size"]
    if kind == "array":
        return isinstance(value, list)
    if kind == "map":
        return isinstance(value, dict)
    return _matches(kind, value) if isinstance(kind, str) else False


def _matches_decoded(schema: Any, value: Any) -> bool:
    if isinstance(schema, dict) and schema.get("logicalType") in (
        "timestamp-nanos",
        "local-timestamp-nanos",
    ):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(schema, dict) and schema.get("logicalType") == "duration":
        return isinstance(value, bytes) and len(value) == 12
    return _matches(schema, value)


# --- framing and the codec ------------------------------------------------------------


class UnknownSchemaError(Exception):
    """A message names a writer schema (by id or fingerprint) this module does not embed."""

    def __init__(self, schema_id: int | None = None, fingerprint: bytes | None = None) -> None:
        self.schema_id = schema_id
        self.fingerprint = fingerprint
        what = f"id {schema_id}" if schema_id is not None else f"fingerprint {fingerprint!r}"
        super().__init__(f"unknown writer schema: {what}")


def fingerprint_of(schema_json: str) -> bytes:
    """CRC-64-AVRO of the Parsing Canonical Form, in single-object (little-endian) order."""
    canonical = to_parsing_canonical_form(parse_schema(json.loads(schema_json), named_schemas={}))
    return bytes.fromhex(str(_fingerprint(canonical, "CRC-64-AVRO")))


class Codec:
    """Encodes with the current schema; decodes data written with any embedded version."""

    def __init__(self, schema_id: int, writer_schemas: Mapping[int, str]) -> None:
        self.schema_id = schema_id
        current_json = json.loads(writer_schemas[schema_id])
        self.schema = parse_schema(current_json, named_schemas={})
        self.fingerprint = fingerprint_of(writer_schemas[schema_id])
        self.writers: dict[int, Any] = {
            sid: parse_schema(json.loads(text), named_schemas={})
            for sid, text in writer_schemas.items()
        }
        self.by_fingerprint: dict[bytes, int] = {
            fingerprint_of(text): sid for sid, text in writer_schemas.items()
        }
        converters = _Converters(current_json)
        self._to_avro = converters.encoder(current_json)
        self._from_avro = converters.decoder(current_json)

    def register_writer(self, schema_id: int, schema_json: str) -> None:
        """Add a writer schema learnt at run time (from a Schema Registry) to decode with."""
        self.writers[schema_id] = parse_schema(json.loads(schema_json), named_schemas={})
        self.by_fingerprint[fingerprint_of(schema_json)] = schema_id

    def to_avro_value(self, value: Any) -> Any:
        return value if self._to_avro is None else self._to_avro(value)

    def from_avro_value(self, value: Any) -> dict[str, Any]:
        out: dict[str, Any] = value if self._from_avro is None else self._from_avro(value)
        return out

    def encode_avro(self, value: Any) -> bytes:
        buffer = io.BytesIO()
        schemaless_writer(buffer, self.schema, self.to_avro_value(value))
        return buffer.getvalue()

    def decode_avro(self, body: bytes, writer_id: int | None = None) -> dict[str, Any]:
        sid = self.schema_id if writer_id is None else writer_id
        writer = self.writers.get(sid)
        if writer is None:
            raise UnknownSchemaError(sid)
        buffer = io.BytesIO(body)
        if sid == self.schema_id:
            value = schemaless_reader(buffer, writer, None, return_record_name=True)
        else:
            value = schemaless_reader(buffer, writer, self.schema, return_record_name=True)
        return self.from_avro_value(value)

    def encode_single_object(self, value: Any) -> bytes:
        return SINGLE_OBJECT_MAGIC + self.fingerprint + self.encode_avro(value)

    def decode_single_object(self, data: bytes) -> dict[str, Any]:
        if data[:2] != SINGLE_OBJECT_MAGIC or len(data) < 10:
            raise ValueError("not Avro single-object encoding (expected C3 01 + fingerprint)")
        fingerprint = bytes(data[2:10])
        sid = self.by_fingerprint.get(fingerprint)
        if sid is None:
            raise UnknownSchemaError(fingerprint=fingerprint)
        return self.decode_avro(data[10:], sid)

    def encode_confluent(self, value: Any, schema_id: int | None = None) -> bytes:
        sid = self.schema_id if schema_id is None else schema_id
        return CONFLUENT_MAGIC + struct.pack(">I", sid) + self.encode_avro(value)

    def decode_confluent(self, data: bytes) -> dict[str, Any]:
        if data[:1] != CONFLUENT_MAGIC or len(data) < 5:
            raise ValueError("not Confluent wire format (expected magic byte 0 + schema id)")
        (sid,) = struct.unpack(">I", data[1:5])
        if sid not in self.writers:
            raise UnknownSchemaError(sid)
        return self.decode_avro(data[5:], sid)


# --- keys, partitioning and the typed producer ---------------------------------------


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (the Java client's default partitioner hash), as a signed 32-bit int."""
    length = len(data)
    seed = 0x9747B28C
    m = 0x5BD1E995
    r = 24
    mask = 0xFFFFFFFF
    h = (seed ^ length) & mask
    blocks = length // 4
    for i in range(blocks):
        k = int.from_bytes(data[i * 4 : i * 4 + 4], "little")
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = (h * m) & mask
        h ^= k
    tail = length & 3
    base = blocks * 4
    if tail == 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def key_bytes(model: BaseModel, fields: tuple[str, ...]) -> bytes | None:
    """The message key: one string field as UTF-8 text, otherwise compact JSON.

    One field: its JSON value (strings, UUIDs, timestamps as their text, unquoted);
    several fields: a JSON object of those fields in key order. No fields: None.
    """
    if not fields:
        return None
    data = model.model_dump(mode="json", by_alias=True, include=None)
    if len(fields) == 1:
        value = data[fields[0]]
        if isinstance(value, str):
            return value.encode("utf-8")
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    subset = {name: data[name] for name in fields}
    return json.dumps(subset, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


M = TypeVar("M", bound=BaseModel)
Partitioner = Callable[[M, int], int]


class TypedProducer(Generic[M]):
    """Produces typed records of one stream with confluent-kafka (idempotent, acks=all).

    The partition: the caller's `partitioner(record, num_partitions)` when given; else,
    when the spec names `topic.partition_key` fields, Kafka's own default hash
    (murmur2 of those fields' key bytes, `& 0x7fffffff`, modulo the partition count),
    so a Java client keyed the same way agrees; else Kafka partitions by the key.

    Avro streams: with a Schema Registry (`registry`, else SCHEMA_REGISTRY_URL) records
    are Confluent-framed with the registry's id of the current schema under
    `<topic>-value`, looked up once (registered first when `auto_register`); it raises
    RegistryUnavailable / RegistryRefused rather than produce with a wrong id. An explicit
    `schema_id` is used as given; without either, Avro single-object encoding.
    """

    TOPIC: str = ""
    KEY_FIELDS: tuple[str, ...] = ()
    PARTITION_KEY_FIELDS: tuple[str, ...] = ()
    FORMAT: str = "json"

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        topic: str | None = None,
        schema_id: int | None = None,
        partitioner: Callable[[M, int], int] | None = None,
        config: Mapping[str, Any] | None = None,
        registry: SchemaRegistry | None = None,
        auto_register: bool = False,
    ) -> None:
        kafka = importlib.import_module("confluent_kafka")
        settings: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers,
            "enable.idempotence": True,
            "acks": "all",
        }
        settings.update(config or {})
        self.topic = topic or self.TOPIC
        self.schema_id = schema_id
        if schema_id is None and self.FORMAT == "avro":
            registry = registry or SchemaRegistry.from_env()
            if registry is not None:  # frame with the registry's id, never a local one
                self.schema_id = registry.schema_id_for(
                    f"{self.topic}-value", self._models_schema(), register=auto_register
                )
        self.partitioner = partitioner
        if partitioner is None and self.PARTITION_KEY_FIELDS:
            self.partitioner = self.default_partitioner
        self.producer: Any = kafka.Producer(settings)
        self._partitions: int | None = None

    def _models_schema(self) -> str:
        """SCHEMA_JSON of the generated module that defines this producer (or its base)."""
        for cls in type(self).__mro__:
            schema = getattr(sys.modules.get(cls.__module__), "SCHEMA_JSON", None)
            if isinstance(schema, str):
                return schema
        raise TypeError(f"{type(self).__name__} is not a generated models.Producer")

    def serialize(self, record: M) -> bytes:
        raise NotImplementedError

    def key(self, record: M) -> bytes | None:
        return key_bytes(record, self.KEY_FIELDS)

    def default_partitioner(self, record: M, num_partitions: int) -> int:
        data = key_bytes(record, self.PARTITION_KEY_FIELDS) or b""
        return (murmur2(data) & 0x7FFFFFFF) % num_partitions

    def num_partitions(self) -> int:
        if self._partitions is None:
            metadata = self.producer.list_topics(self.topic, timeout=10)
            topic = metadata.topics[self.topic]
            if topic.error is not None:
                raise RuntimeError(f"topic {self.topic!r}: {topic.error}")
            self._partitions = len(topic.partitions)
        return self._partitions

    def produce(
        self,
        record: M,
        *,
        headers: Mapping[str, bytes] | None = None,
        on_delivery: Callable[[Any, Any], None] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"key": self.key(record), "value": self.serialize(record)}
        if self.partitioner is not None:
            kwargs["partition"] = self.partitioner(record, self.num_partitions())
        if headers:
            kwargs["headers"] = list(headers.items())
        if on_delivery is not None:
            kwargs["on_delivery"] = on_delivery
        while True:
            try:
                self.producer.produce(self.topic, **kwargs)
                break
            except BufferError:
                self.producer.poll(0.1)
        self.producer.poll(0)

    def flush(self, timeout: float = 30.0) -> int:
        remaining: int = self.producer.flush(timeout)
        return remaining

    def __enter__(self) -> TypedProducer[M]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()
