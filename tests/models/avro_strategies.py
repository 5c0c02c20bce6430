"""Hypothesis strategies derived from an Avro schema: records as fastavro writes them.

Every union value is drawn as fastavro's `(branch, value)` notation, over every
branch, so a record says which branch it is written in. Values keep to what every
target stores exactly: float32-exact floats, timestamps to their unit and inside
ClickHouse's DateTime64 range (1900-2262), dates inside Date32's (1900-2299). Bounds
and edge values (int/long limits, empty strings, arrays and maps, unicode) are mixed in.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from fastavro import parse_schema
from hypothesis import strategies as st
from moosegen.runtime.avro_codec import branch_kinds, union_shape

UTC = timezone.utc
MAX_DEPTH = 6  # records deeper than this take only their non-recursive branches
TEXT = st.text(max_size=6) | st.sampled_from(["", "é", "🙂 x", "a\x00b", "null"])
LOW, HIGH = datetime(1900, 1, 2), datetime(2262, 4, 10)


def _ints(bits: int) -> st.SearchStrategy[int]:
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return st.sampled_from([lo, hi, 0, -1]) | st.integers(lo, hi)


def _floor(unit: int) -> Any:
    return lambda v: v.replace(microsecond=v.microsecond // unit * unit)


def _decimals(precision: int, scale: int) -> st.SearchStrategy[Decimal]:
    bound = 10 ** (precision - scale) - Decimal(1).scaleb(-scale)
    return st.decimals(-bound, bound, places=scale, allow_nan=False, allow_infinity=False)


LOGICAL: dict[str, st.SearchStrategy[Any]] = {
    "date": st.dates(date(1900, 1, 1), date(2262, 1, 1)),
    "time-millis": st.times().map(_floor(1000)),
    "time-micros": st.times(),
    "timestamp-millis": st.datetimes(LOW, HIGH, timezones=st.just(UTC)).map(_floor(1000)),
    "timestamp-micros": st.datetimes(LOW, HIGH, timezones=st.just(UTC)),
    "local-timestamp-millis": st.datetimes(LOW, HIGH).map(_floor(1000)),
    "local-timestamp-micros": st.datetimes(LOW, HIGH),
    "uuid": st.uuids(),
}
PRIMITIVE: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "int": _ints(32),
    "long": _ints(64),
    "float": st.floats(width=32, allow_nan=False, allow_infinity=False),
    "double": st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0.0, -0.0, 1e308]),
    "bytes": st.binary(max_size=6) | st.just(b"\xff\x00"),
    "string": TEXT,
}


class AvroStrategies:
    """Strategies for one schema (its named types resolved through fastavro's parser)."""

    def __init__(self, schema_json: Any) -> None:
        self.named: dict[str, Any] = {}
        self.schema = parse_schema(schema_json, named_schemas=self.named)

    def resolve(self, schema: Any) -> Any:
        return self.named.get(schema, schema) if isinstance(schema, str) else schema

    def branch_name(self, schema: Any) -> str:
        schema = self.resolve(schema)
        if isinstance(schema, str):
            return schema
        if schema["type"] in ("record", "error", "enum", "fixed"):
            return str(schema["name"])
        return str(schema["type"])

    def shape(self, branches: list[Any]) -> tuple[bool, bool]:
        resolved = [self.resolve(b) for b in branches]
        kinds = [
            branch_kinds(b, self.branch_name(b) if isinstance(b, dict) else None) for b in resolved
        ]
        return union_shape(kinds)

    def records(self) -> st.SearchStrategy[dict[str, Any]]:
        return self.of(self.schema, 0)

    def recursive(self, schema: Any, seen: frozenset[str] = frozenset()) -> bool:
        """Whether `schema` reaches a record on a path that can repeat (a cycle)."""
        schema = self.resolve(schema)
        if isinstance(schema, list):
            return any(self.recursive(b, seen) for b in schema)
        if isinstance(schema, str):
            return False
        kind = schema["type"]
        if kind in ("record", "error"):
            if schema["name"] in seen:
                return True
            inner = seen | {schema["name"]}
            return any(self.recursive(f["type"], inner) for f in schema["fields"])
        if kind == "array":
            return self.recursive(schema["items"], seen)
        if kind == "map":
            return self.recursive(schema["values"], seen)
        return False

    def of(self, schema: Any, depth: int) -> st.SearchStrategy[Any]:
        schema = self.resolve(schema)
        if isinstance(schema, list):
            branches = schema
            if depth >= MAX_DEPTH:
                branches = [b for b in schema if not self.recursive(b)] or schema[:1]
            return st.one_of(
                *[
                    st.none()
                    if b == "null"
                    else st.tuples(st.just(self.branch_name(b)), self.of(b, depth))
                    for b in branches
                ]
            )
        if isinstance(schema, str):
            return PRIMITIVE[schema]
        kind = schema["type"]
        logical = schema.get("logicalType")
        if logical == "decimal":
            return _decimals(int(schema["precision"]), int(schema.get("scale", 0)))
        if logical in LOGICAL and (logical != "uuid" or kind == "string"):
            return LOGICAL[logical]
        if kind == "enum":
            return st.sampled_from(schema["symbols"])
        if kind == "fixed":
            size = int(schema["size"])
            return st.binary(min_size=size, max_size=size)
        if kind == "array":
            if depth >= MAX_DEPTH and self.recursive(schema["items"]):
                return st.just([])
            return st.lists(self.of(schema["items"], depth + 1), max_size=3)
        if kind == "map":
            if depth >= MAX_DEPTH and self.recursive(schema["values"]):
                return st.just({})
            return st.dictionaries(TEXT, self.of(schema["values"], depth + 1), max_size=3)
        if kind in ("record", "error"):
            return st.fixed_dictionaries(
                {
                    f["name"]: st.deferred(self._field(f["type"], depth + 1))
                    for f in schema["fields"]
                }
            )
        return self.of(kind, depth)

    def _field(self, schema: Any, depth: int) -> Any:
        return lambda: self.of(schema, depth)

    def plain(self, schema: Any, value: Any) -> Any:
        """A drawn value as fastavro's reader gives it without options: plain values,
        except `(branch, value)` where the union is ambiguous (which only that says)."""
        schema = self.resolve(schema)
        if isinstance(schema, list):
            if value is None:
                return None
            name, inner = value
            branch = next(b for b in schema if self.branch_name(b) == name)
            inner = self.plain(branch, inner)
            return (name, inner) if self.shape(schema)[0] else inner
        if isinstance(schema, str):
            return value
        kind = schema["type"]
        if kind == "array":
            return [self.plain(schema["items"], v) for v in value]
        if kind == "map":
            return {k: self.plain(schema["values"], v) for k, v in value.items()}
        if kind in ("record", "error"):
            return {f["name"]: self.plain(f["type"], value[f["name"]]) for f in schema["fields"]}
        return value
