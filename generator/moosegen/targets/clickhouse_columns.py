"""The columns of a destination table at one schema version, and the diagnostics reporter.

Types come from the Mapper (clickhouse_types); the spec's per-column settings
are applied on top, each checked and refused with a located error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from moosegen.diagnostics import Diagnostic, Severity
from moosegen.runtime.chvalues import quote_identifier, quote_string
from moosegen.schema.ir import Loc, Primitive, Record, UnionType
from moosegen.spec.load import Destination
from moosegen.spec.model import ColumnSpec, JsonColumnSpec
from moosegen.targets import StreamUnit
from moosegen.targets.clickhouse_plan import Column
from moosegen.targets.clickhouse_types import (
    Mapper,
    default_literal,
    enum_numbering,
    expression_problem,
    type_problem,
)

LINEAGE = (
    ("_topic", "LowCardinality(String)"),
    ("_partition", "Int32"),
    ("_offset", "Int64"),
    ("_timestamp", "DateTime64(3, 'UTC')"),
)
SORTABLE_LC = ("String", "FixedString", "Nullable(String)", "Nullable(FixedString")
COLLAPSING = ("CollapsingMergeTree", "VersionedCollapsingMergeTree")


@dataclass
class Reporter:
    """Collects diagnostics, each reported once, located at a field or in the spec;
    with `diags` None it is quiet (versions already reported, or a look-up)."""

    unit: StreamUnit
    diags: list[Diagnostic] | None
    seen: set[tuple[str, int, int, str, str]] = field(default_factory=set)

    def at(self, loc: Loc | None, code: str, message: str, severity: Severity = "warning") -> None:
        if self.diags is None:
            return
        if loc is None:
            d = self.unit.stream.smap.diag(
                ("schema",), code, message, severity=severity, category="CLICKHOUSE"
            )
        else:
            d = Diagnostic(loc.path, loc.line, loc.col, severity, code, message, "CLICKHOUSE")
        key = (d.path, d.line, d.col, d.code, d.message)
        if key not in self.seen:
            self.seen.add(key)
            self.diags.append(d)

    def spec(
        self, where: tuple[str | int, ...], code: str, message: str, severity: Severity = "error"
    ) -> None:
        if self.diags is not None:
            self.diags.append(
                self.unit.stream.smap.diag(
                    where, code, message, severity=severity, category="CLICKHOUSE"
                )
            )

    def expression(self, where: tuple[str | int, ...], what: str, text: str) -> bool:
        """True if `text` is a single safe expression; else a located CH_BAD_EXPRESSION."""
        problem = expression_problem(text)
        if problem:
            self.spec(where, "CH_BAD_EXPRESSION", f"{what} {text!r}: {problem}")
        return problem is None


def uses_stream_schema(unit: StreamUnit, dest: Destination) -> bool:
    return dest.schema is unit.stream.schema


def _schema_at(unit: StreamUnit, dest: Destination, index: int) -> Record:
    """The destination's record at history position `index` (own-schema destinations: current)."""
    return unit.versions[index].schema if uses_stream_schema(unit, dest) else dest.schema


def _is_null(t: object) -> bool:
    return (isinstance(t, Primitive) and t.name == "null") or (
        isinstance(t, UnionType) and not t.non_null
    )


def version_columns(unit: StreamUnit, dest: Destination, index: int, rep: Reporter) -> list[Column]:
    """The columns of `dest` at history position `index`, in table order."""
    schemas = [v.schema for v in unit.versions[: index + 1]]
    if not uses_stream_schema(unit, dest):
        schemas.append(dest.schema)
    mapper = Mapper(enum_numbering(schemas), warn=rep.at)
    opts = dest.options
    out: list[Column] = []
    for f in _schema_at(unit, dest, index).fields:
        if _is_null(f.type):
            rep.at(
                f.loc,
                "CH_NULL_COLUMN",
                f"field {f.name!r} can only be null: it has no column (ClickHouse cannot "
                "store Nullable(Nothing))",
            )
            continue
        mapper.loc = f.loc
        ch_type = mapper.map(f.type)
        default = default_literal(f.type, f.default, ch_type, mapper) if f.has_default else None
        if opts.engine in COLLAPSING and f.name == opts.sign_column and ch_type != "Int8":
            ch_type = "Int8"
            rep.at(
                f.loc,
                "CH_SIGN_INT8",
                f"sign column {f.name!r} is stored as Int8 (values must be 1 or -1)",
            )
        col = Column(f.name, f.name, ch_type, default=default, comment=f.doc)
        override = opts.columns.get(f.name)
        if override is not None:
            col = _overridden(col, override, (*dest.where, "columns", f.name), rep)
        out.append(col)
    if opts.lineage:
        names = {c.name for c in out}
        for name, ch_type in LINEAGE:
            if name in names:
                rep.spec(
                    (*dest.where, "lineage"),
                    "CH_LINEAGE_CLASH",
                    f"lineage column {name!r} clashes with a field of the same name",
                )
                continue
            out.append(Column(name, None, ch_type, comment="lineage: " + name[1:]))
    return out


def _overridden(
    col: Column, override: ColumnSpec, where: tuple[str | int, ...], rep: Reporter
) -> Column:
    """`col` with the spec's per-column settings applied (each checked, located if refused)."""
    ch_type = col.type
    new_type = override.type
    if new_type is not None:
        problem = type_problem(new_type)
        if problem:
            rep.spec((*where, "type"), "CH_BAD_TYPE", f"column type {new_type!r}: {problem}")
        else:
            ch_type = new_type
    if override.json_ is not None:
        ch_type = _json_shaped(ch_type, override.json_, (*where, "json"), rep)
    if override.low_cardinality and not ch_type.startswith("LowCardinality("):
        if ch_type.startswith(SORTABLE_LC):
            ch_type = f"LowCardinality({ch_type})"
        else:
            rep.spec(
                (*where, "low_cardinality"),
                "CH_LOW_CARDINALITY",
                f"LowCardinality applies to String and FixedString columns, not {ch_type}",
            )
    values: dict[str, str | None] = {
        "codec": col.codec,
        "default": col.default,
        "materialized": col.materialized,
    }
    for attr in values:
        text = getattr(override, attr)
        if text is not None and rep.expression((*where, attr), attr, text):
            values[attr] = text
    return Column(
        col.name,
        col.field,
        ch_type,
        insertable=override.materialized is None,
        default=values["default"],
        materialized=values["materialized"],
        comment=col.comment if override.comment is None else override.comment,
        codec=values["codec"],
    )


def _json_shaped(
    ch_type: str, spec: JsonColumnSpec, where: tuple[str | int, ...], rep: Reporter
) -> str:
    """`JSON` (maybe Nullable) with the spec's parameters, typed paths and skips."""
    nullable = ch_type.startswith("Nullable(")
    if (ch_type[9:-1] if nullable else ch_type) != "JSON":
        rep.spec(where, "CH_JSON_OPTIONS", f"json options apply to a JSON column, not {ch_type}")
        return ch_type
    parts = [
        f"{name}={value}"
        for name, value in (
            ("max_dynamic_paths", spec.max_dynamic_paths),
            ("max_dynamic_types", spec.max_dynamic_types),
        )
        if value is not None
    ]
    for path, path_type in spec.paths.items():
        problem = type_problem(path_type) if path else "an empty path"
        if problem:
            rep.spec((*where, "paths", path), "CH_BAD_TYPE", f"JSON path {path!r}: {problem}")
            continue
        parts.append(f"{quote_identifier(path)} {path_type}")
    parts += [f"SKIP {quote_identifier(path)}" for path in spec.skip]
    parts += [f"SKIP REGEXP {quote_string(pattern)}" for pattern in spec.skip_regexp]
    shaped = f"JSON({', '.join(parts)})" if parts else "JSON"
    return f"Nullable({shaped})" if nullable else shaped
