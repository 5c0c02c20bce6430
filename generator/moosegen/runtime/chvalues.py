# Copied by `moosegen build` into generated/_runtime/. DO NOT EDIT the copy.
"""Python values (pydantic python mode) → clickhouse-connect insert values, per column type.

`column_converter(ch_type)` returns a function for one value of a column of that
ClickHouse type, or None when clickhouse-connect takes the value as it is. It is
driven by the type string alone, so a consumer builds one converter per column
once and maps it over the column:

    conv = column_converter("Nullable(Enum8('a' = 1, 'b' = 2))")
    column = values if conv is None else [conv(v) for v in values]

What clickhouse-connect 1.12 needs, and why each converter exists (it corrupts
silently on bad values instead of failing, so every converter validates):

- Int8..Int64, UInt8..UInt64: an int (not a bool), range-checked (it would wrap).
- Float32/64, Bool, String: taken as they are (no converter). Avro bytes go into
  String as bytes; read them back with `column_formats={col: "bytes"}`.
- Decimal(P, S): Decimal/int/str → Decimal, checked to fit P digits and S places
  (an out-of-range value is mangled).
- Enum8/Enum16: an enum.Enum member or str → the symbol str, checked (an unknown
  symbol is stored as 0; a str-mixin member hashes by its name and misses).
- DateTime64(p[, tz]): aware datetime (naive = UTC wall clock) or int ticks →
  exact int ticks since the epoch (no float, no process time zone).
- Date32: date (a datetime is cut to its date). Time64(p): time, timedelta or
  int ticks → int ticks. UUID: UUID or str → UUID.
- FixedString(N): bytes (or str, UTF-8) of exactly N bytes.
- Array(T), Map(String, V): list / dict, elements converted.
- Tuple(a T, ...): dict (missing keys → None), tuple/list or pydantic model → a
  tuple in element order. The Avro duration tuple
  Tuple(months UInt32, days UInt32, milliseconds UInt32) also takes the 12
  Avro bytes (little-endian) or a timedelta.
- Variant(T1, ...): `TypedVariant(value, branch)` for the first branch, in
  declared (Avro) order, that accepts the Python value; clickhouse-connect's own
  dispatch fails on bytes, Decimal, dict and branches sharing a Python type.
- JSON(...): a dict (a validated JSON object) → its compact JSON text, which both the
  Native and the Arrow path insert (ClickHouse parses it; a null inside an object is
  not stored, nulls inside arrays are); a str is taken as JSON text already.
- Nullable(T), LowCardinality(T): None passes, else T's conversion.
- None in a non-Nullable Array, Map or Tuple (an Avro `["null", T]` that ClickHouse
  cannot make Nullable; the build warned CH_NULLABLE_COMPOSITE) becomes the type's
  empty value: [], {}, a tuple of its elements' empty values.
- String, as a whole column (`text_column_converter`) or inside an Array, Map or
  Tuple: a dict or list (a recursive record below the cut, stored as JSON) becomes its
  JSON text (keys in field order, bytes as base64, like the model's JSON form); a
  column mixing str and bytes (an Avro ["bytes", "string"]) is written as bytes.
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import enum
import functools
import importlib
import itertools
import json
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Converter = Callable[[Any], Any]

_INT_RANGES = {
    "Int8": (-(2**7), 2**7 - 1),
    "Int16": (-(2**15), 2**15 - 1),
    "Int32": (-(2**31), 2**31 - 1),
    "Int64": (-(2**63), 2**63 - 1),
    "UInt8": (0, 2**8 - 1),
    "UInt16": (0, 2**16 - 1),
    "UInt32": (0, 2**32 - 1),
    "UInt64": (0, 2**64 - 1),
}
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_DURATION = ("months", "days", "milliseconds")


# ------------------------------------------------------------------ type parsing


@dataclass
class CHType:
    """A parsed ClickHouse type: `Name(args)`; Tuple args carry element names, Enum args pairs."""

    name: str
    args: list[CHType] = field(default_factory=list)
    names: list[str | None] = field(default_factory=list)
    params: list[int | str] = field(default_factory=list)
    enum: list[tuple[str, int]] = field(default_factory=list)
    raw: str | None = None  # JSON(...)'s settings, typed paths and SKIPs, as written

    def __str__(self) -> str:
        if self.raw is not None:
            return f"{self.name}({self.raw})"
        if self.enum:
            inner = ", ".join(f"{quote_string(s)} = {n}" for s, n in self.enum)
            return f"{self.name}({inner})"
        if self.args:
            parts = [
                (f"{quote_identifier(n)} {a}" if n is not None else str(a))
                for n, a in zip(self.names, self.args, strict=True)
            ]
            return f"{self.name}({', '.join(parts)})"
        if self.params:
            inner = ", ".join(
                quote_string(p) if isinstance(p, str) else str(p) for p in self.params
            )
            return f"{self.name}({inner})"
        return self.name


def quote_identifier(name: str) -> str:
    """A backtick-quoted identifier, with backslash escapes ClickHouse reads back exactly."""
    return "`" + _escape(name, "`") + "`"


def quote_string(value: str) -> str:
    """A single-quoted string literal; control characters are escaped, so it is one line."""
    return "'" + _escape(value, "'") + "'"


def _escape(text: str, quote: str) -> str:
    out = []
    for ch in text:
        if ch == "\\" or ch == quote:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


class _Tokens:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self._skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            raise ValueError(f"bad ClickHouse type {self.text!r}: expected {ch!r} at {self.pos}")
        self.pos += 1

    def word(self) -> str:
        self._skip()
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] == "_"
        ):
            self.pos += 1
        if start == self.pos:
            raise ValueError(f"bad ClickHouse type {self.text!r}: expected a name at {self.pos}")
        return self.text[start : self.pos]

    def quoted(self) -> str:
        self._skip()
        quote = self.text[self.pos]
        self.pos += 1
        out = []
        while True:
            if self.pos >= len(self.text):
                raise ValueError(f"bad ClickHouse type {self.text!r}: unterminated quote")
            ch = self.text[self.pos]
            self.pos += 1
            if ch == "\\":
                nxt = self.text[self.pos]
                self.pos += 1
                if nxt == "x":
                    out.append(chr(int(self.text[self.pos : self.pos + 2], 16)))
                    self.pos += 2
                else:
                    out.append({"n": "\n", "r": "\r", "t": "\t", "0": "\0"}.get(nxt, nxt))
            elif ch == quote:
                if self.text[self.pos : self.pos + 1] == quote:  # doubled quote
                    out.append(quote)
                    self.pos += 1
                else:
                    return "".join(out)
            else:
                out.append(ch)

    def group(self) -> str:
        """The text up to the `)` closing an opened `(`, quotes and nesting respected."""
        start, depth = self.pos, 0
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch in "'`\"":
                self.quoted()
                continue
            self.pos += 1
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    return self.text[start : self.pos - 1].strip()
                depth -= 1
        raise ValueError(f"bad ClickHouse type {self.text!r}: unbalanced parentheses")

    def number(self) -> int:
        self._skip()
        start = self.pos
        if self.text[self.pos] == "-":
            self.pos += 1
        while self.pos < len(self.text) and self.text[self.pos].isdigit():
            self.pos += 1
        return int(self.text[start : self.pos])


def parse_type(text: str) -> CHType:
    """Parse a ClickHouse type string as DESCRIBE TABLE or moosegen writes it."""
    tokens = _Tokens(text)
    result = _parse(tokens)
    if tokens.peek():
        raise ValueError(f"bad ClickHouse type {text!r}: trailing text at {tokens.pos}")
    return result


def _parse(tokens: _Tokens) -> CHType:
    node = CHType(tokens.word())
    if tokens.peek() != "(":
        return node
    tokens.expect("(")
    if node.name == "JSON":  # `JSON(max_dynamic_paths=N, a.b UInt32, SKIP c)`: kept as text
        node.raw = tokens.group()
        return node
    while tokens.peek() != ")":
        ch = tokens.peek()
        if ch == "'":
            value = tokens.quoted()
            if tokens.peek() == "=":
                tokens.expect("=")
                node.enum.append((value, tokens.number()))
            else:
                node.params.append(value)
        elif ch.isdigit() or ch == "-":
            node.params.append(tokens.number())
        elif ch == "`":
            node.names.append(tokens.quoted())
            node.args.append(_parse(tokens))
        else:
            save = tokens.pos
            word = tokens.word()
            nxt = tokens.peek()
            if nxt and (nxt.isalpha() or nxt == "_"):  # `name Type` inside a Tuple
                node.names.append(word)
                node.args.append(_parse(tokens))
            else:
                tokens.pos = save
                node.names.append(None)
                node.args.append(_parse(tokens))
        if tokens.peek() == ",":
            tokens.expect(",")
    tokens.expect(")")
    return node


# ------------------------------------------------------------------ converters


def column_converter(ch_type: str) -> Converter | None:
    """A converter for values of one column of `ch_type`, or None when values go in as they are."""
    return _converter(parse_type(ch_type))


def _converter(t: CHType) -> Converter | None:
    name = t.name
    if name == "Nullable":
        inner = _converter(t.args[0])
        if inner is None:
            return None
        return lambda v: None if v is None else inner(v)
    if name == "LowCardinality":
        return _converter(t.args[0])
    if name in _INT_RANGES:
        return _int_converter(name, *_INT_RANGES[name])
    if name.startswith("Decimal"):
        return _decimal_converter(t)
    if name in ("Enum8", "Enum16"):
        return _enum_converter(t)
    if name == "DateTime64":
        return _datetime64_converter(int(t.params[0]))
    if name == "Date32" or name == "Date":
        return _date
    if name == "Time64":
        return _time64_converter(int(t.params[0]))
    if name == "UUID":
        return _uuid
    if name == "FixedString":
        return _fixed_converter(int(t.params[0]))
    if name == "Array":
        return _or_empty(t, _array_converter(_element(t.args[0])))
    if name == "Map":
        return _or_empty(t, _map_converter(_element(t.args[1])))
    if name == "Tuple":
        return _or_empty(t, _tuple_converter(t))
    if name == "Variant":
        return _variant_converter(t)
    if name == "JSON":
        return _json_text
    return None


def _json_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    raise TypeError(f"JSON needs a dict (a JSON object) or JSON text, got {type(v).__name__}")


_COMPOSITES = ("Array", "Map", "Tuple")


def empty_value(t: CHType) -> Any:
    """What ClickHouse stores for a value of `t` left out: None, [], {}, 0, '', ..."""
    name = t.name
    if name in ("Nullable", "Variant", "Nothing"):
        return None
    if name == "LowCardinality":
        return empty_value(t.args[0])
    if name == "Array":
        return []
    if name == "Map":
        return {}
    if name == "Tuple":
        return tuple(empty_value(a) for a in t.args)
    if name in _INT_RANGES or name == "Bool":
        return False if name == "Bool" else 0
    if name.startswith(("Float", "Decimal")):
        return decimal.Decimal(0) if name.startswith("Decimal") else 0.0
    if name in ("String", "FixedString"):
        return "" if name == "String" else b"\0" * int(t.params[0])
    if name.startswith(("Enum", "DateTime", "Date", "Time")):
        return 0
    if name == "UUID":
        return uuid.UUID(int=0)
    return None


def _or_empty(t: CHType, conv: Converter | None) -> Converter | None:
    """`conv`, with None replaced by the empty value of a non-Nullable composite `t`."""
    if t.name not in _COMPOSITES:
        return conv
    empty = empty_value(t)

    def convert(v: Any) -> Any:
        if v is None:
            return type(empty)(empty) if t.name != "Tuple" else empty
        return v if conv is None else conv(v)

    return convert


def _element(t: CHType) -> Converter | None:
    """The converter of a value inside an Array, Map or Tuple: None of a non-Nullable
    composite becomes its empty value; a String takes JSON text for a dict or list."""
    allowed = _text_types(t)
    if allowed is None:
        return _or_empty(t, _converter(t))
    if type(None) in allowed:
        return lambda v: None if v is None else _string(v)
    return _string


def _json_default(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        return v.isoformat().replace("+00:00", "Z")
    if isinstance(v, (decimal.Decimal, uuid.UUID)):
        return str(v)
    if hasattr(v, "model_dump"):
        return v.model_dump(mode="json", by_alias=True)
    raise TypeError(f"{type(v).__name__} has no JSON form")


def _string(v: Any) -> Any:
    if isinstance(v, (str, bytes)):
        return v
    if isinstance(v, (dict, list, tuple)) or hasattr(v, "model_dump"):
        return json.dumps(v, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    raise TypeError(f"String needs a str or bytes, got {type(v).__name__}")


def _int_converter(name: str, lo: int, hi: int) -> Converter:
    def convert(v: Any) -> int:
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"{name} needs an int, got {type(v).__name__}")
        if not lo <= v <= hi:
            raise ValueError(f"{v} does not fit {name}")
        return v

    return convert


def _decimal_converter(t: CHType) -> Converter:
    if t.name == "Decimal":
        precision, scale = int(t.params[0]), int(t.params[1])
    else:  # Decimal32(S) ...
        precision = {"Decimal32": 9, "Decimal64": 18, "Decimal128": 38, "Decimal256": 76}[t.name]
        scale = int(t.params[0])
    limit = decimal.Decimal(10) ** (precision - scale)
    label = f"Decimal({precision}, {scale})"

    def convert(v: Any) -> decimal.Decimal:
        if isinstance(v, bool) or not isinstance(v, (decimal.Decimal, int, str)):
            raise TypeError(f"{label} needs a Decimal, got {type(v).__name__}")
        d = decimal.Decimal(v)
        if not d.is_finite():
            raise ValueError(f"{v} does not fit {label}")
        exponent = d.as_tuple().exponent
        if (
            isinstance(exponent, int)
            and exponent < -scale
            and d != d.quantize(decimal.Decimal(1).scaleb(-scale))
        ):
            raise ValueError(f"{v} has more than {scale} decimal places for {label}")
        if abs(d) >= limit:
            raise ValueError(f"{v} does not fit {label}")
        return d

    return convert


def _enum_converter(t: CHType) -> Converter:
    symbols = frozenset(s for s, _ in t.enum)

    def convert(v: Any) -> str:
        if isinstance(v, enum.Enum):
            v = v.value
        if not isinstance(v, str) or v not in symbols:
            raise ValueError(f"{v!r} is not one of {sorted(symbols)}")
        return str(v)

    return convert


def _datetime64_converter(precision: int) -> Converter:
    scale = 10**precision

    def convert(v: Any) -> int:
        if isinstance(v, bool):
            raise TypeError("DateTime64 needs a datetime")
        if isinstance(v, int):
            return int(v)
        if isinstance(v, str):
            v = _dt.datetime.fromisoformat(v)
        if not isinstance(v, _dt.datetime):
            raise TypeError(f"DateTime64 needs a datetime, got {type(v).__name__}")
        if v.tzinfo is None:
            v = v.replace(tzinfo=_dt.timezone.utc)
        delta = v - _EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return int(micros * scale // 1_000_000)

    return convert


def _date(v: Any) -> Any:
    if isinstance(v, _dt.datetime):
        return v.date()
    if isinstance(v, str):
        return _dt.date.fromisoformat(v)
    if not isinstance(v, _dt.date):
        raise TypeError(f"Date32 needs a date, got {type(v).__name__}")
    return v


def _time64_converter(precision: int) -> Converter:
    scale = 10**precision

    def convert(v: Any) -> int:
        if isinstance(v, bool):
            raise TypeError("Time64 needs a time")
        if isinstance(v, int):
            return int(v)
        if isinstance(v, str):
            v = _dt.time.fromisoformat(v)
        if isinstance(v, _dt.time):
            micros = ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond
        elif isinstance(v, _dt.timedelta):
            micros = (v.days * 86_400 + v.seconds) * 1_000_000 + v.microseconds
        else:
            raise TypeError(f"Time64 needs a time, got {type(v).__name__}")
        return int(micros * scale // 1_000_000)

    return convert


def _uuid(v: Any) -> uuid.UUID:
    return v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))


def _fixed_converter(size: int) -> Converter:
    def convert(v: Any) -> bytes:
        data = v.encode() if isinstance(v, str) else bytes(v)
        if len(data) != size:
            raise ValueError(f"FixedString({size}) needs exactly {size} bytes, got {len(data)}")
        return data

    return convert


def _array_converter(inner: Converter | None) -> Converter:
    def convert(v: Any) -> list[Any]:
        if not isinstance(v, (list, tuple)):
            raise TypeError(f"Array needs a list, got {type(v).__name__}")
        return list(v) if inner is None else [inner(x) for x in v]

    return convert


def _map_converter(inner: Converter | None) -> Converter:
    def convert(v: Any) -> dict[Any, Any]:
        if not isinstance(v, dict):
            raise TypeError(f"Map needs a dict, got {type(v).__name__}")
        return dict(v) if inner is None else {k: inner(x) for k, x in v.items()}

    return convert


def _tuple_converter(t: CHType) -> Converter:
    names = list(t.names)
    convs = [_element(a) for a in t.args]
    is_duration = tuple(names) == _DURATION and all(a.name == "UInt32" for a in t.args)

    composite = [a.name in _COMPOSITES for a in t.args]

    def element(i: int, x: Any) -> Any:
        c = convs[i]
        return x if c is None or (x is None and not composite[i]) else c(x)

    def convert(v: Any) -> tuple[Any, ...]:
        if is_duration:
            if isinstance(v, (bytes, bytearray)):
                return tuple(struct.unpack("<III", bytes(v)))
            if isinstance(v, _dt.timedelta):
                return (0, v.days, v.seconds * 1000 + v.microseconds // 1000)
        if hasattr(v, "model_dump"):
            v = v.model_dump()
        if isinstance(v, dict):
            return tuple(element(i, v.get(n)) for i, n in enumerate(names) if n is not None)
        if isinstance(v, (tuple, list)) and len(v) == len(convs):
            return tuple(element(i, x) for i, x in enumerate(v))
        raise TypeError(f"Tuple needs a dict or a tuple of {len(convs)}, got {type(v).__name__}")

    return convert


def _accepts(t: CHType) -> Callable[[Any], bool]:
    """Whether a Python value belongs to a Variant branch of this type."""
    name = t.name
    if name in _INT_RANGES:
        lo, hi = _INT_RANGES[name]
        return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
    if name in ("Float32", "Float64"):
        return lambda v: isinstance(v, float)
    if name == "Bool":
        return lambda v: isinstance(v, bool)
    if name == "String":
        return lambda v: isinstance(v, (str, bytes)) and not isinstance(v, enum.Enum)
    if name.startswith("Decimal"):
        return lambda v: isinstance(v, decimal.Decimal)
    if name in ("Enum8", "Enum16"):
        symbols = {s for s, _ in t.enum}
        return lambda v: (
            isinstance(v, str) and (v.value if isinstance(v, enum.Enum) else v) in symbols
        )
    if name == "DateTime64":
        return lambda v: isinstance(v, _dt.datetime)
    if name in ("Date32", "Date"):
        return lambda v: isinstance(v, _dt.date) and not isinstance(v, _dt.datetime)
    if name == "Time64":
        return lambda v: isinstance(v, (_dt.time, _dt.timedelta))
    if name == "UUID":
        return lambda v: isinstance(v, uuid.UUID)
    if name == "FixedString":
        size = int(t.params[0])
        return lambda v: isinstance(v, bytes) and len(v) == size
    if name == "Array":
        return lambda v: isinstance(v, (list, tuple))
    if name == "Map":
        return lambda v: isinstance(v, dict)
    if name == "Tuple":  # a record: the same field names (a validated row has them all)
        keys = {n for n in t.names if n is not None}
        return lambda v: (
            (isinstance(v, dict) and set(v) == keys)
            or (hasattr(v, "model_dump") and set(v.model_dump()) == keys)
        )
    return lambda v: False


def _variant_converter(t: CHType) -> Converter:
    from clickhouse_connect.datatypes.dynamic import TypedVariant

    # The branch by the name clickhouse-connect gives the table's member type; a String
    # member takes bytes (clickhouse-connect writes one String column per block: str
    # and bytes mixed in it fail the whole block).
    branches = [
        (_accepts(a), _string_bytes if a.name == "String" else _converter(a), _type_name(a))
        for a in t.args
    ]

    def convert(v: Any) -> Any:
        if v is None:
            return None
        for accepts, conv, type_name in branches:
            if accepts(v):
                return TypedVariant(v if conv is None else conv(v), type_name)
        raise TypeError(f"{type(v).__name__} value {v!r} fits no branch of {t}")

    return convert


def _type_name(t: CHType) -> str:
    """A Variant member's type name as clickhouse-connect spells the table's (DESCRIBE
    writes Tuple element names without backticks; clickhouse-connect renders both the
    same way)."""
    from clickhouse_connect.datatypes.registry import get_from_name

    return str(get_from_name(str(t)).name)


def _string_bytes(v: Any) -> bytes:
    return v.encode("utf-8") if isinstance(v, str) else bytes(v)


# ------------------------------------------------------------------ whole columns

ColumnConverter = Callable[[list[Any]], list[Any]]


def column_values_converter(ch_type: str) -> ColumnConverter | None:
    """A converter for a whole column of `ch_type` (a list in, a list out), or None.

    Same results and the same checks as `column_converter` applied to each value,
    but the common cases (values already of the type pydantic validated them into)
    go through C-level bulk operations; anything else falls back to the per-value
    converter, which raises the same errors as before.
    """
    t = parse_type(ch_type)
    per_value = _converter(t)
    if per_value is None:
        return None
    fast = _bulk(t)
    if t.name in _COMPOSITES:  # None becomes the empty value (see `_or_empty`)

        def slow(values: list[Any]) -> list[Any]:
            return list(map(per_value, values))

    else:

        def slow(values: list[Any]) -> list[Any]:
            return [None if v is None else per_value(v) for v in values]

    if fast is None:
        return slow

    def convert(values: list[Any]) -> list[Any]:
        try:
            out = fast(values)
        except (TypeError, ValueError, ArithmeticError, KeyError, AttributeError):
            out = None
        return slow(values) if out is None else out

    return convert


def _bulk(t: CHType) -> Callable[[list[Any]], list[Any] | None] | None:
    """A bulk conversion for a column without None (None: not handled in bulk)."""
    name = t.name
    if name == "LowCardinality":
        return _bulk(t.args[0])
    if name == "Nullable":
        inner = _bulk(t.args[0])
        if inner is None:
            return None

        def nullable(values: list[Any]) -> list[Any] | None:
            present = [v for v in values if v is not None]
            if len(present) == len(values):
                return inner(values)
            converted = inner(present)
            if converted is None:
                return None
            it = iter(converted)
            return [None if v is None else next(it) for v in values]

        return nullable
    if name in _INT_RANGES:
        lo, hi = _INT_RANGES[name]

        def ints(values: list[Any]) -> list[Any] | None:
            if values and (set(map(type, values)) != {int} or min(values) < lo or max(values) > hi):
                return None
            return values

        return ints
    if name in ("Enum8", "Enum16"):
        symbols = frozenset(s for s, _ in t.enum)
        lookup: dict[Any, str] = {s: s for s in symbols}

        def enums(values: list[Any]) -> list[Any] | None:
            try:
                return list(map(lookup.__getitem__, values))
            except KeyError:
                pass
            # Enum members (their str value is the symbol) join the lookup once per class.
            for cls in {type(v) for v in values if isinstance(v, enum.Enum)}:
                for member in cls:
                    if isinstance(member.value, str) and member.value in symbols:
                        lookup.setdefault(member, member.value)
            return list(map(lookup.__getitem__, values))  # KeyError: the slow path says why

        return enums
    if name == "DateTime64":
        precision = int(t.params[0])
        if precision > 6:
            return None
        unit = _dt.timedelta(microseconds=10 ** (6 - precision))
        epoch = _EPOCH

        naive_epoch = _EPOCH.replace(tzinfo=None)

        def datetimes(values: list[Any]) -> list[Any] | None:
            if values and set(map(type, values)) != {_dt.datetime}:
                return None
            # An aware datetime minus the aware epoch is exact (any offset: the instant);
            # floor division truncates to the precision. All naive: UTC wall clock, as
            # the per-value converter reads them; a mix raises TypeError → per value.
            try:
                return [(v - epoch) // unit for v in values]
            except TypeError:
                return [(v - naive_epoch) // unit for v in values]

        return datetimes
    if name == "UUID":
        return lambda values: values if set(map(type, values)) <= {uuid.UUID} else None
    if name.startswith("Decimal"):
        if t.name == "Decimal":
            precision, scale = int(t.params[0]), int(t.params[1])
        else:
            precision = {"Decimal32": 9, "Decimal64": 18, "Decimal128": 38, "Decimal256": 76}[
                t.name
            ]
            scale = int(t.params[0])
        context = decimal.Context(prec=precision, traps=[decimal.Inexact, decimal.InvalidOperation])
        quantize = functools.partial(
            decimal.Decimal.quantize, exp=decimal.Decimal(1).scaleb(-scale), context=context
        )

        def decimals(values: list[Any]) -> list[Any] | None:
            # quantize traps when a value has more than `scale` places or more than
            # `precision` digits; a NaN passes it, so check the sum is finite.
            if values and set(map(type, values)) != {decimal.Decimal}:
                return None
            out = list(map(quantize, values))
            if out and not sum(out, decimal.Decimal(0)).is_finite():
                return None
            return out

        return decimals
    if name == "JSON":
        return lambda values: list(map(_json_text, values))
    if name in ("Map", "Array"):
        element_type = t.args[1] if name == "Map" else t.args[0]
        container = dict if name == "Map" else list
        allowed = _text_types(element_type)
        if allowed is None and _converter(element_type) is None:
            return lambda values: values if set(map(type, values)) <= {container} else None
        if allowed is None:
            return None
        elements = (lambda v: v.values()) if name == "Map" else (lambda v: v)

        def texts(values: list[Any]) -> list[Any] | None:
            # Validated rows give one Python type per column's elements: text (as it
            # is) or records below the recursion cut (JSON text, per value). The first
            # element present says which.
            if not set(map(type, values)) <= {container}:
                return None
            inside = itertools.chain.from_iterable(map(elements, values))
            first = next((x for x in inside if x is not None), None)
            return values if first is None or type(first) in allowed else None

        return texts
    return None


_STRINGS = frozenset({str, bytes})


def text_column_converter(ch_type: str) -> ColumnConverter | None:
    """For a String column (maybe Nullable/LowCardinality), what the insert needs beyond
    `column_values_converter` (None for them: a str or bytes goes in as it is): a dict
    or list (a recursive record below the cut) as JSON text, a str/bytes mix as bytes.
    None for other types."""
    return _text_column if _text_types(parse_type(ch_type)) is not None else None


def _text_column(values: list[Any]) -> list[Any]:
    out = _strings(values)
    if out is not None:
        return out
    texts = [v if v is None else _string(v) for v in values]
    present = [v for v in texts if v is not None]
    if len(set(map(type, present))) < 2:
        return texts
    return [v.encode("utf-8") if type(v) is str else v for v in texts]


def _strings(values: list[Any]) -> list[Any] | None:
    """A String column as it is, or all bytes when it mixes str and bytes (an Avro
    ["bytes", "string"] union): clickhouse-connect writes a block of one or the other.
    None: some value is neither (nor None)."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if not kinds <= _STRINGS:
        return None
    if len(kinds) < 2:
        return values
    return [v.encode("utf-8") if type(v) is str else v for v in values]


def _text_types(t: CHType) -> frozenset[type] | None:
    """The Python types a String element (maybe Nullable/LowCardinality) takes as they
    are; None for any other element type."""
    nullable = False
    while t.name in ("Nullable", "LowCardinality"):
        nullable = nullable or t.name == "Nullable"
        t = t.args[0]
    if t.name != "String":
        return None
    return _STRINGS | {type(None)} if nullable else _STRINGS


# ------------------------------------------------------------------ Arrow columns

ArrowConverter = Callable[[list[Any]], Any]

_ARROW_INTS = {
    "Int8": "int8",
    "Int16": "int16",
    "Int32": "int32",
    "Int64": "int64",
    "UInt8": "uint8",
    "UInt16": "uint16",
    "UInt32": "uint32",
    "UInt64": "uint64",
}
_ARROW_TIME_UNITS = {0: "s", 3: "ms", 6: "us", 9: "ns"}


def arrow_column_converter(ch_type: str) -> ArrowConverter | None:
    """Column values (as the column converter made them) → a `pyarrow.Array`, or None.

    None when pyarrow is missing or the type has no Arrow mapping here (Tuple,
    Variant, DateTime64/Time64 of other precisions, a UUID inside a container);
    the caller then inserts the block through clickhouse-connect's Native path.
    The converter raises `TypeError`/`ValueError` (pyarrow's own errors) on a value
    it cannot take; the caller falls back to the Native path for that block.

    Mapping (each checked against the Native path on chdb, tests/clickhouse):
    Int*/UInt* → int*/uint*, Float32/64 → float32/64, Bool → bool, String → utf8
    (binary when the values are bytes), FixedString(N) → fixed_size_binary(N),
    UUID → fixed_size_binary(16) of the UUID's big-endian bytes, DateTime64(p) for
    p in 0/3/6/9 → timestamp from the int ticks, Date32/Date → date32,
    Time64(3/6) → time32[ms]/time64[us] from the int ticks, Decimal(P, S) →
    decimal128/256(P, S), Enum8/16 → the symbol as utf8, Array(T) → list,
    Map(String, V) → map, JSON → utf8 (its JSON text), Nullable/LowCardinality → the
    inner type (nulls allowed).
    """
    try:
        pyarrow: Any = importlib.import_module("pyarrow")
    except ImportError:  # pragma: no cover - a requirement of the service
        return None
    t = parse_type(ch_type)
    while t.name == "LowCardinality" or t.name == "Nullable":
        t = t.args[0]
    if t.name == "UUID":
        uuid_bytes = uuid.UUID.bytes.fget  # type: ignore[attr-defined]
        fixed16 = pyarrow.binary(16)

        def uuids(values: list[Any]) -> Any:
            if None in values:
                present = [None if v is None else uuid_bytes(v) for v in values]
                return pyarrow.array(present, fixed16)
            if set(map(type, values)) - {uuid.UUID}:
                raise TypeError("UUID column with non-UUID values")
            data = b"".join(map(uuid_bytes, values))
            return pyarrow.Array.from_buffers(fixed16, len(values), [None, pyarrow.py_buffer(data)])

        return uuids
    if t.name == "JSON":  # JSON text, as the column converter made it
        return functools.partial(pyarrow.array, type=pyarrow.string())
    if t.name == "String":
        utf8, binary = pyarrow.string(), pyarrow.binary()

        def strings(values: list[Any]) -> Any:
            try:
                return pyarrow.array(values, utf8)
            except (pyarrow.ArrowTypeError, pyarrow.ArrowInvalid):
                return pyarrow.array(values, binary)

        return strings
    arrow_type = _arrow_type(t, pyarrow)
    if arrow_type is None:
        return None
    return functools.partial(pyarrow.array, type=arrow_type)


def _arrow_type(t: CHType, pa: Any) -> Any:
    """The Arrow type for values of `t` as the column converter made them (None: none)."""
    name = t.name
    if name in ("Nullable", "LowCardinality"):
        return _arrow_type(t.args[0], pa)
    if name in _ARROW_INTS:
        return getattr(pa, _ARROW_INTS[name])()
    if name == "Float32":
        return pa.float32()
    if name == "Float64":
        return pa.float64()
    if name == "Bool":
        return pa.bool_()
    if name == "String":  # top level: str or bytes, decided per block (arrow_column_converter)
        return pa.string()
    if name == "FixedString":
        return pa.binary(int(t.params[0]))
    if name in ("Enum8", "Enum16"):
        return pa.string()
    if name == "DateTime64":
        unit = _ARROW_TIME_UNITS.get(int(t.params[0]))
        return None if unit is None else pa.timestamp(unit, tz="UTC")
    if name in ("Date32", "Date"):
        return pa.date32()
    if name == "Time64":
        precision = int(t.params[0])
        if precision == 3:
            return pa.time32("ms")
        if precision == 6:
            return pa.time64("us")
        return None
    if name.startswith("Decimal"):
        if name == "Decimal":
            precision, scale = int(t.params[0]), int(t.params[1])
        else:
            precision = {"Decimal32": 9, "Decimal64": 18, "Decimal128": 38, "Decimal256": 76}[name]
            scale = int(t.params[0])
        if precision <= 38:
            return pa.decimal128(precision, scale)
        return pa.decimal256(precision, scale)
    if name == "Array":
        inner = _arrow_type(t.args[0], pa)
        return None if inner is None else pa.list_(inner)
    if name == "Map":
        key = _arrow_type(t.args[0], pa) if t.args[0].name != "String" else pa.string()
        value = _arrow_type(t.args[1], pa)
        return None if key is None or value is None else pa.map_(key, value)
    return None
