"""Values and sub-schemas for the JSON Schema rules: positioned nodes, JSON equality,
instance types, and bound arithmetic."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from moosegen.compat.jsonschema_doc import TYPES
from moosegen.sourcemap import JsonPath

# Keywords that constrain nothing: a schema of only these accepts every instance.
ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$anchor",
        "$comment",
        "$defs",
        "definitions",
        "$vocabulary",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
    }
)
LITERAL_PREFIX = re.compile(r"\^([A-Za-z0-9_\-]*)")


@dataclass(frozen=True)
class Node:
    """A sub-schema and where it is; a merged schema also knows where each key came from."""

    schema: Any
    at: JsonPath
    origins: Mapping[JsonPath, JsonPath] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.schema.get(key, default) if isinstance(self.schema, dict) else default

    def path_of(self, *keys: str | int) -> JsonPath:
        for n in range(len(keys), 0, -1):
            if keys[:n] in self.origins:
                return (*self.origins[keys[:n]], *keys)
        return (*self.at, *keys)

    def child(self, *keys: str | int) -> Node:
        value: Any = self.schema
        for k in keys:
            value = value[k]
        return Node(value, self.path_of(*keys))


TRUE = Node(True, ())


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) or (is_number(a) and is_number(b)) if a == b else False


def is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def value_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
        return "integer"
    if isinstance(v, float):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names[type(v)]


def declared_types(s: Mapping[str, Any]) -> set[str]:
    t = s.get("type")
    if t is None:
        return set(TYPES)
    return {t} if isinstance(t, str) else set(t)


def accepts_type(t: str, types: set[str]) -> bool:
    return t in types or (t == "integer" and "number" in types)


def trivially_true(s: Any) -> bool:
    return s is True or (isinstance(s, dict) and all(k in ANNOTATIONS for k in s))


def finite_values(s: Mapping[str, Any]) -> list[Any] | None:
    """The only instances a schema allows, if it lists them (const, enum)."""
    values = list(s["enum"]) if isinstance(s.get("enum"), list) else None
    if "const" in s:
        in_enum = values is None or any(json_equal(s["const"], v) for v in values)
        return [s["const"]] if in_enum else []
    return values


def fraction(x: float) -> Fraction:
    return Fraction(str(x)) if isinstance(x, float) else Fraction(x)


def patterns_disjoint(p: str, q: str) -> bool:
    """True when two patterns can match no common name (both anchored literal prefixes)."""
    mp, mq = LITERAL_PREFIX.match(p), LITERAL_PREFIX.match(q)
    if not (mp and mq):
        return False
    a, b = mp.group(1), mq.group(1)
    return not (a.startswith(b) or b.startswith(a))


def pointer(at: JsonPath) -> str:
    return "/" + "/".join(str(t).replace("~", "~0").replace("/", "~1") for t in at)


def type_intersection(a: set[str], b: set[str]) -> set[str]:
    """Types in both sets, with integer as the overlap of integer and number."""
    out = a & b
    if ("integer" in a and "number" in b) or ("number" in a and "integer" in b):
        out.add("integer")
    return out


def beyond(value: float, limit: float, exclusive: bool, lower: bool) -> bool:
    """Does `value` satisfy a lower (or upper) bound `limit`?"""
    if lower:
        return value > limit or (value == limit and not exclusive)
    return value < limit or (value == limit and not exclusive)


def bound_implies(
    wbound: tuple[float, bool, str], limit: float, exclusive: bool, lower: bool
) -> bool:
    """Does the writer's bound keep every value within the reader's `limit`?"""
    wlimit, wexclusive, _ = wbound
    if wlimit == limit:
        return wexclusive or not exclusive
    return wlimit > limit if lower else wlimit < limit


def code_name(keyword: str) -> str:
    """The code stem of a keyword: exclusiveMinimum -> EXCLUSIVE_MINIMUM."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", keyword).upper()
