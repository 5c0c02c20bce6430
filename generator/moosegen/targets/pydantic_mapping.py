"""The Avro -> Pydantic v2 type mapping, as a table, and the naming rules of generated code.

`TABLE` is the documented mapping (README renders it); `annotation()` applies it to
IR nodes. The aliases named here (`avro_codec.Int`, ...) live in the runtime module
`moosegen/runtime/avro_codec.py`, vendored into `generated/_runtime/`.
"""

from __future__ import annotations

import base64
import builtins
import json
import keyword
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from moosegen.pytext import pystr
from moosegen.runtime.avro_codec import branch_kinds, union_shape
from moosegen.schema.canonical import to_json
from moosegen.schema.ir import (
    Array,
    AvroType,
    Enum,
    Fixed,
    Map,
    Named,
    Primitive,
    Record,
    UnionType,
)


@dataclass(frozen=True)
class Row:
    avro: str
    model: str  # the annotation in the model (and the TypedDict unless `plain` differs)
    python: str  # the Python value a validated model holds
    json: str  # the JSON wire form
    note: str = ""


TABLE: tuple[Row, ...] = (
    Row("null", "None", "None", "null"),
    Row("boolean", "avro_codec.Boolean", "bool", "true/false", "strict: only booleans"),
    Row("int", "avro_codec.Int", "int", "number", 'strict (no "5" or 5.0), -2^31..2^31-1'),
    Row("long", "avro_codec.Long", "int", "number", "strict, -2^63..2^63-1"),
    Row(
        "float",
        "avro_codec.Float",
        "float",
        "number",
        "rounded to the nearest float32 on validation; finite values beyond float32 fail",
    ),
    Row("double", "avro_codec.Double", "float", "number", "strict (ints accepted)"),
    Row("bytes", "avro_codec.Bytes", "bytes", "base64 string", "strict bytes in Python"),
    Row("string", "avro_codec.String", "str", "string", "strict: only str"),
    Row(
        "bytes/fixed + decimal(P, S)",
        "Annotated[Decimal, avro_codec.DecimalDigits(P, S)]",
        "Decimal",
        'string "12.3400"',
        "at most P digits, S decimal places, P-S integer digits; quantized to S places",
    ),
    Row("string + uuid", "UUID", "uuid.UUID", "string"),
    Row(
        "string + json (also Debezium's io.debezium.data.Json)",
        "avro_codec.JsonObject",
        "dict[str, JsonValue]",
        "object",
        "a JSON object at the top, any JSON value inside (the guide's Dict[str, Any]); "
        "Avro carries its JSON text: invalid text makes the message invalid",
    ),
    Row("int + date", "date", "datetime.date", '"YYYY-MM-DD"'),
    Row(
        "int + time-millis",
        "avro_codec.TimeMillis",
        "datetime.time (naive)",
        '"HH:MM:SS.fff"',
        "truncated to milliseconds; aware times rejected",
    ),
    Row(
        "long + time-micros", "avro_codec.TimeMicros", "datetime.time (naive)", '"HH:MM:SS.ffffff"'
    ),
    Row(
        "long + timestamp-millis",
        "avro_codec.TimestampMillis",
        "datetime (aware, UTC)",
        'ISO-8601 "...Z"',
        "naive input rejected; converted to UTC; truncated to ms",
    ),
    Row(
        "long + timestamp-micros",
        "avro_codec.TimestampMicros",
        "datetime (aware, UTC)",
        'ISO-8601 "...Z"',
    ),
    Row(
        "long + timestamp-nanos",
        "avro_codec.TimestampNanos",
        "datetime (aware, UTC)",
        'ISO-8601 "...Z"',
        "microsecond precision: Avro nanos are floored to microseconds when read, "
        "written as micros*1000",
    ),
    Row(
        "long + local-timestamp-millis",
        "avro_codec.LocalTimestampMillis",
        "datetime (naive)",
        "ISO-8601 without offset",
        "aware input rejected; truncated to ms",
    ),
    Row(
        "long + local-timestamp-micros",
        "avro_codec.LocalTimestampMicros",
        "datetime (naive)",
        "ISO-8601 without offset",
    ),
    Row(
        "long + local-timestamp-nanos",
        "avro_codec.LocalTimestampNanos",
        "datetime (naive)",
        "ISO-8601 without offset",
        "microsecond precision, as timestamp-nanos",
    ),
    Row(
        "fixed(12) + duration",
        "avro_codec.Duration (TypedDict: avro_codec.DurationDict)",
        "Duration(months, days, milliseconds)",
        '{"months":..,"days":..,"milliseconds":..}',
        "each an unsigned 32-bit int; not a timedelta (months have no fixed length)",
    ),
    Row(
        "enum",
        "class X(str, Enum)",
        "member (a str)",
        "symbol string",
        "defaults are members; keyword/underscore symbols get a `_`-suffixed member name",
    ),
    Row(
        "fixed(N)",
        "Annotated[bytes, avro_codec.FixedSize(N)]",
        "bytes",
        "base64 string",
        "exactly N bytes",
    ),
    Row("array<T>", "list[T]", "list", "array"),
    Row("map<T>", "dict[str, T]", "dict", "object"),
    Row(
        "record",
        "class X(BaseModel) + class XDict(TypedDict)",
        "model / dict",
        "object",
        "same short name in two namespaces: both classes named by the full name "
        "(com.a.X -> ComAX); extra input keys ignored (forward compatibility)",
    ),
    Row(
        '["null", T]',
        "T | None",
        "value or None",
        "value or null",
        "default null -> `= None`; a non-null default keeps its value",
    ),
    Row(
        "[A, B, ...], no two non-null branches of one JSON kind",
        'Annotated[A | B, Field(union_mode="left_to_right")]',
        "first branch that validates, in Avro order",
        "the branch's JSON form",
        "null is placed last",
    ),
    Row(
        "[A, B, ...], two branches of one JSON kind (ambiguous)",
        'Annotated[A | B, avro_codec.AvroUnion("a", "b")]',
        "the plain value; its type says the branch",
        '{"branch": value} (Avro\'s JSON encoding); plain values accepted',
        "JSON kinds: number, string, object, array, boolean; a Tagged value or "
        "{branch: value} picks the branch, a plain one the best-fitting branch",
    ),
    Row(
        "[A, B, ...], two branches of one Python type (int/long, float/double, bytes/fixed, ...)",
        'Annotated[avro_codec.Tagged[A | B], avro_codec.AvroUnion("a", "b")]',
        'Tagged(branch, value), e.g. Tagged("long", 5)',
        '{"branch": value}',
        "the Avro branch survives decode, validation and encode; a plain value takes the "
        "first branch that validates, in Avro order",
    ),
)

LOGICAL = {
    "uuid": "UUID",
    "json": "avro_codec.JsonObject",
    "date": "date",
    "time-millis": "avro_codec.TimeMillis",
    "time-micros": "avro_codec.TimeMicros",
    "timestamp-millis": "avro_codec.TimestampMillis",
    "timestamp-micros": "avro_codec.TimestampMicros",
    "timestamp-nanos": "avro_codec.TimestampNanos",
    "local-timestamp-millis": "avro_codec.LocalTimestampMillis",
    "local-timestamp-micros": "avro_codec.LocalTimestampMicros",
    "local-timestamp-nanos": "avro_codec.LocalTimestampNanos",
}
# The TypedDict (row) form of the timestamps: the same accept/reject rules in
# pydantic-core alone (aware, resp. naive), without the model's Python after-validator
# that normalises to UTC and truncates to the unit; the column conversion to
# DateTime64 ticks floors the instant to the column's precision instead.
ROW_LOGICAL = {
    "timestamp-millis": "avro_codec.RowTimestamp",
    "timestamp-micros": "avro_codec.RowTimestamp",
    "local-timestamp-millis": "avro_codec.RowLocalTimestamp",
    "local-timestamp-micros": "avro_codec.RowLocalTimestamp",
}
PRIMITIVE = {
    "null": "None",
    "boolean": "avro_codec.Boolean",
    "int": "avro_codec.Int",
    "long": "avro_codec.Long",
    "float": "avro_codec.Float",
    "double": "avro_codec.Double",
    "bytes": "avro_codec.Bytes",
    "string": "avro_codec.String",
}
IMPORTS_FOR = {"UUID": ("uuid", "UUID"), "date": ("datetime", "date")}

# Names the module defines or imports; a generated class never takes one of them.
MODULE_NAMES = frozenset(
    {
        "MODEL",
        "ROWS",
        "SCHEMA_JSON",
        "CANONICAL_FORM",
        "FINGERPRINT",
        "FINGERPRINT_HEX",
        "SCHEMA_ID",
        "WRITER_SCHEMAS",
        "WRITER_FINGERPRINTS",
        "KEY_FIELDS",
        "DESTINATIONS",
        "UnknownSchemaError",
        "decode_avro",
        "decode_single_object",
        "decode_confluent",
        "encode_json",
        "encode_avro",
        "encode_single_object",
        "encode_confluent",
        "Producer",
        "avro_codec",
        "annotations",
        "Annotated",
        "Any",
        "ClassVar",
        "AliasChoices",
        "BaseModel",
        "Field",
        "TypeAdapter",
        "TypedDict",
        "Decimal",
        "Enum",
        "UUID",
        "date",
        "datetime",
        "time",
        "timezone",
        "Duration",
        "DurationDict",
        "CODEC",
    }
)
# Names a field attribute must not shadow in a class body: the builtins and module names
# that annotations use (`str: String` would turn a later `dict[str, ...]` into nonsense).
SHADOWED = frozenset({"str", "bytes", "int", "float", "bool", "list", "dict", "tuple", "type"})
# Attribute names a pydantic model may not use for a field.
MODEL_ATTRS = frozenset(
    {
        "copy",
        "dict",
        "json",
        "schema",
        "schema_json",
        "construct",
        "validate",
        "fields",
        "parse_obj",
        "parse_raw",
        "parse_file",
        "from_orm",
        "update_forward_refs",
        "AVRO_NAME",
        "model_config",
    }
)
ENUM_ATTRS = frozenset({"name", "value", "mro"})
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def pascal_namespace(named: Named) -> str:
    parts = (named.namespace or "").split(".") + [named.name]
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


def class_names(roots: list[Record]) -> dict[str, str]:
    """Avro full name -> Python class name, for every named type reachable from `roots`.

    The short name when it is unique in the module, else a name built from the full
    name; a name taken by the module gets a trailing `_`. Deterministic: it depends
    only on the names, never on order of discovery.
    """
    from moosegen.schema.ir import walk_named

    named: dict[str, Named] = {}
    for root in roots:
        for n in walk_named(root):
            named.setdefault(n.fullname, n)
    by_short: dict[str, list[str]] = {}
    for full, n in named.items():
        by_short.setdefault(n.name, []).append(full)
    # A class never takes a field's name either: in a class body the field would shadow
    # it (`RESOURCE: list[RESOURCE] | None = None` reads the field's own default).
    # Nor a builtin's: annotations say `list[...]`, `dict[...]`, `str`.
    taken = (
        set(MODULE_NAMES)
        | set(dir(builtins))
        | {f.name for n in named.values() if isinstance(n, Record) for f in n.fields}
    )
    out: dict[str, str] = {}
    for full in sorted(named):
        n = named[full]
        base = n.name if len(by_short[n.name]) == 1 else pascal_namespace(n)
        if keyword.iskeyword(base) or base.startswith("_"):
            base = base.lstrip("_") + "_" if base.lstrip("_") else "Record_"
        while base in taken or f"{base}Dict" in taken:
            base += "_"
        taken.update({base, f"{base}Dict"})
        out[full] = base
    return out


def attr_name(avro_name: str, taken: set[str]) -> str:
    """The Python attribute for an Avro field name (keywords, `_x` and model attributes moved)."""
    attr = avro_name
    if avro_name.startswith("_"):
        attr = (avro_name.lstrip("_") or "field") + "_"
    elif (
        keyword.iskeyword(attr)
        or attr in MODEL_ATTRS
        or attr in SHADOWED
        or attr in MODULE_NAMES
        or attr.startswith("model_")
    ):
        attr = attr + "_"
    while attr in taken:
        attr += "_"
    taken.add(attr)
    return attr


def member_name(symbol: str, taken: set[str]) -> str:
    member = symbol
    if keyword.iskeyword(symbol) or symbol in ENUM_ATTRS:
        member = symbol + "_"
    elif symbol.startswith("_"):
        member = (symbol.lstrip("_") or "SYMBOL") + "_"
    while member in taken:
        member += "_"
    taken.add(member)
    return member


class Types:
    """Turns IR nodes into annotations, collecting the imports they need."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.imports: set[tuple[str, str]] = set()
        self.uses_codec = False
        self.enum_members: dict[str, dict[str, str]] = {}

    def need(self, module: str, name: str) -> str:
        self.imports.add((module, name))
        return name

    def codec(self, text: str) -> str:
        self.uses_codec = True
        return text

    def decimal(self, precision: int | None, scale: int | None) -> str:
        self.need("typing", "Annotated")
        self.need("decimal", "Decimal")
        return self.codec(
            f"Annotated[Decimal, avro_codec.DecimalDigits({precision}, {scale or 0})]"
        )

    def annotation(self, t: AvroType, flavor: str, top: bool = False) -> str:
        """`flavor`: "model" (records as models) or "dict" (records as TypedDicts).

        `top`: the field's own type, whose union mode goes into the field's `Field(...)`.
        """
        if isinstance(t, Primitive):
            logical = t.logical  # the parser keeps only valid logical types
            if logical == "decimal":
                return self.decimal(t.precision, t.scale)
            if logical in LOGICAL:
                text = ROW_LOGICAL.get(logical, "") if flavor == "dict" else ""
                text = text or LOGICAL[logical]
                if text in IMPORTS_FOR:
                    return self.need(*IMPORTS_FOR[text])
                return self.codec(text)
            text = PRIMITIVE[t.name]
            return text if text == "None" else self.codec(text)
        if isinstance(t, Record):
            base = self.names[t.fullname]
            return base if flavor == "model" else f"{base}Dict"
        if isinstance(t, Enum):
            return self.names[t.fullname]
        if isinstance(t, Fixed):
            if t.logical == "decimal":
                return self.decimal(t.precision, t.scale)
            if t.logical == "duration" and t.size == 12:
                return self.codec(
                    "avro_codec.Duration" if flavor == "model" else "avro_codec.DurationDict"
                )
            self.need("typing", "Annotated")
            return self.codec(f"Annotated[bytes, avro_codec.FixedSize({t.size})]")
        if isinstance(t, Array):
            return f"list[{self.annotation(t.items, flavor)}]"
        if isinstance(t, Map):
            return f"dict[str, {self.annotation(t.values, flavor)}]"
        assert isinstance(t, UnionType)
        branches = [self.annotation(b, flavor) for b in t.non_null]
        ambiguous, tagged = shape_of(t)
        if ambiguous:
            inner = " | ".join(branches)
            if tagged and flavor == "model":
                inner = f"avro_codec.Tagged[{inner}]"
            names = [branch_name(b) for b in t.non_null] + (["null"] if t.is_nullable else [])
            if t.is_nullable:
                inner += " | None"
            self.need("typing", "Annotated")
            marker = ", ".join(json.dumps(n) for n in names)  # Avro names: plain ASCII
            return self.codec(f"Annotated[{inner}, avro_codec.AvroUnion({marker})]")
        if t.is_nullable:
            branches.append("None")
        if len(t.non_null) <= 1 or top:
            return " | ".join(branches)
        self.need("typing", "Annotated")
        self.need("pydantic", "Field")
        return f'Annotated[{" | ".join(branches)}, Field(union_mode="left_to_right")]'

    # --- defaults: Avro JSON default -> Python source --------------------------------

    def default(self, t: AvroType, value: Any) -> tuple[str, bool]:
        """Python source for an Avro JSON default; True when pydantic must validate it."""
        if isinstance(t, UnionType):
            for branch in t.branches:
                if json_matches(branch, value):
                    src, validate = self.default(branch, value)
                    if value is not None and shape_of(t)[1]:
                        src = self.codec(
                            f"avro_codec.Tagged({json.dumps(branch_name(branch))}, {src})"
                        )
                    return src, validate
            return "None", False
        if isinstance(t, (Record, Array, Map)):
            return self.literal(input_value(t, value)), True
        return self.scalar(t, value), False

    def scalar(self, t: AvroType, value: Any) -> str:
        if isinstance(t, Enum):
            members = self.enum_members[t.fullname]
            return f"{self.names[t.fullname]}.{members[value]}"
        if isinstance(t, Primitive) and t.logical == "uuid":
            return f"{self.need('uuid', 'UUID')}({pystr(value)})"
        return self.literal(input_value(t, value))

    def literal(self, value: Any) -> str:
        if value is None or isinstance(value, (bool, int)):
            return repr(value)
        if isinstance(value, float):
            return (
                repr(value)
                if value == value and abs(value) != float("inf")
                else (f'float("{value}")')
            )
        if isinstance(value, (str, bytes)):
            return repr(value)
        if isinstance(value, Decimal):
            return f'{self.need("decimal", "Decimal")}("{value}")'
        if isinstance(value, datetime):
            args = [
                str(value.year),
                str(value.month),
                str(value.day),
                str(value.hour),
                str(value.minute),
                str(value.second),
                str(value.microsecond),
            ]
            if value.tzinfo is not None:
                args.append(f"tzinfo={self.need('datetime', 'timezone')}.utc")
            return f"{self.need('datetime', 'datetime')}({', '.join(args)})"
        if isinstance(value, date):
            return f"{self.need('datetime', 'date')}({value.year}, {value.month}, {value.day})"
        if isinstance(value, time):
            return (
                f"{self.need('datetime', 'time')}({value.hour}, {value.minute}, "
                f"{value.second}, {value.microsecond})"
            )
        if isinstance(value, list):
            return "[" + ", ".join(self.literal(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k!r}: {self.literal(v)}" for k, v in value.items()) + "}"
        raise TypeError(f"no literal for {value!r}")


def branch_name(t: AvroType) -> str:
    """A union branch's name in Avro's JSON encoding (and in `avro_codec.Tagged`)."""
    if isinstance(t, Named):
        return t.fullname
    if isinstance(t, Array):
        return "array"
    if isinstance(t, Map):
        return "map"
    assert isinstance(t, Primitive)
    return t.name


def wants_union_mode(t: AvroType) -> bool:
    """Whether a field of type `t` needs `Field(union_mode="left_to_right")` (a union of
    several branches that `AvroUnion` does not already resolve)."""
    return isinstance(t, UnionType) and len(t.non_null) > 1 and not shape_of(t)[0]


def shape_of(t: UnionType) -> tuple[bool, bool]:
    """(ambiguous, tagged) of a union: the runtime's own rule (`avro_codec.union_shape`)."""
    kinds = [
        branch_kinds(to_json(b), b.fullname if isinstance(b, Named) else None) for b in t.branches
    ]
    return union_shape(kinds)


def json_matches(t: AvroType, value: Any) -> bool:
    """Whether an Avro JSON default value is valid for `t` (to pick a union branch)."""
    if isinstance(t, Primitive):
        return {
            "null": value is None,
            "boolean": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "long": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "double": isinstance(value, (int, float)) and not isinstance(value, bool),
            "bytes": isinstance(value, str),
            "string": isinstance(value, str),
        }[t.name]
    if isinstance(t, Enum):
        return isinstance(value, str) and value in t.symbols
    if isinstance(t, Fixed):
        return isinstance(value, str) and len(value) == t.size
    if isinstance(t, Array):
        return isinstance(value, list)
    if isinstance(t, (Map, Record)):
        return isinstance(value, dict)
    return any(json_matches(b, value) for b in t.branches)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_NAIVE_EPOCH = datetime(1970, 1, 1)


def input_value(t: AvroType, value: Any) -> Any:
    """An Avro JSON default as the model's Python input value (bytes are latin-1 strings)."""
    if isinstance(t, UnionType):
        for branch in t.branches:
            if json_matches(branch, value):
                return input_value(branch, value)
        return value
    if isinstance(t, Primitive):
        logical = t.logical  # the parser keeps only valid logical types
        if t.name in ("float", "double"):
            return float(value)
        if logical == "json":
            return json.loads(value)  # an Avro default is the JSON text
        if logical == "decimal":
            unscaled = int.from_bytes(value.encode("latin-1"), "big", signed=True)
            return Decimal(unscaled).scaleb(-(t.scale or 0))
        if t.name == "bytes":
            return value.encode("latin-1")
        if logical == "date":
            return date(1970, 1, 1) + timedelta(days=value)
        if logical in ("time-millis", "time-micros"):
            micros = value * 1000 if logical == "time-millis" else value
            return (datetime(1970, 1, 1) + timedelta(microseconds=micros)).time()
        if logical and "timestamp" in logical:
            epoch = _EPOCH if logical.startswith("timestamp") else _NAIVE_EPOCH
            unit = logical.rsplit("-", 1)[1]
            micros = {"millis": value * 1000, "micros": value, "nanos": value // 1000}[unit]
            return epoch + timedelta(microseconds=micros)
        return value
    if isinstance(t, Fixed):
        raw = value.encode("latin-1")
        if t.logical == "decimal":
            return Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-(t.scale or 0))
        if t.logical == "duration":
            months, days, millis = (int.from_bytes(raw[i : i + 4], "little") for i in (0, 4, 8))
            return {"months": months, "days": days, "milliseconds": millis}
        return raw
    if isinstance(t, Array):
        return [input_value(t.items, v) for v in value]
    if isinstance(t, Map):
        return {k: input_value(t.values, v) for k, v in value.items()}
    if isinstance(t, Record):
        out = {}
        for f in t.fields:
            if f.name in value:
                out[f.name] = input_value(f.type, value[f.name])
            elif f.has_default:
                out[f.name] = input_value(f.type, f.default)
        return out
    return value


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def is_identifier(name: str) -> bool:
    return bool(IDENT.match(name)) and not keyword.iskeyword(name)
