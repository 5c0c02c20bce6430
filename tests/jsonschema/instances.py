"""Hypothesis strategies for the instances of a JSON Schema (the keywords the generated
`schema.json` files use): what a producer that validates with the schema may send."""

from __future__ import annotations

import base64
from datetime import timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

ZONES = st.sampled_from([timezone.utc, timezone.max, timezone.min])


def instances(schema: dict[str, Any], root: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    root = schema if root is None else root
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return st.deferred(lambda: instances(root["$defs"][name], root))
    if "anyOf" in schema:
        return st.one_of([instances(s, root) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([instances({**schema, "type": k}, root) for k in kind])
    return _BY_TYPE[kind](schema, root)


def _string(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    fmt = schema.get("format")
    if fmt == "date-time":
        return st.datetimes(timezones=ZONES).map(lambda d: d.isoformat())
    if fmt == "date":
        return st.dates().map(lambda d: d.isoformat())
    if fmt == "time":
        return st.times().map(lambda t: t.isoformat())
    if fmt == "uuid":
        return st.uuids().map(str)
    if fmt == "duration":
        return st.integers(0, 10**6).map(lambda s: f"PT{s}S")
    if schema.get("contentEncoding") == "base64" or fmt == "base64url":
        return st.binary(max_size=32).map(lambda b: base64.b64encode(b).decode())
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    return st.text(min_size=schema.get("minLength", 0),
                   max_size=schema.get("maxLength", max(schema.get("minLength", 0), 20)))


def _integer(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    return st.integers(schema.get("minimum"), schema.get("maximum")) | st.sampled_from(
        [v for v in (schema.get("minimum"), schema.get("maximum")) if v is not None] or [0])


def _number(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    lo = schema.get("minimum", schema.get("exclusiveMinimum"))
    hi = schema.get("maximum", schema.get("exclusiveMaximum"))
    step = schema.get("multipleOf")
    if step is not None:  # k * step, in decimal so that 0.0001 * 3 is 0.0003
        unit = Decimal(str(step))
        k_lo = None if lo is None else int(Decimal(lo) / unit) + 1
        k_hi = None if hi is None else int(Decimal(hi) / unit) - 1
        return st.integers(k_lo, k_hi).map(lambda k: float(k * unit))
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False) | _integer(
        {"minimum": None if lo is None else int(lo) + 1,
         "maximum": None if hi is None else int(hi) - 1}, root)


def _array(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    items = instances(schema.get("items", {}), root) if schema.get("items") else st.none()
    return st.lists(items, min_size=schema.get("minItems", 0), max_size=schema.get("maxItems", 3))


def _object(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = st.fixed_dictionaries(
        {k: instances(v, root) for k, v in props.items() if k in required},
        optional={k: instances(v, root) for k, v in props.items() if k not in required})
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and not props:
        return st.dictionaries(st.text(max_size=5), instances(extra, root), max_size=3)
    return fixed


_BY_TYPE = {
    "string": _string, "integer": _integer, "number": _number, "array": _array,
    "object": _object, "boolean": lambda s, r: st.booleans(), "null": lambda s, r: st.none(),
    None: lambda s, r: st.none() | st.booleans() | st.integers() | st.text(max_size=5),
}
