"""The Avro-centred schema IR.

Every node keeps what Avro defines (logical types, defaults, aliases, namespaces,
docs) and where it came from, so later stages can decide and report precisely.
Named types are shared objects: a reference and a definition are the same node,
which is how recursive schemas are represented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True)
class Loc:
    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(eq=False)
class Primitive:
    name: str
    logical: str | None = None
    precision: int | None = None
    scale: int | None = None


@dataclass(eq=False)
class Named:
    name: str
    namespace: str | None
    aliases: list[str] = field(default_factory=list)
    doc: str | None = None
    loc: Loc | None = None

    @property
    def fullname(self) -> str:
        return f"{self.namespace}.{self.name}" if self.namespace else self.name


@dataclass(eq=False)
class Field:
    name: str
    type: AvroType
    default: Any = NO_DEFAULT
    doc: str | None = None
    aliases: list[str] = field(default_factory=list)
    order: str | None = None
    loc: Loc | None = None
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT


@dataclass(eq=False)
class Record(Named):
    fields: list[Field] = field(default_factory=list)
    is_error: bool = False


@dataclass(eq=False)
class Enum(Named):
    symbols: list[str] = field(default_factory=list)
    default: str | None = None


@dataclass(eq=False)
class Fixed(Named):
    size: int = 0
    logical: str | None = None
    precision: int | None = None
    scale: int | None = None


@dataclass(eq=False)
class Array:
    items: AvroType


@dataclass(eq=False)
class Map:
    values: AvroType


@dataclass(eq=False)
class UnionType:
    branches: list[AvroType]

    @property
    def non_null(self) -> list[AvroType]:
        return [b for b in self.branches if not (isinstance(b, Primitive) and b.name == "null")]

    @property
    def is_nullable(self) -> bool:
        return len(self.non_null) < len(self.branches)


AvroType = Primitive | Record | Enum | Fixed | Array | Map | UnionType


def type_name(t: AvroType) -> str:
    """The Avro type name of a node: a primitive name, a full name, or the complex kind."""
    if isinstance(t, Primitive):
        return t.name
    if isinstance(t, Named):
        return t.fullname
    if isinstance(t, Array):
        return "array"
    if isinstance(t, Map):
        return "map"
    return "union"


def walk_named(*roots: AvroType, post_order: bool = False) -> list[Named]:
    """Every named type reachable from `roots`, depth first, each once: in first-seen
    order, or with `post_order` after the types it refers to (cycles broken at the back
    edge), which is the order definitions must come in."""
    seen: set[int] = set()
    out: list[Named] = []

    def visit(t: AvroType) -> None:
        if isinstance(t, Named):
            if id(t) in seen:
                return
            seen.add(id(t))
            if not post_order:
                out.append(t)
            if isinstance(t, Record):
                for f in t.fields:
                    visit(f.type)
            if post_order:
                out.append(t)
        elif isinstance(t, Array):
            visit(t.items)
        elif isinstance(t, Map):
            visit(t.values)
        elif isinstance(t, UnionType):
            for b in t.branches:
                visit(b)

    for root in roots:
        visit(root)
    return out
