"""Avro JSON → IR, with one named-type table shared by every document of a project.

Pass one registers every named definition of every document; pass two builds the
IR, resolving references through the shared table, so a record defined in one
`.avsc` can be used from another, in any order, and recursion just works.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from moosegen.diagnostics import Diagnostic
from moosegen.schema.ir import (
    NO_DEFAULT,
    PRIMITIVES,
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
    type_name,
)
from moosegen.sourcemap import JsonPath, SourceMap

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
NAMED_KINDS = ("record", "error", "enum", "fixed")
# Debezium marks a JSON column's string this way instead of with a logical type.
DEBEZIUM_JSON = "io.debezium.data.Json"
_FIELD_KEYS = frozenset(("name", "type", "default", "doc", "aliases", "order"))
INT_RANGE = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
LOGICAL_BASES: dict[str, tuple[str, ...]] = {
    "decimal": ("bytes", "fixed"),
    "uuid": ("string", "fixed"),
    "json": ("string",),  # JSON text; the model holds the parsed object
    "date": ("int",),
    "time-millis": ("int",),
    "time-micros": ("long",),
    "timestamp-millis": ("long",),
    "timestamp-micros": ("long",),
    "timestamp-nanos": ("long",),
    "local-timestamp-millis": ("long",),
    "local-timestamp-micros": ("long",),
    "local-timestamp-nanos": ("long",),
    "duration": ("fixed",),
}


@dataclass
class _Definition:
    data: dict[str, Any]
    smap: SourceMap
    where: JsonPath
    namespace: str | None


def is_valid_name(name: object) -> TypeGuard[str]:
    return isinstance(name, str) and bool(NAME_RE.match(name))


def is_valid_namespace(ns: object) -> bool:
    return (
        ns is None
        or ns == ""
        or (isinstance(ns, str) and all(NAME_RE.match(p) for p in ns.split(".")))
    )


def split_fullname(name: str, namespace: str | None) -> tuple[str, str | None]:
    if "." in name:
        ns, _, short = name.rpartition(".")
        return short, ns
    return name, namespace or None


class SchemaSet:
    """The named types of a project and the diagnostics found while building them."""

    def __init__(self) -> None:
        self.definitions: dict[str, _Definition] = {}
        self.built: dict[str, Record | Enum | Fixed] = {}
        self.diagnostics: list[Diagnostic] = []

    # -- pass one ------------------------------------------------------------------

    def register(
        self, data: Any, smap: SourceMap, where: JsonPath = (), namespace: str | None = None
    ) -> None:
        """Record every named definition inside `data` (a whole document or a fragment)."""
        if isinstance(data, list):
            for i, item in enumerate(data):
                self.register(item, smap, (*where, i), namespace)
            return
        if not isinstance(data, dict):
            return
        kind = data.get("type")
        if kind in NAMED_KINDS:
            name = data.get("name")
            ns = data.get("namespace", namespace)
            if not is_valid_name(str(name).rpartition(".")[2]) or not isinstance(name, str):
                self._err(
                    smap,
                    (*where, "name"),
                    "AVRO_BAD_NAME",
                    f"invalid {kind} name {name!r}: must match [A-Za-z_][A-Za-z0-9_]*",
                )
                return
            if (ns is not None and not is_valid_namespace(ns)) or not is_valid_namespace(
                name.rpartition(".")[0]
            ):
                self._err(smap, (*where, "namespace"), "AVRO_BAD_NAME", f"invalid namespace {ns!r}")
                return
            short, ns = split_fullname(name, ns)
            full = f"{ns}.{short}" if ns else short
            if short in PRIMITIVES:
                self._err(
                    smap,
                    (*where, "name"),
                    "AVRO_BAD_NAME",
                    f"{short!r} is a primitive type name and cannot name a {kind}",
                )
                return
            if full in self.definitions:
                first = self.definitions[full]
                line, col = first.smap.pos((*first.where, "name"))
                self._err(
                    smap,
                    (*where, "name"),
                    "AVRO_DUPLICATE_TYPE",
                    f"named type {full!r} is already defined at {first.smap.path}:{line}:{col}",
                )
                return
            self.definitions[full] = _Definition(data, smap, where, ns)
            if kind in ("record", "error") and isinstance(data.get("fields"), list):
                for i, f in enumerate(data["fields"]):
                    if isinstance(f, dict) and isinstance(f.get("type"), dict | list):
                        self.register(f["type"], smap, (*where, "fields", i, "type"), ns)
            return
        if kind in ("array", "map"):
            sub = "items" if kind == "array" else "values"
            self.register(data.get(sub), smap, (*where, sub), namespace)
        elif isinstance(kind, dict | list):
            self.register(kind, smap, (*where, "type"), namespace)

    # -- pass two ------------------------------------------------------------------

    def build(
        self, data: Any, smap: SourceMap, where: JsonPath = (), namespace: str | None = None
    ) -> AvroType | None:
        """The IR node for `data`; None (with a diagnostic) when it is not a valid schema."""
        if isinstance(data, str):
            return self._reference(data, smap, where, namespace)
        if isinstance(data, list):
            return self._union(data, smap, where, namespace)
        if not isinstance(data, dict):
            self._err(
                smap,
                where,
                "AVRO_BAD_SCHEMA",
                f"a schema must be a type name, an object or a union, not {data!r}",
            )
            return None
        if "type" not in data:
            self._err(smap, where, "AVRO_BAD_SCHEMA", "schema object has no 'type'")
            return None
        kind = data["type"]
        if kind in NAMED_KINDS:
            name = data.get("name")
            if not isinstance(name, str):
                self._err(smap, (*where, "name"), "AVRO_BAD_NAME", f"{kind} needs a string 'name'")
                return None
            short, ns = split_fullname(name, data.get("namespace", namespace))
            full = f"{ns}.{short}" if ns else short
            definition = self.definitions.get(full)
            if definition is None or definition.data is not data:
                return None  # already reported while registering
            return self._named(full)
        if kind == "array":
            items = self._sub(data, "items", smap, where, namespace)
            return Array(items) if items is not None else None
        if kind == "map":
            values = self._sub(data, "values", smap, where, namespace)
            return Map(values) if values is not None else None
        if isinstance(kind, str) and kind in PRIMITIVES:
            return self._primitive(kind, data, smap, where)
        if isinstance(kind, dict | list):
            return self.build(kind, smap, (*where, "type"), namespace)
        if isinstance(kind, str):
            return self._reference(kind, smap, (*where, "type"), namespace)
        self._err(smap, (*where, "type"), "AVRO_BAD_SCHEMA", f"invalid type {kind!r}")
        return None

    def _sub(
        self,
        data: dict[str, Any],
        key: str,
        smap: SourceMap,
        where: JsonPath,
        namespace: str | None,
    ) -> AvroType | None:
        if key not in data:
            self._err(smap, where, "AVRO_BAD_SCHEMA", f"{data['type']} schema needs '{key}'")
            return None
        return self.build(data[key], smap, (*where, key), namespace)

    def _reference(
        self, name: str, smap: SourceMap, where: JsonPath, namespace: str | None
    ) -> AvroType | None:
        if name in PRIMITIVES:
            return Primitive(name)
        candidates = (
            [name] if "." in name else ([f"{namespace}.{name}"] if namespace else []) + [name]
        )
        for full in candidates:
            if full in self.definitions:
                return self._named(full)
        self._err(
            smap,
            where,
            "AVRO_UNKNOWN_TYPE",
            f"unknown type {name!r}: not a primitive and not defined in any schema file",
        )
        return None

    def _union(
        self, branches: list[Any], smap: SourceMap, where: JsonPath, namespace: str | None
    ) -> AvroType | None:
        built: list[AvroType] = []
        seen: dict[str, int] = {}
        ok = True
        for i, b in enumerate(branches):
            t = self.build(b, smap, (*where, i), namespace)
            if t is None:
                ok = False
                continue
            if isinstance(t, UnionType):
                self._err(
                    smap, (*where, i), "AVRO_BAD_UNION", "a union may not directly contain a union"
                )
                ok = False
                continue
            key = type_name(t)
            if key in seen:
                self._err(
                    smap, (*where, i), "AVRO_BAD_UNION", f"union has two branches of type {key!r}"
                )
                ok = False
                continue
            seen[key] = i
            built.append(t)
        if not branches:
            self._err(smap, where, "AVRO_BAD_UNION", "a union needs at least one branch")
            return None
        return UnionType(built) if ok else None

    def _primitive(
        self, kind: str, data: dict[str, Any], smap: SourceMap, where: JsonPath
    ) -> Primitive:
        logical = data.get("logicalType")
        node = Primitive(kind)
        if logical is None and kind == "string" and data.get("connect.name") == DEBEZIUM_JSON:
            logical = "json"
        if logical is None:
            return node
        if not self._logical_ok(logical, kind, data, smap, where, size=None):
            return node
        node.logical = logical
        if logical == "decimal":
            node.precision, node.scale = data["precision"], data.get("scale", 0)
        return node

    def _logical_ok(
        self,
        logical: Any,
        base: str,
        data: dict[str, Any],
        smap: SourceMap,
        where: JsonPath,
        size: int | None,
    ) -> bool:
        """Avro ignores an invalid logical type; we say so as a warning."""
        problem = None
        if not isinstance(logical, str) or logical not in LOGICAL_BASES:
            problem = f"unknown logical type {logical!r}"
        elif base not in LOGICAL_BASES[logical]:
            problem = f"logical type {logical!r} cannot annotate {base!r}"
        elif logical == "decimal":
            precision, scale = data.get("precision"), data.get("scale", 0)
            if not isinstance(precision, int) or isinstance(precision, bool) or precision < 1:
                problem = "decimal needs an integer 'precision' of at least 1"
            elif (
                not isinstance(scale, int) or isinstance(scale, bool) or not 0 <= scale <= precision
            ):
                problem = "decimal 'scale' must be an integer between 0 and the precision"
            elif size is not None and precision > math.floor(math.log10(2 ** (8 * size - 1) - 1)):
                problem = f"decimal precision {precision} does not fit in fixed({size})"
        elif logical == "duration" and size != 12:
            problem = "duration must annotate a fixed of size 12"
        elif logical == "uuid" and base == "fixed" and size != 16:
            problem = "uuid on fixed needs size 16"
        if problem:
            self._err(
                smap,
                (*where, "logicalType"),
                "AVRO_BAD_LOGICAL_TYPE",
                f"{problem}; Avro falls back to the underlying type",
                severity="warning",
            )
            return False
        return True

    def _named(self, full: str) -> Record | Enum | Fixed:
        if full in self.built:
            return self.built[full]
        d = self.definitions[full]
        data, smap, where, ns = d.data, d.smap, d.where, d.namespace
        short = full.rpartition(".")[2]
        loc = _name_loc(smap, where)
        aliases = self._aliases(data, smap, where, named=True)
        doc = data.get("doc") if isinstance(data.get("doc"), str) else None
        kind = data["type"]
        if kind in ("record", "error"):
            record = Record(short, ns, aliases, doc, loc, is_error=kind == "error")
            self.built[full] = record
            self._fields(record, data, smap, where)
            return record
        if kind == "enum":
            enum = Enum(short, ns, aliases, doc, loc)
            self.built[full] = enum
            self._symbols(enum, data, smap, where)
            return enum
        size = data.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            self._err(
                smap,
                (*where, "size"),
                "AVRO_BAD_SCHEMA",
                "fixed needs a non-negative integer 'size'",
            )
            size = 0
        fixed = Fixed(short, ns, aliases, doc, loc, size=size)
        logical = data.get("logicalType")
        if logical is not None and self._logical_ok(logical, "fixed", data, smap, where, size):
            fixed.logical = logical
            if logical == "decimal":
                fixed.precision, fixed.scale = data["precision"], data.get("scale", 0)
        self.built[full] = fixed
        return fixed

    def _aliases(
        self, data: dict[str, Any], smap: SourceMap, where: JsonPath, named: bool = False
    ) -> list[str]:
        """A named type's alias may start with `.` (the null namespace), as Avro Java reads it."""
        aliases = data.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            self._err(
                smap, (*where, "aliases"), "AVRO_BAD_SCHEMA", "'aliases' must be a list of names"
            )
            return []
        for i, alias in enumerate(aliases):
            name = alias[1:] if named and alias.startswith(".") else alias
            if not all(NAME_RE.match(p) for p in name.split(".")):
                self._err(smap, (*where, "aliases", i), "AVRO_BAD_NAME", f"invalid alias {alias!r}")
        return list(aliases)

    def _fields(
        self, record: Record, data: dict[str, Any], smap: SourceMap, where: JsonPath
    ) -> None:
        fields = data.get("fields")
        if not isinstance(fields, list):
            self._err(
                smap, where, "AVRO_BAD_SCHEMA", f"record {record.fullname!r} needs a 'fields' list"
            )
            return
        names: set[str] = set()
        for i, fdata in enumerate(fields):
            fwhere = (*where, "fields", i)
            if not isinstance(fdata, dict):
                self._err(smap, fwhere, "AVRO_BAD_SCHEMA", "a field must be an object")
                continue
            name = fdata.get("name")
            if not is_valid_name(name):
                self._err(
                    smap,
                    (*fwhere, "name") if "name" in fdata else fwhere,
                    "AVRO_BAD_NAME",
                    f"invalid field name {name!r}: must match [A-Za-z_][A-Za-z0-9_]*",
                )
                continue
            if name in names:
                self._err(
                    smap,
                    (*fwhere, "name"),
                    "AVRO_DUPLICATE_FIELD",
                    f"record {record.fullname!r} already has a field named {name!r}",
                )
                continue
            names.add(name)
            if "type" not in fdata:
                self._err(smap, fwhere, "AVRO_BAD_SCHEMA", f"field {name!r} has no 'type'")
                continue
            tdata = fdata["type"]
            ftype = (
                self._reference(tdata, smap, (*fwhere, "type"), record.namespace)
                if isinstance(tdata, str)  # most fields: a type name
                else self.build(tdata, smap, (*fwhere, "type"), record.namespace)
            )
            if ftype is None:
                continue
            doc = fdata.get("doc")
            field = Field(  # positional: one is built per field, keywords cost more
                name,
                ftype,
                NO_DEFAULT,  # set below once checked
                doc if isinstance(doc, str) else None,
                self._aliases(fdata, smap, fwhere) if "aliases" in fdata else [],
                fdata.get("order"),
                _name_loc(smap, fwhere),
                {k: v for k, v in fdata.items() if k not in _FIELD_KEYS}
                if len(fdata) > 2  # more than a name and a type
                else {},
            )
            if "default" in fdata:
                problem = default_problem(ftype, fdata["default"])
                if not problem and isinstance(ftype, UnionType):
                    self._later_branch_default(ftype, fdata["default"], smap, (*fwhere, "default"))
                if problem:
                    self._err(
                        smap,
                        (*fwhere, "default"),
                        "AVRO_BAD_DEFAULT",
                        f"default of field {name!r} is invalid: {problem}",
                    )
                else:
                    field.default = fdata["default"]
            record.fields.append(field)

    def _symbols(self, enum: Enum, data: dict[str, Any], smap: SourceMap, where: JsonPath) -> None:
        symbols = data.get("symbols")
        if not isinstance(symbols, list):
            self._err(
                smap, where, "AVRO_BAD_SCHEMA", f"enum {enum.fullname!r} needs a 'symbols' list"
            )
            return
        for i, sym in enumerate(symbols):
            if not is_valid_name(sym):
                self._err(
                    smap, (*where, "symbols", i), "AVRO_BAD_NAME", f"invalid enum symbol {sym!r}"
                )
            elif sym in enum.symbols:
                self._err(
                    smap,
                    (*where, "symbols", i),
                    "AVRO_DUPLICATE_SYMBOL",
                    f"enum {enum.fullname!r} repeats symbol {sym!r}",
                )
            else:
                enum.symbols.append(sym)
        if "default" in data:
            if data["default"] not in enum.symbols:
                self._err(
                    smap,
                    (*where, "default"),
                    "AVRO_BAD_DEFAULT",
                    f"enum default {data['default']!r} is not one of its symbols",
                )
            else:
                enum.default = data["default"]

    def _later_branch_default(
        self, union: UnionType, value: Any, smap: SourceMap, where: JsonPath
    ) -> None:
        """Avro Java (1.12) and Confluent's registry accept a union default that matches a
        later branch; readers then fill it in from that branch. Portable schemas put the
        default's branch first, so say so."""
        first = default_problem(union.branches[0], value)
        if first:
            self._err(
                smap,
                where,
                "AVRO_UNION_DEFAULT_NOT_FIRST",
                f"the default matches a later branch of the union, not the first "
                f"({type_name(union.branches[0])}: {first}); Avro Java accepts it, the Avro "
                f"specification asks for the first branch",
                severity="warning",
            )

    def _err(
        self, smap: SourceMap, where: JsonPath, code: str, message: str, severity: str = "error"
    ) -> None:
        self.diagnostics.append(
            smap.diag(where, code, message, severity=severity, category="SCHEMA")
        )


class _DeferredLoc(Loc):
    """The Loc of an object's "name", looked up when first read, so that a document
    nobody reports on is never scanned for positions."""

    # slots, set through object (Loc is frozen): a schema builds one per field, and
    # this is the cheapest way to make them
    __slots__ = ("_smap", "_owner", "_found")
    _smap: SourceMap
    _owner: JsonPath
    _found: tuple[int, int]

    def __init__(self, smap: SourceMap, owner: JsonPath) -> None:  # no super(): lazy
        object.__setattr__(self, "_smap", smap)
        object.__setattr__(self, "_owner", owner)

    def _pos(self) -> tuple[int, int]:
        try:
            return self._found
        except AttributeError:  # first read
            found = self._smap.pos((*self._owner, "name"))
            object.__setattr__(self, "_found", found)
            return found

    @property
    def path(self) -> str:
        return self._smap.path

    @property
    def line(self) -> int:
        return self._pos()[0]

    @property
    def col(self) -> int:
        return self._pos()[1]

    def plain(self) -> Loc:
        return Loc(self.path, *self._pos())

    def __eq__(self, other: object) -> bool:  # equal to the plain Loc it stands for
        if isinstance(other, _DeferredLoc):
            other = other.plain()
        return self.plain() == other

    def __hash__(self) -> int:
        return hash(self.plain())

    def __repr__(self) -> str:
        return repr(self.plain())

    def __reduce__(self) -> tuple[type[Loc], tuple[str, int, int]]:  # copies are plain
        return Loc, (self.path, *self._pos())


def _name_loc(smap: SourceMap, owner: JsonPath) -> Loc:
    """Where the "name" of the object at `owner` is."""
    if smap.pending:
        return _DeferredLoc(smap, owner)
    line, col = smap.pos((*owner, "name"))
    return Loc(smap.path, line, col)


def _json_text_problem(text: str) -> str | None:
    """Why a json field's default (JSON text, as Avro stores it) is not a JSON object."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        return f"the JSON text does not parse: {exc}"
    return None if isinstance(value, dict) else 'the JSON text must be an object, like "{}"'


def default_problem(t: AvroType, value: Any) -> str | None:
    """Why `value` is not a valid Avro default for `t` (None when it is)."""
    if isinstance(t, UnionType):
        if not t.branches:
            return "empty union"
        first = None
        for b in t.branches:
            problem = default_problem(b, value)
            if problem is None:
                return None
            first = first or problem
        names = ", ".join(type_name(b) for b in t.branches)
        return f"a union default must match one of its branches ({names}): {first}"
    if isinstance(t, Primitive):
        n = t.name
        if n == "null":
            return None if value is None else "expected null"
        if n == "boolean":
            return None if isinstance(value, bool) else "expected true or false"
        if n in INT_RANGE:
            lo, hi = INT_RANGE[n]
            if not isinstance(value, int) or isinstance(value, bool):
                return f"expected an integer ({n})"
            return None if lo <= value <= hi else f"{value} is out of range for {n}"
        if n in ("float", "double"):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return (
                None
                if ok or value in ("NaN", "Infinity", "-Infinity")
                else f"expected a number ({n})"
            )
        if n == "string":
            if not isinstance(value, str):
                return "expected a string"
            return _json_text_problem(value) if t.logical == "json" else None
        if n == "bytes":
            if not isinstance(value, str):
                return "expected a string of bytes (code points 0-255)"
            return (
                None
                if all(ord(c) < 256 for c in value)
                else "bytes default has code points above 255"
            )
    if isinstance(t, Fixed):
        if not isinstance(value, str) or any(ord(c) > 255 for c in value):
            return "expected a string of bytes (code points 0-255)"
        return (
            None if len(value) == t.size else f"expected exactly {t.size} bytes, got {len(value)}"
        )
    if isinstance(t, Enum):
        return None if value in t.symbols else f"{value!r} is not a symbol of {t.fullname}"
    if isinstance(t, Array):
        if not isinstance(value, list):
            return "expected a list"
        for i, item in enumerate(value):
            if p := default_problem(t.items, item):
                return f"item {i}: {p}"
        return None
    if isinstance(t, Map):
        if not isinstance(value, dict):
            return "expected an object"
        for k, item in value.items():
            if p := default_problem(t.values, item):
                return f"value {k!r}: {p}"
        return None
    if isinstance(t, Record):
        if not isinstance(value, dict):
            return "expected an object"
        for f in t.fields:
            if f.name in value:
                if p := default_problem(f.type, value[f.name]):
                    return f"field {f.name!r}: {p}"
            elif not f.has_default:
                return f"missing field {f.name!r}"
        return None
    return None
