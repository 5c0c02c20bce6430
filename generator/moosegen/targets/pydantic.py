"""Pydantic v2 models, TypedDicts, codecs and a typed producer for each stream.

Every type decision is made here (with `pydantic_mapping.TABLE`); the template lays
out the finished lines. Imports are collected while types are decided, then sorted.
"""

from __future__ import annotations

from typing import Any

from moosegen.diagnostics import Diagnostic
from moosegen.schema.canonical import canonical_form, normalized_form
from moosegen.schema.ir import Array, Enum, Field, Map, Record, UnionType, walk_named
from moosegen.targets import RenderJob, StreamUnit
from moosegen.targets.pydantic_mapping import (
    Types,
    attr_name,
    class_names,
    is_identifier,
    member_name,
)
from moosegen.targets.pydantic_source import (
    INDENT,
    WIDTH,
    call,
    docstring,
    py_str,
    str_expr,
)


def _records_post_order(roots: list[Record]) -> list[Record]:
    """Records with their dependencies first (cycles broken at the back edge)."""
    return [t for t in walk_named(*roots, post_order=True) if isinstance(t, Record)]


def _references(t: Any) -> set[str]:
    if isinstance(t, Record):
        return {t.fullname}
    if isinstance(t, Array):
        return _references(t.items)
    if isinstance(t, Map):
        return _references(t.values)
    if isinstance(t, UnionType):
        return set().union(*(_references(b) for b in t.branches))
    return set()


class _Module:
    def __init__(self, unit: StreamUnit) -> None:
        self.unit = unit
        stream = unit.stream
        self.roots: list[Record] = [stream.schema]
        for dest in stream.destinations:
            if dest.schema is not stream.schema and all(dest.schema is not r for r in self.roots):
                self.roots.append(dest.schema)
        self.names = class_names(self.roots)
        self.types = Types(self.names)
        self.key = set(stream.key)

    def enums(self) -> list[dict[str, Any]]:
        seen: dict[str, Enum] = {}
        for root in self.roots:
            for named in walk_named(root):
                if isinstance(named, Enum):
                    seen.setdefault(named.fullname, named)
        out = []
        for full in sorted(seen):
            enum = seen[full]
            taken: set[str] = set()
            members = {s: member_name(s, taken) for s in enum.symbols}
            self.types.enum_members[full] = members
            self.types.need("enum", "Enum")
            out.append(
                {
                    "name": self.names[full],
                    "doc": docstring(enum.doc or f"Avro enum {full}.", 1),
                    "members": [f"{m} = {py_str(s)}" for s, m in members.items()],
                }
            )
        return out

    def field_kwargs(
        self, record: Record, f: Field, attr: str, flavor: str, indent: int
    ) -> tuple[list[str], str | None]:
        """Keyword arguments of Field(...) and the plain default (when no Field is needed)."""
        kwargs: list[str] = []
        plain: str | None = None
        if isinstance(f.type, UnionType) and len(f.type.non_null) > 1:
            kwargs.append('union_mode="left_to_right"')
        if f.has_default:
            if f.default == [] and isinstance(f.type, Array):
                kwargs.append("default_factory=list")
            elif f.default == {} and isinstance(f.type, Map):
                kwargs.append("default_factory=dict")
            else:
                src, validate = self.types.default(f.type, f.default, indent + 1, 8)
                if validate:
                    kwargs += [f"default={src}", "validate_default=True"]
                else:
                    plain = src
        if flavor == "model" and attr != f.name and not f.aliases:
            kwargs.append(f"alias={py_str(f.name)}")
        elif f.aliases:
            self.types.need("pydantic", "AliasChoices")
            names = ", ".join(py_str(n) for n in [f.name, *f.aliases])
            kwargs.append(f"validation_alias=AliasChoices({names})")
            if flavor == "model" and attr != f.name:
                kwargs.append(f"serialization_alias={py_str(f.name)}")
        if f.doc:
            kwargs.append("description=" + str_expr(f.doc, indent + 1, len("description=")))
        if f.name in self.key and record is self.unit.stream.schema:
            kwargs.append('json_schema_extra={"key": True}')
        if kwargs and plain is not None:
            kwargs.insert(0, f"default={plain}")
            plain = None
        if kwargs:
            self.types.need("pydantic", "Field")
        return kwargs, plain

    def model(self, record: Record) -> dict[str, Any]:
        taken: set[str] = set()
        lines = []
        for f in record.fields:
            attr = attr_name(f.name, taken)
            ann = self.types.annotation(f.type, "model", top=True)
            kwargs, plain = self.field_kwargs(record, f, attr, "model", 1)
            head = f"{attr}: {ann}"
            if kwargs:
                lines.append(f"{head} = " + call("Field(", kwargs, 1, len(head) + 3))
            elif plain is not None:
                lines.append(f"{head} = {plain}")
            else:
                lines.append(head)
        name = self.names[record.fullname]
        return {
            "name": name,
            "doc": docstring(record.doc or f"Avro record {record.fullname}.", 1),
            "avro_name": py_str(record.fullname),
            "fields": lines,
        }

    def typed_dict(self, record: Record, defined: set[str]) -> dict[str, Any]:
        name = self.names[record.fullname] + "Dict"
        functional = not all(is_identifier(f.name) for f in record.fields)
        lines = []
        for f in record.fields:
            ann = self.types.annotation(f.type, "dict", top=True)
            level = 3 if functional else 2
            kwargs, plain = self.field_kwargs(record, f, f.name, "dict", level)
            if plain is not None:
                kwargs.insert(0, f"default={plain}")
            inner = None
            if kwargs:
                self.types.need("pydantic", "Field")
                self.types.need("typing", "Annotated")
                inner = call("Field(", kwargs, level, 0)
            if functional:
                forward = bool(_references(f.type) - defined)
                lines.append(self._functional_item(f.name, ann, inner, forward))
            else:
                lines.append(self._class_item(f.name, ann, inner))
        return {
            "name": name,
            "functional": functional,
            "doc": docstring(record.doc or f"Avro record {record.fullname} as plain values.", 1),
            "fields": lines,
        }

    def _class_item(self, key: str, ann: str, inner: str | None) -> str:
        if inner is None:
            return f"{key}: {ann}"
        one = f"{key}: Annotated[{ann}, {inner}]"
        if "\n" not in one and len(INDENT) + len(one) <= WIDTH:
            return one
        return f"{key}: " + call("Annotated[", [ann, inner], 1, len(key) + 2, "]")

    def _functional_item(self, key: str, ann: str, inner: str | None, forward: bool) -> str:
        head = f"{py_str(key)}: "
        if forward:
            text = ann if inner is None else f"Annotated[{ann}, {inner}]"
            return head + py_str(" ".join(text.split()).replace("( ", "(").replace(",)", ")"))
        if inner is None:
            return head + ann
        one = f"{head}Annotated[{ann}, {inner}]"
        if "\n" not in one and 2 * len(INDENT) + len(one) <= WIDTH:
            return one
        return head + call("Annotated[", [ann, inner], 2, len(head), "]")


def context(unit: StreamUnit) -> dict[str, Any]:
    stream = unit.stream
    module = _Module(unit)
    types = module.types
    enums = module.enums()
    records = _records_post_order(module.roots)
    models = [module.model(r) for r in records]
    defined: set[str] = set()
    dicts = []
    for r in records:
        dicts.append(module.typed_dict(r, defined))
        defined.add(r.fullname)
    main = module.names[stream.schema.fullname]
    adapters = [("ROWS", f"{main}Dict")]
    destinations = []
    for dest in stream.destinations:
        cls = module.names[dest.schema.fullname]
        if dest.schema is stream.schema:
            destinations.append((py_str(dest.name), "MODEL", "ROWS"))
            continue
        const = f"{dest.name.upper()}_ROWS"
        if all(const != a for a, _ in adapters):
            adapters.append((const, f"{cls}Dict"))
        destinations.append((py_str(dest.name), cls, const))
    for module_name, name in (
        ("pydantic", "BaseModel"),
        ("pydantic", "TypeAdapter"),
        ("typing", "Any"),
        ("typing", "ClassVar"),
        ("typing_extensions", "TypedDict"),
    ):
        types.need(module_name, name)
    current = unit.current
    writer_consts = []
    for v in unit.versions:
        if v.id == current.id:
            continue
        writer_consts.append(
            (
                f"_SCHEMA_V{v.version}",
                v.id,
                v.fingerprint,
                str_expr(normalized_form(v.schema), 0, len("_SCHEMA_VNN = ")),
            )
        )
    writers = [
        (v.id, "SCHEMA_JSON" if v.id == current.id else f"_SCHEMA_V{v.version}")
        for v in unit.versions
    ]
    spec = stream.spec
    fmt = spec.format
    return {
        "header": unit.header,
        "stream": stream.name,
        "topic": py_str(stream.topic),
        "imports": _imports(types.imports),
        "schema_json": str_expr(normalized_form(current.schema), 0, len("SCHEMA_JSON = ")),
        "canonical": str_expr(canonical_form(current.schema), 0, len("CANONICAL_FORM = ")),
        "fingerprint": py_str(current.fingerprint),
        "schema_id": current.id,
        "writer_consts": writer_consts,
        "writers": writers,
        "fingerprints": [(py_str(v.fingerprint), v.id) for v in unit.versions],
        "key_fields": _tuple(stream.key),
        "partition_key_fields": _tuple(spec.topic.partition_key),
        "format": fmt,
        "enums": enums,
        "models": models,
        "dicts": dicts,
        "main": main,
        "adapters": [_adapter(const, name) for const, name in adapters],
        "destinations": destinations,
    }


def _adapter(const: str, dict_name: str) -> str:
    head = f"{const}: TypeAdapter[list[{dict_name}]] = "
    return head + call(
        "TypeAdapter(", [f"list[{dict_name}]", "config=avro_codec.CONFIG"], 0, len(head)
    )


def _tuple(names: list[str]) -> str:
    if not names:
        return "()"
    if len(names) == 1:
        return f"({py_str(names[0])},)"
    return "(" + ", ".join(py_str(n) for n in names) + ")"


STDLIB = ("datetime", "decimal", "enum", "typing", "uuid")


def _imports(needed: set[tuple[str, str]]) -> list[list[str]]:
    """Import lines grouped as ruff's isort lays them out: stdlib, then third-party."""
    by_module: dict[str, set[str]] = {}
    for module, name in needed:
        by_module.setdefault(module, set()).add(name)

    def order(name: str) -> tuple[int, str]:
        if name.isupper() and len(name) > 1:
            return (0, name)
        return (1 if name[:1].isupper() else 2, name)

    groups: list[list[str]] = [[], []]
    for module in sorted(by_module):
        names = sorted(by_module[module], key=order)
        head = f"from {module} import "
        one = head + ", ".join(names)
        if len(one) > WIDTH:
            one = head + "(\n" + "".join(f"    {n},\n" for n in names) + ")"
        groups[0 if module in STDLIB else 1].append(one)
    return [g for g in groups if g]


def jobs(unit: StreamUnit, diags: list[Diagnostic]) -> list[RenderJob]:
    return [RenderJob("models/models.py.j2", f"{unit.stream.package}/models.py", context(unit))]
