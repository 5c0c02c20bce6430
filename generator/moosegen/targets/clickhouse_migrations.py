"""The migration from one schema version to the next, as structured ALTER operations.

Columns of both versions come precomputed (one list per version and
destination); a change ClickHouse cannot apply in place is a located error that
asks for a version bump.
"""

from __future__ import annotations

from moosegen.schema.ir import Field
from moosegen.targets import StreamUnit
from moosegen.targets.clickhouse_columns import Reporter, uses_stream_schema
from moosegen.targets.clickhouse_plan import (
    AddColumn,
    Alter,
    AlterOp,
    Column,
    DropColumn,
    MigrationPlan,
    ModifyColumn,
    RenameColumn,
    TablePlan,
)
from moosegen.targets.clickhouse_types import widening

MAX_NAME = 64  # the longest change name a migration file is named after


def _find_old(new: Field, old_fields: dict[str, Field]) -> tuple[Field | None, bool]:
    if new.name in old_fields:
        return old_fields[new.name], False
    for alias in new.aliases:
        if alias in old_fields:
            return old_fields[alias], True
    return None, False


def _same_definition(a: Column, b: Column) -> bool:
    return (a.type, a.default, a.materialized, a.comment, a.codec) == (
        b.type,
        b.default,
        b.materialized,
        b.comment,
        b.codec,
    )


def migration(
    unit: StreamUnit,
    index: int,
    tables: list[TablePlan],
    history: dict[str, list[list[Column]]],
    rep: Reporter,
) -> MigrationPlan:
    """The statements taking every stream-schema table from version index-1 to index."""
    statements: list[Alter] = []
    kinds: list[str] = []
    for dest, table in zip(unit.stream.destinations, tables, strict=True):
        if not uses_stream_schema(unit, dest):
            continue
        ops = _operations(unit, index, history[dest.name], dest.options.allow_destructive, rep)
        for target in table.targets:
            statements += (Alter(target, table.cluster, op) for op, _ in ops)
        kinds += (kind for _, kind in ops)
        if not dest.options.allow_destructive:
            for name in _removed(unit, index):
                rep.spec(
                    ("schema",),
                    "CH_COLUMN_KEPT",
                    f"field {name!r} was removed from the schema; column {name!r} of table "
                    f"{dest.name!r} is kept (set allow_destructive: true to drop it)",
                    severity="warning",
                )
    unique = list(dict.fromkeys(kinds))
    # Named after its one change while that name is short: a field name may be longer
    # than a file name can be.
    one = len(unique) == 1 and len(unique[0]) <= MAX_NAME
    name = unique[0] if one else f"v{unit.versions[index].version}"
    return MigrationPlan(f"{index + 1:04d}_{name}.sql", tuple(statements))


def _removed(unit: StreamUnit, index: int) -> list[str]:
    """Fields of version index-1 that version `index` neither keeps nor renames."""
    old_fields = {f.name: f for f in unit.versions[index - 1].schema.fields}
    found = (_find_old(f, old_fields)[0] for f in unit.versions[index].schema.fields)
    kept = {f.name for f in found if f is not None}
    return [name for name in old_fields if name not in kept]


def _operations(
    unit: StreamUnit,
    index: int,
    per_version: list[list[Column]],
    destructive: bool,
    rep: Reporter,
) -> list[tuple[AlterOp, str]]:
    """(operation, name part of the file) for one table, in column order."""
    old_schema, new_schema = unit.versions[index - 1].schema, unit.versions[index].schema
    old_cols = {c.name: c for c in per_version[index - 1]}
    old_fields = {f.name: f for f in old_schema.fields}
    fields = {f.name: f for f in new_schema.fields}
    out: list[tuple[AlterOp, str]] = []
    prev: str | None = None
    for col in per_version[index]:
        after, prev = prev, col.name
        if col.field is None:
            continue
        f = fields[col.field]
        old_field, renamed = _find_old(f, old_fields)
        old_col = old_cols.get(old_field.name) if old_field is not None else None
        if old_field is None or old_col is None:
            if not f.has_default and not col.type.startswith(("Nullable(", "Variant(")):
                rep.at(
                    f.loc,
                    "CH_FIELD_WITHOUT_DEFAULT",
                    f"field {f.name!r} is added without a default: existing rows have no "
                    "value for it; give it a default or bump the stream version",
                    severity="error",
                )
                continue
            if f.has_default and col.default is None and col.materialized is None:
                if f.default is not None:
                    rep.at(
                        f.loc,
                        "CH_DEFAULT_NOT_RENDERED",
                        f"the default of {f.name!r} has no ClickHouse literal; existing rows "
                        "get the type's zero value",
                    )
            out.append((AddColumn(col, after), f"add_{f.name}"))
            continue
        if renamed:
            out.append((RenameColumn(old_field.name, col.name), f"rename_{old_field.name}"))
        if _same_definition(old_col, col):
            continue
        verdict = widening(old_col.type, col.type)
        if verdict is None:
            rep.at(
                f.loc,
                "CH_TYPE_NOT_MIGRATABLE",
                f"column {col.name!r} changes from {old_col.type} to {col.type}, which "
                "ClickHouse cannot convert in place; bump the stream version",
                severity="error",
            )
            continue
        if verdict == "lossy":
            rep.at(
                f.loc,
                "CH_LOSSY_PROMOTION",
                f"column {col.name!r} changes from {old_col.type} to {col.type}: large "
                "integers lose precision",
            )
        out.append((ModifyColumn(col), f"modify_{f.name}"))
    if destructive:
        out += ((DropColumn(name), f"drop_{name}") for name in _removed(unit, index))
    return out
