"""Avro JSON forms of the IR: normalized, readable, Parsing Canonical Form; fingerprints."""

from __future__ import annotations

import json
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint as _fingerprint
from fastavro.schema import to_parsing_canonical_form

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


def to_json(t: AvroType, *, _seen: set[str] | None = None) -> Any:
    """Avro JSON for `t`; named types are defined once, then referenced by full name.

    Every attribute the IR holds is written, with full names and a fixed key order,
    so equal schemas give equal text.
    """
    seen = set() if _seen is None else _seen
    if isinstance(t, Primitive):
        if t.logical:
            out: dict[str, Any] = {"type": t.name, "logicalType": t.logical}
            if t.logical == "decimal":
                out.update(precision=t.precision, scale=t.scale)
            return out
        return t.name
    if isinstance(t, Named):
        if t.fullname in seen:
            return t.fullname
        seen.add(t.fullname)
        out = {"name": t.fullname}
        if isinstance(t, Record):
            out["type"] = "error" if t.is_error else "record"
            if t.doc:
                out["doc"] = t.doc
            fields = []
            for f in t.fields:
                fd: dict[str, Any] = {
                    "name": f.name,
                    "type": to_json(f.type, _seen=seen),
                }
                if f.has_default:
                    fd["default"] = f.default
                if f.doc:
                    fd["doc"] = f.doc
                if f.aliases:
                    fd["aliases"] = list(f.aliases)
                if f.order:
                    fd["order"] = f.order
                fields.append(fd)
            out["fields"] = fields
        elif isinstance(t, Enum):
            out["type"] = "enum"
            if t.doc:
                out["doc"] = t.doc
            out["symbols"] = list(t.symbols)
            if t.default is not None:
                out["default"] = t.default
        elif isinstance(t, Fixed):
            out["type"] = "fixed"
            out["size"] = t.size
            if t.logical:
                out["logicalType"] = t.logical
                if t.logical == "decimal":
                    out.update(precision=t.precision, scale=t.scale)
        if t.aliases:
            out["aliases"] = list(t.aliases)
        return out
    if isinstance(t, Array):
        return {"type": "array", "items": to_json(t.items, _seen=seen)}
    if isinstance(t, Map):
        return {"type": "map", "values": to_json(t.values, _seen=seen)}
    assert isinstance(t, UnionType)
    return [to_json(b, _seen=seen) for b in t.branches]


def compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def canonical_form(t: AvroType) -> str:
    """Parsing Canonical Form, by fastavro: the one implementation the runtime uses too."""
    return str(to_parsing_canonical_form(parse_schema(to_json(t), named_schemas={})))


def fingerprint(t: AvroType) -> str:
    """CRC-64-AVRO of the Parsing Canonical Form, as 16 hex digits (little-endian bytes)."""
    return str(_fingerprint(canonical_form(t), "CRC-64-AVRO"))


def readable_form(t: AvroType, width: int = 96) -> str:
    """The full schema as reviewable JSON: a value on one line when it fits in `width`,
    else one member per line, so changing one field changes one line."""
    return _readable(to_json(t), 0, width)


def _readable(value: Any, used: int, width: int, indent: int = 0) -> str:
    one = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, (dict, list)) or not value or used + len(one) <= width:
        return one
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        rows = []
        for key, item in value.items():
            head = f"{pad}{json.dumps(key, ensure_ascii=False)}: "
            rows.append(head + _readable(item, len(head), width, indent + 2))
        opening, closing = "{", "}"
    else:
        rows = [pad + _readable(item, len(pad), width, indent + 2) for item in value]
        opening, closing = "[", "]"
    return opening + "\n" + ",\n".join(rows) + "\n" + " " * indent + closing


def normalized_form(t: AvroType) -> str:
    """The full schema as stable text: what the history compares to decide a new version."""
    return compact(to_json(t))
