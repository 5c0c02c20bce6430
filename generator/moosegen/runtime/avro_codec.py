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
- `json` (a string with logicalType `json`, or Debezium's `io.debezium.data.Json`): a
  JSON object (`dict[str, JsonValue]`); in Avro its compact JSON text. The decoder
  hands the text to the model as `JsonText`, which validation parses, so invalid text
  is a validation error of that message, not a decoding one.
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
from typing import Annotated, Any, Generic, TypeVar, Union, cast, get_args, get_origin
from uuid import UUID

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import fingerprint as _fingerprint
from fastavro.schema import to_parsing_canonical_form
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    JsonValue,
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
    "AvroUnion",
    "Tagged",
    "Codec",
    "DecimalDigits",
    "Duration",
    "DurationDict",
    "FixedSize",
    "JsonObject",
    "JsonText",
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


class JsonText(str):
    """The JSON text of an Avro `json` string, as decoded: `JsonObject` parses it. Only
    this type is parsed; a plain str stays a str (the JSON wire form holds an object)."""

    __slots__ = ()


def _parse_json_text(value: Any) -> Any:
    if type(value) is not JsonText:
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        raise PydanticCustomError(
            "json_text_invalid",
            "invalid JSON text in an Avro json string: {error}",
            {"error": str(exc)},
        ) from None


# A free-form JSON object: the guide's `Dict[str, Any]`, restricted to what JSON can
# hold, so it always has a JSON text (Avro) and a ClickHouse JSON value.
JsonObject = Annotated[dict[str, JsonValue], BeforeValidator(_parse_json_text)]


def json_text(value: Any) -> str:
    """The compact JSON text of a `JsonObject` value, as Avro carries it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


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

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        """What the JSON wire takes (the stream's schema.json): a number below 10**(P-S)
        in magnitude, a multiple of 10**-S, or a plain decimal string with at most P-S
        significant digits before the point and S after it."""
        whole = self.precision - self.scale
        number: dict[str, Any] = {
            "type": "number",
            "exclusiveMinimum": -(10**whole),
            "exclusiveMaximum": 10**whole,
            "multipleOf": float(self.quantum) if self.scale else 1,
        }
        pattern = rf"^(?=[^0-9]*[0-9])[+-]?0*[0-9]{{0,{whole}}}(\.[0-9]{{0,{self.scale}}}0*)?$"
        return {"anyOf": [number, {"type": "string", "pattern": pattern}]}


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


# --- ambiguous unions ------------------------------------------------------------------
#
# A union is *ambiguous* when two of its non-null branches have the same JSON kind
# (number, string, object, array, boolean): its plain JSON value cannot say which
# branch it is. Such a union has the JSON form of Avro's JSON encoding, `{"branch":
# value}` (null stays null), and accepts plain values too. When two branches also have
# the same Python type (int/long, float/double, bytes/fixed, two decimals, two times,
# two durations), the model holds a `Tagged(branch, value)`; otherwise it holds the
# plain value, whose type says the branch. The generator and the codec decide with the
# same function, `union_shape`.

T = TypeVar("T")


class Tagged(tuple[str, T], Generic[T]):
    """A value of a union with its Avro branch name: `Tagged("long", 5)`.

    The branch is the name Avro's JSON encoding uses: a primitive type's name
    (`"long"`, also for logical types), a named type's full name, `"array"`, `"map"`.
    It is a 2-tuple, fastavro's own notation for writing a union branch.
    """

    __slots__ = ()

    def __new__(cls, branch: str, value: T) -> Tagged[T]:
        return tuple.__new__(cls, (branch, value))

    @property
    def branch(self) -> str:
        return self[0]

    @property
    def value(self) -> T:
        return self[1]


_JSON_KIND = {
    "null": "null",
    "boolean": "boolean",
    "int": "number",
    "long": "number",
    "float": "number",
    "double": "number",
    "bytes": "string",
    "string": "string",
    "enum": "string",
    "fixed": "string",
    "array": "array",
    "map": "object",
    "record": "object",
    "error": "object",
}
_PYTHON_KIND = {
    "int": "int",
    "long": "int",
    "float": "float",
    "double": "float",
    "bytes": "bytes",
    "fixed": "bytes",
    "decimal": "Decimal",
    "time-millis": "time",
    "time-micros": "time",
    "duration": "Duration",
}


def branch_kinds(schema: Any, fullname: str | None = None) -> tuple[str, str]:
    """(JSON kind, Python kind) of one resolved union branch (a named type: `fullname`)."""
    if isinstance(schema, str):
        return _JSON_KIND[schema], _PYTHON_KIND.get(schema, schema)
    kind = schema["type"]
    if not isinstance(kind, str) or kind not in _JSON_KIND:
        return branch_kinds(kind, fullname)
    logical = schema.get("logicalType")
    json_kind = _JSON_KIND[kind]
    if logical == "decimal" or (logical and logical.startswith(("date", "time", "local"))):
        json_kind = "string"  # decimals, dates, times and timestamps are JSON strings
    if logical in ("duration", "json"):
        json_kind = "object"
    if logical == "uuid":  # uuid on fixed(16) stays bytes in the model
        return json_kind, "UUID" if kind == "string" else "bytes"
    if logical in _PYTHON_KIND:
        return json_kind, _PYTHON_KIND[logical]
    if logical:
        return json_kind, logical
    if kind in ("record", "error", "enum"):
        return json_kind, f"{kind}:{fullname or schema['name']}"
    return json_kind, _PYTHON_KIND.get(kind, kind)


def union_shape(kinds: list[tuple[str, str]]) -> tuple[bool, bool]:
    """(ambiguous, tagged) for a union whose branches have these `branch_kinds`.

    ambiguous: two non-null branches share a JSON kind (the JSON form is `{"branch":
    value}`); tagged: two share a Python type too (the model holds `Tagged`).
    """
    present = [k for k in kinds if k[0] != "null"]
    json_kinds = [k[0] for k in present]
    python_kinds = [k[1] for k in present]
    ambiguous = len(set(json_kinds)) < len(json_kinds)
    return ambiguous, len(set(python_kinds)) < len(python_kinds)


def _instance_check(tp: Any) -> Callable[[Any], bool]:
    """Whether a validated value is of this branch annotation's Python type, exactly."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if tp is None or tp is type(None):
        return lambda value: value is None
    if tp is AwareDatetime:
        return lambda value: type(value) is datetime and value.tzinfo is not None
    if tp is NaiveDatetime:
        return lambda value: type(value) is datetime and value.tzinfo is None
    origin = get_origin(tp) or tp
    return lambda value: type(value) is origin


class AvroUnion:
    """`Annotated[A | B, AvroUnion("a", "b")]`: an ambiguous union (see `union_shape`).

    The names are the Avro branch names in the order of the annotation's members;
    `Annotated[Tagged[A | B] | None, AvroUnion("a", "b", "null")]` holds `Tagged`
    values. Input: a `Tagged`/`(branch, value)` (Python) or `{"branch": value}` (JSON)
    goes to its branch; a plain value to the first branch, in Avro order, that takes
    it (`Tagged`), or to the branch its type matches best (pydantic's smart union).
    JSON output: `{"branch": value}`; null stays null.
    """

    def __init__(self, *branches: str) -> None:
        self.branches = branches

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        members: list[Any] = []
        keep = False
        for arg in get_args(source) if get_origin(source) in _UNIONS else (source,):
            if get_origin(arg) is Tagged:
                keep = True
                inner = get_args(arg)[0]
                members.extend(get_args(inner) if get_origin(inner) in _UNIONS else [inner])
            else:
                members.append(arg)
        if len(members) != len(self.branches):
            raise TypeError(f"AvroUnion{self.branches} needs one name per member of {source}")
        names = list(self.branches)
        schemas = [handler.generate_schema(m) for m in members]
        checks = [_instance_check(m) for m in members]

        def tagger(name: str) -> Callable[[Any], Any]:
            if not keep or name == "null":
                return lambda value: value
            return lambda value: Tagged(name, value)

        tags = [tagger(n) for n in names]
        tagged = [
            core_schema.no_info_after_validator_function(t, s)
            for t, s in zip(tags, schemas, strict=True)
        ]
        plain = core_schema.union_schema(
            _choices(tagged if keep else schemas), mode="left_to_right" if keep else "smart"
        )
        python_choices: dict[Any, CoreSchema] = {
            n: core_schema.no_info_before_validator_function(_untag, s)
            for n, s in zip(names, tagged, strict=True)
        }
        json_choices: dict[Any, CoreSchema] = {
            n: core_schema.no_info_after_validator_function(
                _take(n, t),
                core_schema.typed_dict_schema(
                    {n: core_schema.typed_dict_field(s)},
                    extra_behavior="forbid",
                    config=_TAG_CONFIG,  # a typed dict's own config: JSON bytes as base64
                ),
            )
            for n, s, t in zip(names, schemas, tags, strict=True)
        }
        known = frozenset(names)

        def python_tag(value: Any) -> str | None:
            if type(value) in (Tagged, tuple) and len(value) == 2 and value[0] in known:
                return str(value[0])
            return None

        def json_tag(value: Any) -> str | None:
            if isinstance(value, dict) and len(value) == 1:
                key = next(iter(value))
                return key if key in known else None
            return None

        def serialize(
            value: Any,
            nxt: core_schema.SerializerFunctionWrapHandler,
            info: core_schema.SerializationInfo,
        ) -> Any:
            if value is None:
                return None
            if info.mode != "json":
                return Tagged(value[0], nxt(value[1])) if isinstance(value, Tagged) else nxt(value)
            if isinstance(value, Tagged):
                return {value.branch: nxt(value.value)}
            for name, check in zip(names, checks, strict=True):
                if check(value):
                    return {name: nxt(value)}
            return nxt(value)

        def either(choices: dict[Any, CoreSchema], tag: Callable[[Any], str | None]) -> CoreSchema:
            by_tag = core_schema.tagged_union_schema(choices, tag)
            return core_schema.union_schema([by_tag, plain], mode="left_to_right")

        return core_schema.json_or_python_schema(
            json_schema=either(json_choices, json_tag),
            python_schema=either(python_choices, python_tag),
            serialization=core_schema.wrap_serializer_function_ser_schema(
                serialize,
                schema=core_schema.union_schema(_choices(schemas)),
                info_arg=True,
            ),
        )


_UNIONS = (Union, type(int | str))
_TAG_CONFIG = core_schema.CoreConfig(
    val_json_bytes="base64", ser_json_bytes="base64", ser_json_inf_nan="constants"
)


def _choices(schemas: list[Any]) -> list[CoreSchema | tuple[CoreSchema, str]]:
    return list(schemas)


def _untag(value: Any) -> Any:
    return value[1]


def _take(name: str, tag: Callable[[Any], Any]) -> Callable[[dict[str, Any]], Any]:
    return lambda value: tag(value[name])


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
        full = schema.lstrip(".") if "." in schema or not namespace else f"{namespace}.{schema}"
        return named.get(full, named.get(schema, schema))
    return schema


def _fullname(schema: dict[str, Any], namespace: str | None) -> str:
    name = str(schema["name"])
    if "." in name:
        return name.lstrip(".")
    space = schema.get("namespace", namespace)
    return f"{space}.{name}" if space else name


def _index_named(schema: Any, named: dict[str, Any], namespace: str | None = None) -> None:
    if isinstance(schema, list):
        for branch in schema:
            _index_named(branch, named, namespace)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "error", "enum", "fixed"):
            name = _fullname(schema, namespace)
            named[name] = schema
            inner = name.rpartition(".")[0] or None
            for field in schema.get("fields", []):
                _index_named(field["type"], named, inner)
        elif kind == "array":
            _index_named(schema["items"], named, namespace)
        elif kind == "map":
            _index_named(schema["values"], named, namespace)
        elif isinstance(kind, (dict, list)):
            _index_named(kind, named, namespace)


_BRANCH_PROPERTY = "moosegen.branch"  # marks a wrapper record (see `_wrap_branches`)


class _Converters:
    """Builds, per schema node, a converter to fastavro values and one back; None = identity.

    Every union branch is known by its Avro name (`Tagged.branch`); fastavro writes a
    `(name, value)` tuple in that branch and, with `return_named_type`, reads a named
    branch as one.
    """

    def __init__(self, schema: Any) -> None:
        self.named: dict[str, Any] = {}
        _index_named(schema, self.named)
        self.fullnames = {id(s): full for full, s in self.named.items()}
        self.enc_cache: dict[str, Convert | None] = {}
        self.dec_cache: dict[str, Convert | None] = {}

    def label(self, schema: Any) -> str:
        """The branch name of a resolved schema: primitive, full name, "array", "map"."""
        if isinstance(schema, str):
            return schema
        if id(schema) in self.fullnames:
            return self.fullnames[id(schema)]
        kind = schema["type"]
        return str(kind) if isinstance(kind, str) else self.label(kind)

    def shape(self, branches: list[Any]) -> tuple[bool, bool]:
        kinds = [branch_kinds(b, self.fullnames.get(id(b))) for b in branches]
        return union_shape(kinds)

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
            name = self.label(schema)
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
            return str if kind == "string" else None
        if logical == "json" and kind == "string":
            return json_text
        if kind == "enum":
            return lambda value: value.value if isinstance(value, Enum) else value
        if not isinstance(kind, str):
            return self.encoder(kind, namespace)
        return None

    def _union_encoder(self, branches: list[Any], namespace: str | None) -> Convert:
        plan: list[tuple[Any, str, Convert | None]] = []
        for branch in branches:
            resolved = _resolve(branch, self.named, namespace)
            plan.append((resolved, self.label(resolved), self.encoder(resolved, namespace)))
        by_label = {label: conv for _, label, conv in plan}
        fullnames = self.fullnames

        def convert(value: Any) -> Any:
            if isinstance(value, Tagged):  # the branch the model kept
                conv = by_label[value.branch]
                return (value.branch, value.value if conv is None else conv(value.value))
            for exact in (True, False):
                for resolved, label, conv in plan:
                    if _matches(resolved, value, exact, fullnames):
                        return (label, value if conv is None else conv(value))
            raise ValueError(f"{value!r} matches no branch of the union {list(by_label)}")

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
            name = self.label(schema)
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
        if logical == "json" and kind == "string":
            return JsonText
        if not isinstance(kind, str):
            return self.decoder(kind, namespace)
        return None

    def _union_decoder(self, branches: list[Any], namespace: str | None) -> Convert | None:
        """fastavro gives a branch of a union with two or more named branches as `(full
        name, value)` (a wrapper record: `(wrapper, {"value": v})`), other unions plain:
        the model input is `Tagged(branch, value)` for an ambiguous union, else the
        plain value."""
        plan: list[tuple[Any, str, Convert | None]] = []
        by_label: dict[str, tuple[str, Convert | None, bool]] = {}
        originals = []
        for branch in branches:
            resolved = _resolve(branch, self.named, namespace)
            wrapped = isinstance(resolved, dict) and _BRANCH_PROPERTY in resolved
            inner = resolved["fields"][0]["type"] if wrapped else resolved
            if wrapped:
                inner = _resolve(inner, self.named, namespace)
            label = str(resolved[_BRANCH_PROPERTY]) if wrapped else self.label(resolved)
            conv = self.decoder(inner, namespace)
            plan.append((inner, label, conv))
            by_label[self.label(resolved)] = (label, conv, wrapped)
            originals.append(inner)
        ambiguous = self.shape(originals)[0]
        fullnames = self.fullnames
        named = sum(id(b) in fullnames for b in originals)
        if not ambiguous and named < 2 and all(conv is None for _, _, conv in plan):
            return None

        def convert(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is tuple:
                label, conv, wrapped = by_label[value[0]]
                value = value[1]["value"] if wrapped else value[1]
            else:
                found = next((p for p in plan if _matches_decoded(p[0], value, fullnames)), None)
                if found is None:
                    return value
                label, conv = found[1], found[2]
            if conv is not None:
                value = conv(value)
            return Tagged(label, value) if ambiguous else value

        return convert


def _wrap_branches(
    schema: Any, conv: _Converters, namespace: str | None = None, counter: list[int] | None = None
) -> Any:
    """A copy of `schema` where each unnamed branch of an ambiguous union is a one-field
    record: the same binary encoding (a record is its fields), but fastavro then reads
    the branch back by name."""
    counter = [0] if counter is None else counter
    if isinstance(schema, list):
        resolved = [_resolve(b, conv.named, namespace) for b in schema]
        ambiguous = conv.shape(resolved)[0]
        out = []
        for branch, res in zip(schema, resolved, strict=True):
            branch = _wrap_branches(branch, conv, namespace, counter)
            if ambiguous and res != "null" and id(res) not in conv.fullnames:
                counter[0] += 1
                label = conv.label(res)
                branch = {
                    "type": "record",
                    "name": f"__moosegen_branch_{counter[0]}",
                    "namespace": "",
                    _BRANCH_PROPERTY: label,
                    "fields": [{"name": "value", "type": branch}],
                }
            out.append(branch)
        return out
    if isinstance(schema, dict):
        kind = schema.get("type")
        copy = dict(schema)
        if kind in ("record", "error"):
            inner = _fullname(schema, namespace).rpartition(".")[0] or None
            copy["fields"] = [
                {**f, "type": _wrap_branches(f["type"], conv, inner, counter)}
                for f in schema["fields"]
            ]
        elif kind == "array":
            copy["items"] = _wrap_branches(schema["items"], conv, namespace, counter)
        elif kind == "map":
            copy["values"] = _wrap_branches(schema["values"], conv, namespace, counter)
        elif isinstance(kind, (dict, list)):
            copy["type"] = _wrap_branches(kind, conv, namespace, counter)
        return copy
    return schema


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


def _matches(schema: Any, value: Any, exact: bool, fullnames: dict[int, str]) -> bool:
    """Whether a model value belongs to this union branch. `exact`: by its own type only
    (an enum member to its enum, a plain str to string, a model to its record)."""
    if isinstance(schema, str):
        if schema in ("int", "long"):
            bits = 31 if schema == "int" else 63
            return type(value) is int and -(2**bits) <= value < 2**bits
        if schema in ("float", "double"):
            return type(value) is float or (not exact and type(value) is int)
        if schema == "boolean":
            return type(value) is bool
        if schema == "string":
            return isinstance(value, str) and not (exact and isinstance(value, Enum))
        return isinstance(value, _PRIMITIVE_TYPES[schema])
    kind = schema["type"]
    logical = schema.get("logicalType")
    if logical == "json" and kind == "string":
        return isinstance(value, dict)
    if logical in _LOGICAL_TYPES and (logical != "uuid" or kind == "string"):
        if logical.startswith("timestamp"):
            return isinstance(value, datetime) and value.tzinfo is not None
        if logical.startswith("local-timestamp"):
            return isinstance(value, datetime) and value.tzinfo is None
        if logical == "date":
            return isinstance(value, date) and not isinstance(value, datetime)
        if logical == "uuid" and exact:
            return isinstance(value, UUID)
        return isinstance(value, _LOGICAL_TYPES[logical])
    if kind in ("record", "error"):
        if isinstance(value, BaseModel):
            return bool(getattr(type(value), "AVRO_NAME", None) == fullnames.get(id(schema)))
        return (
            not exact
            and isinstance(value, dict)
            and all(f["name"] in value or "default" in f for f in schema["fields"])
        )
    if kind == "enum":
        if isinstance(value, Enum):
            return value.value in schema["symbols"]
        return not exact and isinstance(value, str) and value in schema["symbols"]
    if kind == "fixed":
        return isinstance(value, bytes) and len(value) == schema["size"]
    if kind == "array":
        return isinstance(value, list)
    if kind == "map":
        return isinstance(value, dict)
    return _matches(kind, value, exact, fullnames)


def _matches_decoded(schema: Any, value: Any, fullnames: dict[int, str]) -> bool:
    if isinstance(schema, dict) and schema.get("logicalType") in (
        "timestamp-nanos",
        "local-timestamp-nanos",
    ):
        return type(value) is int
    if isinstance(schema, dict) and schema.get("logicalType") == "duration":
        return isinstance(value, bytes) and len(value) == 12
    if isinstance(schema, dict) and schema.get("logicalType") == "json":
        return type(value) is str
    return _matches(schema, value, False, fullnames)


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


def _read(buffer: io.BytesIO, writer: Any, reader: Any) -> Any:
    """A union with two or more named branches is read as `(name, value)`; every
    ambiguous union has them (its unnamed branches are wrapped), others read plain."""
    return schemaless_reader(
        buffer, writer, reader, return_named_type=True, return_named_type_override=True
    )


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
        # Data of an older version is resolved into the current schema: the unnamed
        # branches of an ambiguous union (and a named one beside them) come back plain,
        # and the model takes the branch that fits. The current version is read through
        # the wrapped schema, which keeps every branch.
        self._from_resolved = converters.decoder(current_json)
        wrapped = _wrap_branches(current_json, converters)
        self.read_schema = parse_schema(wrapped, named_schemas={})
        self._from_avro = _Converters(wrapped).decoder(wrapped)

    def register_writer(self, schema_id: int, schema_json: str) -> None:
        """Add a writer schema learnt at run time (from a Schema Registry) to decode with."""
        self.writers[schema_id] = parse_schema(json.loads(schema_json), named_schemas={})
        self.by_fingerprint[fingerprint_of(schema_json)] = schema_id

    def to_avro_value(self, value: Any) -> Any:
        return value if self._to_avro is None else self._to_avro(value)

    def from_avro_value(self, value: Any, resolved: bool = False) -> dict[str, Any]:
        """fastavro's value (read with `return_named_type`) as model input values."""
        conv = self._from_resolved if resolved else self._from_avro
        out: dict[str, Any] = value if conv is None else conv(value)
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
            value = _read(buffer, self.read_schema, None)
            return self.from_avro_value(value)
        value = _read(buffer, writer, self.schema)
        return self.from_avro_value(value, resolved=True)

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
