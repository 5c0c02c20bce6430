"""Avro JSON forms of the IR: the full normalized form, Parsing Canonical Form, fingerprints."""

from __future__ import annotations

import json
from typing import Any

from fastavro.schema import fingerprint as _fingerprint

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


def to_json(t: AvroType, *, canonical: bool = False, _seen: set[str] | None = None) -> Any:
    """Avro JSON for `t`; named types are defined once, then referenced by full name.

    `canonical=True` keeps only what Parsing Canonical Form keeps (no docs, aliases,
    defaults or logical types); otherwise every attribute the IR holds is written,
    with full names and a fixed key order, so equal schemas give equal text.
    """
    seen = set() if _seen is None else _seen
    full = not canonical
    if isinstance(t, Primitive):
        if full and t.logical:
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
            out["type"] = "error" if t.is_error and full else "record"
            if full and t.doc:
                out["doc"] = t.doc
            fields = []
            for f in t.fields:
                fd: dict[str, Any] = {
                    "name": f.name,
                    "type": to_json(f.type, canonical=canonical, _seen=seen),
                }
                if full:
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
            if full and t.doc:
                out["doc"] = t.doc
            out["symbols"] = list(t.symbols)
            if full and t.default is not None:
                out["default"] = t.default
        elif isinstance(t, Fixed):
            out["type"] = "fixed"
            out["size"] = t.size
            if full and t.logical:
                out["logicalType"] = t.logical
                if t.logical == "decimal":
                    out.update(precision=t.precision, scale=t.scale)
        if full and t.aliases:
            out["aliases"] = list(t.aliases)
        return out
    if isinstance(t, Array):
        return {"type": "array", "items": to_json(t.items, canonical=canonical, _seen=seen)}
    if isinstance(t, Map):
        return {"type": "map", "values": to_json(t.values, canonical=canonical, _seen=seen)}
    assert isinstance(t, UnionType)
    return [to_json(b, canonical=canonical, _seen=seen) for b in t.branches]


def compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def canonical_form(t: AvroType) -> str:
    return compact(to_json(t, canonical=True))


def fingerprint(t: AvroType) -> str:
    """CRC-64-AVRO of the Parsing Canonical Form, as 16 hex digits (little-endian bytes)."""
    return str(_fingerprint(canonical_form(t), "CRC-64-AVRO"))


def normalized_form(t: AvroType) -> str:
    """The full schema as stable text: what the history compares to decide a new version."""
    return compact(to_json(t))
