"""Avro → ClickHouse: the type table, default literals, expression checks, widening rules.

The mapping follows ClickHouse's own Avro format mapping; where ClickHouse has
none (time-*, duration, local-timestamp-*) the choice is documented in TYPE_TABLE.
Every lossy decision is reported through `Mapper.warn`, at the field it concerns.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moosegen.runtime.chvalues import CHType, parse_type, quote_identifier, quote_string
from moosegen.runtime.sqltext import LINE_TERMINATORS, SqlTextError, pieces
from moosegen.schema.ir import (
    Array,
    AvroType,
    Enum,
    Field,
    Fixed,
    Loc,
    Map,
    Primitive,
    Record,
    UnionType,
    walk_named,
)

# (Avro type, logical type) → ClickHouse type; the README table is generated from this.
TYPE_TABLE: dict[tuple[str, str | None], str] = {
    ("boolean", None): "Bool",
    ("int", None): "Int32",
    ("long", None): "Int64",
    ("float", None): "Float32",
    ("double", None): "Float64",
    ("bytes", None): "String",
    ("string", None): "String",
    ("string", "uuid"): "UUID",
    ("string", "json"): "JSON",
    ("int", "date"): "Date32",
    ("int", "time-millis"): "Time64(3)",
    ("long", "time-micros"): "Time64(6)",
    ("long", "timestamp-millis"): "DateTime64(3, 'UTC')",
    ("long", "timestamp-micros"): "DateTime64(6, 'UTC')",
    ("long", "timestamp-nanos"): "DateTime64(9, 'UTC')",
    ("long", "local-timestamp-millis"): "DateTime64(3)",
    ("long", "local-timestamp-micros"): "DateTime64(6)",
    ("long", "local-timestamp-nanos"): "DateTime64(9)",
}
DURATION = "Tuple(months UInt32, days UInt32, milliseconds UInt32)"
MAX_DECIMAL_PRECISION = 76
ENUM8_MAX = 127
NOT_NULLABLE = ("Array", "Map", "Tuple", "Variant", "Nullable", "LowCardinality")
IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def enum_numbering(schemas: list[Record]) -> dict[str, list[str]]:
    """Every enum's symbols in order of first appearance over the history, oldest first.

    A symbol keeps its number forever (numbers are positions + 1), and a removed
    symbol stays in the ClickHouse type because old rows may hold it.
    """
    seen: dict[str, list[str]] = {}
    for schema in schemas:
        for named in walk_named(schema):
            if isinstance(named, Enum):
                symbols = seen.setdefault(named.fullname, [])
                symbols.extend(s for s in named.symbols if s not in symbols)
    return seen


def enum_type(symbols: list[str]) -> str:
    kind = "Enum8" if len(symbols) <= ENUM8_MAX else "Enum16"
    return f"{kind}({', '.join(f'{quote_string(s)} = {i + 1}' for i, s in enumerate(symbols))})"


def can_be_nullable(ch_type: str) -> bool:
    return not ch_type.startswith(NOT_NULLABLE)


@dataclass
class Mapper:
    """Maps Avro types to ClickHouse types for one schema version."""

    enums: dict[str, list[str]]
    warn: Callable[[Loc | None, str, str], None] = lambda loc, code, message: None
    loc: Loc | None = None
    _stack: list[int] = field(default_factory=list)

    def map(self, t: AvroType) -> str:
        if isinstance(t, Primitive):
            return self._primitive(t)
        if isinstance(t, Enum):
            return enum_type(self.enums.get(t.fullname) or list(t.symbols))
        if isinstance(t, Fixed):
            if t.logical == "decimal" and t.precision:
                return self._decimal(t.precision, t.scale or 0)
            if t.logical == "duration":
                return DURATION
            return f"FixedString({t.size})"
        if isinstance(t, Array):
            return f"Array({self.map(t.items)})"
        if isinstance(t, Map):
            return f"Map(String, {self.map(t.values)})"
        if isinstance(t, Record):
            return self._record(t)
        return self._union(t)

    def _primitive(self, t: Primitive) -> str:
        if t.name == "null":
            self.warn(
                self.loc, "CH_NULL_TYPE", "a field of type null is stored as Nullable(Nothing)"
            )
            return "Nullable(Nothing)"
        if t.logical == "decimal" and t.name == "bytes" and t.precision:
            return self._decimal(t.precision, t.scale or 0)
        return TYPE_TABLE.get((t.name, t.logical)) or TYPE_TABLE[(t.name, None)]

    def _decimal(self, precision: int, scale: int) -> str:
        if precision > MAX_DECIMAL_PRECISION:
            self.warn(
                self.loc,
                "CH_LOSSY_DECIMAL",
                f"decimal({precision}, {scale}) exceeds ClickHouse's 76 digits; stored as String",
            )
            return "String"
        return f"Decimal({precision}, {scale})"

    def _record(self, t: Record) -> str:
        if id(t) in self._stack:
            self.warn(
                self.loc,
                "CH_RECURSIVE_RECORD",
                f"recursive record {t.fullname} is stored as a JSON String",
            )
            return "String"
        self._stack.append(id(t))
        outer = self.loc
        parts = []
        for f in t.fields:
            self.loc = f.loc or outer
            parts.append(f"{quote_identifier(f.name)} {self.map(f.type)}")
        self.loc = outer
        self._stack.pop()
        return f"Tuple({', '.join(parts)})"

    def _union(self, t: UnionType) -> str:
        branches = t.non_null
        if not branches:
            self.warn(
                self.loc, "CH_NULL_TYPE", "a union of only null is stored as Nullable(Nothing)"
            )
            return "Nullable(Nothing)"
        members = self._variant_members([self.map(b) for b in branches])
        inner = members[0] if len(members) == 1 else f"Variant({', '.join(members)})"
        if not t.is_nullable or inner.startswith("Variant("):
            return inner  # a Variant holds NULL by itself
        if can_be_nullable(inner):
            return f"Nullable({inner})"
        kind = inner.split("(", 1)[0]
        self.warn(
            self.loc,
            "CH_NULLABLE_COMPOSITE",
            f"ClickHouse cannot store a Nullable {kind}: stored as {inner}, null becomes "
            f"{_empty_of(kind)}",
        )
        return inner

    def _variant_members(self, members: list[str]) -> list[str]:
        """Branch types ClickHouse accepts together: similar ones are merged, with a warning."""
        out: list[str] = []
        ints = [m for m in members if m in ("Int32", "Int64")]
        floats = [m for m in members if m in ("Float32", "Float64")]
        for m in members:
            target = m
            if m in ints and len(set(ints)) > 1:
                target = "Int64"
            elif m in floats and len(set(floats)) > 1:
                target = "Float64"
            if target in out:
                self.warn(
                    self.loc,
                    "CH_UNION_MERGED",
                    f"union branches {', '.join(members)} share the ClickHouse type "
                    f"{target}; which branch a value came from is not stored",
                )
                continue
            out.append(target)
        return out


def _empty_of(kind: str) -> str:
    return {"Array": "[]", "Map": "{}", "Tuple": "a tuple of default values"}.get(kind, "a default")


# ------------------------------------------------------------------ default literals


class NoLiteral(Exception):
    pass


def default_literal(t: AvroType, value: Any, ch_type: str, mapper: Mapper) -> str | None:
    """The SQL literal of an Avro default in a column of `ch_type`; None: no DEFAULT clause."""
    try:
        if isinstance(t, UnionType):
            branch = t.branches[0]
            if value is None:
                if ch_type.startswith("Nullable(") or ch_type.startswith("Variant("):
                    return None  # NULL is the column default already
                kind = ch_type.split("(", 1)[0]
                return {"Array": "[]", "Map": "map()"}.get(kind)
            lit = _literal(branch, value, mapper)
            if ch_type.startswith("Variant("):
                return f"CAST({lit} AS {mapper.map(branch)})"
            return lit
        return _literal(t, value, mapper)
    except (NoLiteral, ValueError, TypeError, KeyError, IndexError, decimal.InvalidOperation):
        return None


def _bytes_of(value: Any) -> bytes:
    if not isinstance(value, str):
        raise NoLiteral()
    return value.encode("latin-1")


def _decimal_text(raw: bytes, scale: int) -> str:
    unscaled = int.from_bytes(raw, "big", signed=True) if raw else 0
    return str(decimal.Decimal(unscaled).scaleb(-scale))


def _epoch_text(ticks: int, digits: int) -> str:
    seconds, frac = divmod(ticks, 10**digits)
    stamp = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)
    return stamp.strftime("%Y-%m-%d %H:%M:%S") + (f".{frac:0{digits}d}" if digits else "")


def _time_text(ticks: int, digits: int) -> str:
    seconds, frac = divmod(ticks, 10**digits)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:03d}:{m:02d}:{s:02d}.{frac:0{digits}d}"


_TS_DIGITS = {
    "timestamp-millis": 3,
    "timestamp-micros": 6,
    "timestamp-nanos": 9,
    "local-timestamp-millis": 3,
    "local-timestamp-micros": 6,
    "local-timestamp-nanos": 9,
}


def _literal(t: AvroType, value: Any, mapper: Mapper) -> str:
    if isinstance(t, Primitive):
        if t.name == "null":
            return "NULL"
        if t.name == "boolean":
            return "true" if value is True else "false" if value is False else _bad()
        if t.name in ("int", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise NoLiteral()
            if t.logical == "date":
                return quote_string((dt.date(1970, 1, 1) + dt.timedelta(days=value)).isoformat())
            if t.logical in _TS_DIGITS:
                return quote_string(_epoch_text(value, _TS_DIGITS[t.logical]))
            if t.logical in ("time-millis", "time-micros"):
                return quote_string(_time_text(value, 3 if t.logical == "time-millis" else 6))
            return str(value)
        if t.name in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise NoLiteral()
            return repr(float(value))
        if t.name == "string":
            return quote_string(value) if isinstance(value, str) else _bad()
        if t.name == "bytes":
            raw = _bytes_of(value)
            if t.logical == "decimal":
                return quote_string(_decimal_text(raw, t.scale or 0))
            return _bytes_literal(raw)
        raise NoLiteral()
    if isinstance(t, Enum):
        return quote_string(value) if isinstance(value, str) else _bad()
    if isinstance(t, Fixed):
        raw = _bytes_of(value)
        if t.logical == "decimal":
            return quote_string(_decimal_text(raw, t.scale or 0))
        if t.logical == "duration":
            months, days, millis = (int.from_bytes(raw[i : i + 4], "little") for i in (0, 4, 8))
            return f"tuple({months}, {days}, {millis})"
        return _bytes_literal(raw)
    if isinstance(t, Array):
        if not isinstance(value, list):
            raise NoLiteral()
        return "[" + ", ".join(_literal(t.items, v, mapper) for v in value) + "]"
    if isinstance(t, Map):
        if not isinstance(value, dict):
            raise NoLiteral()
        items = [f"{quote_string(k)}, {_literal(t.values, v, mapper)}" for k, v in value.items()]
        return f"map({', '.join(items)})"
    if isinstance(t, Record):
        if not isinstance(value, dict):
            raise NoLiteral()
        if mapper.map(t) == "String":  # recursive, stored as JSON
            return quote_string(json.dumps(value, sort_keys=True))
        return f"tuple({', '.join(_element_literal(f, value, mapper) for f in t.fields)})"
    if isinstance(t, UnionType):
        return "NULL" if value is None else _literal(t.branches[0], value, mapper)
    raise NoLiteral()


def _element_literal(f: Field, value: dict[str, Any], mapper: Mapper) -> str:
    """One element of a tuple literal: a nested null is NULL only where the element type
    can hold it; a non-nullable element (a Tuple, an Array) gets its type's default."""
    v = value[f.name] if f.name in value else f.default
    if not isinstance(f.type, UnionType):
        return _literal(f.type, v, mapper)
    ch_type = mapper.map(f.type)
    if v is not None:
        lit = default_literal(f.type, v, ch_type, mapper)
        if lit is None:
            raise NoLiteral()
        return lit
    if ch_type.startswith(("Nullable(", "Variant(", "LowCardinality(Nullable(")):
        return "NULL"
    return f"defaultValueOfTypeName({quote_string(ch_type)})"


def _bad() -> str:
    raise NoLiteral()


def _bytes_literal(raw: bytes) -> str:
    out = []
    for b in raw:
        ch = chr(b)
        if ch in "\\'":
            out.append("\\" + ch)
        elif 0x20 <= b < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{b:02x}")
    return "'" + "".join(out) + "'"


# ------------------------------------------------------------------ user expressions


def expression_problem(text: str) -> str | None:
    """Why a user SQL expression is refused, or None.

    Read as ClickHouse's lexer reads it (sqltext): one expression, so no `;`,
    no comment, balanced parentheses outside literals, and no line terminator
    or control character anywhere, so the text stays on its line.
    """
    if not text.strip():
        return "empty expression"
    bad = next((c for c in text if c in LINE_TERMINATORS or ord(c) < 0x20 or ord(c) == 0x7F), None)
    if bad is not None:
        return f"line terminators and control characters ({bad!r}) are not allowed"
    try:
        parts = pieces(text)
    except SqlTextError as exc:
        return str(exc)
    depth = 0
    for piece in parts:
        if piece.kind == "comment":
            return "SQL comments are not allowed"
        if piece.kind != "code":
            continue
        if ";" in piece.text:
            return "';' is not allowed: one expression, not statements"
        if "#" in piece.text or "*/" in piece.text:
            return "SQL comments are not allowed"
        for c in piece.text:
            depth += {"(": 1, ")": -1}.get(c, 0)
            if depth < 0:
                return "unbalanced parentheses"
    if depth:
        return "unbalanced parentheses"
    return None


def type_problem(text: str) -> str | None:
    problem = expression_problem(text)
    if problem:
        return problem
    try:
        parse_type(text)
    except (ValueError, IndexError) as exc:
        return f"not a ClickHouse type: {exc}"
    return None


# ------------------------------------------------------------------ widening


_INT_RANK = {"Int8": 1, "Int16": 2, "Int32": 3, "Int64": 4}


def widening(old: str, new: str) -> str | None:
    """'same', 'widen', 'lossy' (Avro promotion to a float) or None (not migratable in place)."""
    if old == new:
        return "same"
    return _widen(parse_type(old), parse_type(new))


def _widen(a: CHType, b: CHType) -> str | None:
    if str(a) == str(b):
        return "same"
    if b.name == "Nullable":
        return _widen(a.args[0] if a.name == "Nullable" else a, b.args[0]) and "widen"
    if a.name == "Nullable":
        return None
    if a.name == "LowCardinality" or b.name == "LowCardinality":
        ia = a.args[0] if a.name == "LowCardinality" else a
        ib = b.args[0] if b.name == "LowCardinality" else b
        return _widen(ia, ib) and "widen"
    if a.name in _INT_RANK and b.name in _INT_RANK:
        return "widen" if _INT_RANK[b.name] >= _INT_RANK[a.name] else None
    if a.name in _INT_RANK and b.name in ("Float32", "Float64"):
        return "lossy"
    if (a.name, b.name) == ("Float32", "Float64"):
        return "widen"
    if a.name == "Decimal" and b.name == "Decimal":
        return (
            "widen" if a.params[1] == b.params[1] and int(b.params[0]) >= int(a.params[0]) else None
        )
    if a.name in ("Enum8", "Enum16") and b.name in ("Enum8", "Enum16"):
        return "widen" if set(a.enum) <= set(b.enum) else None
    if a.name == b.name and a.name in ("Array", "Map"):
        return _widen(a.args[-1], b.args[-1]) and "widen"
    return None
