"""The models target: a stream's Pydantic models, TypedDict rows, codecs and producer, as a plan.

Every type decision comes from `pydantic_mapping`; this module names things and
collects them into a `ModelsPlan` (`pydantic_plan`), and `templates/models/` lay
out the text.
"""

from __future__ import annotations

from typing import Any

from moosegen.diagnostics import Diagnostic
from moosegen.schema.canonical import readable_form
from moosegen.schema.ir import Array, Enum, Field, Map, Record, UnionType, walk_named
from moosegen.targets import RenderJob, SchemaVersion, StreamUnit
from moosegen.targets.pydantic_mapping import (
    Types,
    attr_name,
    class_names,
    is_identifier,
    member_name,
    wants_union_mode,
)
from moosegen.targets.pydantic_plan import (
    Destination,
    EnumClass,
    EnumMember,
    FieldPlan,
    Import,
    ModelClass,
    ModelsPlan,
    RowDict,
    RowsAdapter,
    VersionPlan,
)


def _references(t: Any) -> set[str]:
    """Full names of the records a type names."""
    if isinstance(t, Record):
        return {t.fullname}
    if isinstance(t, Array):
        return _references(t.items)
    if isinstance(t, Map):
        return _references(t.values)
    if isinstance(t, UnionType):
        return set().union(*(_references(b) for b in t.branches))
    return set()


class _Planner:
    """Names and decisions of one module; `types` collects the imports as it decides."""

    def __init__(self, unit: StreamUnit) -> None:
        self.unit = unit
        stream = unit.stream
        self.roots: list[Record] = [stream.schema]
        for dest in stream.destinations:
            if all(dest.schema is not r for r in self.roots):
                self.roots.append(dest.schema)
        self.names = class_names(self.roots)
        self.types = Types(self.names)
        self.key = set(stream.key)

    def enums(self) -> list[EnumClass]:
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
            out.append(
                EnumClass(
                    self.names[full],
                    full,
                    enum.doc or f"Avro enum {full}.",
                    tuple(EnumMember(m, s) for s, m in members.items()),
                )
            )
        return out

    def field(self, record: Record, f: Field, attr: str, flavor: str, forward: bool) -> FieldPlan:
        """`flavor`: "model" (a model's field) or "dict" (a TypedDict's item)."""
        hint = self.types.annotation(f.type, flavor, top=True)
        multi = wants_union_mode(f.type)
        default: str | None = None
        factory: str | None = None
        validate = False
        if f.has_default:
            if f.default == [] and isinstance(f.type, Array):
                factory = "list"
            elif f.default == {} and isinstance(f.type, Map):
                factory = "dict"
            else:
                default, validate = self.types.default(f.type, f.default)
        renamed = flavor == "model" and attr != f.name
        choices = (f.name, *f.aliases) if f.aliases else ()
        if choices:
            self.types.need("pydantic", "AliasChoices")
        is_key = f.name in self.key and record is self.unit.stream.schema
        options = bool(multi or factory or (renamed and not choices) or choices or f.doc or is_key)
        in_field = options or validate or (flavor == "dict" and default is not None)
        if in_field:
            self.types.need("pydantic", "Field")
            if flavor == "dict":
                self.types.need("typing", "Annotated")
        return FieldPlan(
            name=f.name,
            attr=attr,
            type_hint=hint,
            default=default,
            default_factory=factory,
            validate_default=validate,
            alias=f.name if renamed and not choices else None,
            validation_aliases=choices,
            serialization_alias=f.name if renamed and choices else None,
            description=f.doc or None,
            is_key=is_key,
            union_mode="left_to_right" if multi else None,
            in_field=in_field,
            forward=forward,
        )

    def model(self, record: Record) -> ModelClass:
        taken: set[str] = set()
        fields = tuple(
            self.field(record, f, attr_name(f.name, taken), "model", False) for f in record.fields
        )
        return ModelClass(
            self.names[record.fullname],
            record.fullname,
            record.doc or f"Avro record {record.fullname}.",
            fields,
        )

    def row_dict(self, record: Record, defined: set[str]) -> RowDict:
        functional = not all(is_identifier(f.name) for f in record.fields)
        items = tuple(
            self.field(
                record, f, f.name, "dict", functional and bool(_references(f.type) - defined)
            )
            for f in record.fields
        )
        return RowDict(
            self.names[record.fullname] + "Dict",
            record.fullname,
            record.doc or f"Avro record {record.fullname} as plain values.",
            functional,
            items,
        )


def _version(v: SchemaVersion, current: SchemaVersion) -> VersionPlan:
    is_current = v.id == current.id
    return VersionPlan(
        version=v.version,
        id=v.id,
        fingerprint=v.fingerprint,
        schema_json=readable_form(v.schema),
        constant="SCHEMA_JSON" if is_current else f"_SCHEMA_V{v.version}",
        is_current=is_current,
    )


def plan(unit: StreamUnit, diags: list[Diagnostic]) -> ModelsPlan:
    """Everything `models.py` holds, decided (the models target adds no findings to `diags`)."""
    stream = unit.stream
    planner = _Planner(unit)
    enums = planner.enums()
    records = [t for t in walk_named(*planner.roots, post_order=True) if isinstance(t, Record)]
    models = [planner.model(r) for r in records]
    defined: set[str] = set()
    row_dicts = []
    for r in records:
        row_dicts.append(planner.row_dict(r, defined))
        defined.add(r.fullname)
    main = planner.names[stream.schema.fullname]
    adapters = [RowsAdapter("ROWS", f"{main}Dict")]
    destinations = []
    for dest in stream.destinations:
        cls = planner.names[dest.schema.fullname]
        rows = "ROWS" if dest.schema is stream.schema else f"{dest.name.upper()}_ROWS"
        if all(rows != a.name for a in adapters):
            adapters.append(RowsAdapter(rows, f"{cls}Dict"))
        destinations.append(Destination(dest.name, cls, rows))
    return ModelsPlan(
        stream=stream.name,
        topic=stream.topic,
        format=stream.spec.format,
        # Sorted only to be the same on every run; ruff lays the import block out.
        imports=tuple(Import(m, n) for m, n in sorted(planner.types.imports)),
        enums=tuple(enums),
        models=tuple(models),
        row_dicts=tuple(row_dicts),
        main=main,
        adapters=tuple(adapters),
        destinations=tuple(destinations),
        versions=tuple(_version(v, unit.current) for v in unit.versions),
        key_fields=tuple(stream.key),
        partition_key_fields=tuple(stream.spec.topic.partition_key),
    )


def render_jobs(models: ModelsPlan, package: str, header: str) -> list[RenderJob]:
    context = {"models": models, "header": header}
    return [RenderJob("models/models.py.j2", f"{package}/models.py", context)]
