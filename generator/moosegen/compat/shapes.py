"""Structural shapes of IR nodes: two nodes of one shape read each other compatibly.

A shape is a string naming everything Avro schema resolution looks at (full names,
field names and aliases, symbols, sizes, item/value/branch shapes) and nothing it
ignores (docs, defaults, logical types, type aliases), so the checker can accept a
reader/writer pair of equal shapes without descending. Strings keep their hash, so
sets of shapes compare at C speed.

Recursive types, and records whose field aliases make a field match twice (Java
reports those even against themselves), have no shape: the checker walks them.
Shapes are computed once per node and kept as long as the node lives.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from moosegen.schema.ir import Array, AvroType, Enum, Fixed, Map, Primitive, Record, UnionType

_SHAPES: WeakKeyDictionary[AvroType, str | None] = WeakKeyDictionary()
_UNKNOWN = "?"  # no shape starts with "?"
_FIELDS: WeakKeyDictionary[Record, frozenset[tuple[str, str]]] = WeakKeyDictionary()


def shape(t: AvroType) -> str | None:
    """The node's shape; None when it has none (see the module docstring)."""
    if isinstance(t, Primitive):
        return t.name
    try:
        return _SHAPES[t]
    except KeyError:
        return _shape(t, set())


def plain_fields(record: Record) -> frozenset[tuple[str, str]]:
    """(name, type shape) of every field without aliases whose type has a shape: such a
    reader field reads a writer field of the same entry."""
    entries = _FIELDS.get(record)
    if entries is None:
        entries = frozenset(
            (f.name, s) for f in record.fields if not f.aliases and (s := shape(f.type)) is not None
        )
        _FIELDS[record] = entries
    return entries


def _shape(t: AvroType, open_nodes: set[int]) -> str | None:
    if isinstance(t, Primitive):
        return t.name
    known = _SHAPES.get(t, _UNKNOWN)
    if known is not _UNKNOWN:
        return known
    if id(t) in open_nodes:
        return None  # recursion: no shape for anything on the cycle
    open_nodes.add(id(t))
    out = _compose(t, open_nodes)
    open_nodes.discard(id(t))
    _SHAPES[t] = out
    return out


def _compose(t: AvroType, open_nodes: set[int]) -> str | None:
    if isinstance(t, Record):
        names = {f.name for f in t.fields}
        parts = []
        for f in t.fields:
            sub = _shape(f.type, open_nodes)
            if sub is None:
                return None
            if not f.aliases:
                parts.append(f"{f.name}:{sub}")
            elif any(a in names for a in f.aliases):
                return None
            else:
                parts.append(f"{f.name}/{','.join(f.aliases)}:{sub}")
        return f"record {t.fullname}{{{';'.join(parts)}}}"
    if isinstance(t, Enum):
        return f"enum {t.fullname}[{','.join(t.symbols)}]"
    if isinstance(t, Fixed):
        return f"fixed {t.fullname}({t.size})"
    if isinstance(t, Array | Map):
        sub = _shape(t.items if isinstance(t, Array) else t.values, open_nodes)
        return None if sub is None else f"{'array' if isinstance(t, Array) else 'map'}<{sub}>"
    assert isinstance(t, UnionType)
    branches = [_shape(b, open_nodes) for b in t.branches]
    if any(b is None for b in branches):
        return None
    return f"union[{','.join(b for b in branches if b is not None)}]"
