"""ClickHouse DDL and migrations: one table per destination, one migration per schema version.

`columns(unit, dest)` is the column list the consumer service inserts into;
`jobs()` renders `<stream>/table.sql` and `<stream>/migrations/NNNN_<name>.sql`.
Identifiers are backtick-quoted, string literals escaped; expressions the user
writes (ORDER BY expressions, PARTITION BY, TTL, codecs, defaults) are checked
conservatively and refused with a located error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moosegen.diagnostics import Diagnostic, Severity
from moosegen.runtime.chvalues import quote_identifier, quote_string
from moosegen.runtime.migrations import MARKER
from moosegen.schema.ir import Field, Loc, Record
from moosegen.spec.load import Destination
from moosegen.targets import RenderJob, StreamUnit
from moosegen.targets.clickhouse_types import (
    IDENT_RE,
    Mapper,
    default_literal,
    enum_numbering,
    expression_problem,
    type_problem,
    widening,
)

DEDUP_WINDOW = 10_000
LINEAGE = (
    ("_topic", "LowCardinality(String)"),
    ("_partition", "Int32"),
    ("_offset", "Int64"),
    ("_timestamp", "DateTime64(3, 'UTC')"),
)
REPLICATED_PATH = "/clickhouse/tables/{shard}/{database}/{table}"
SORTABLE_LC = ("String", "FixedString", "Nullable(String)", "Nullable(FixedString")


def quote(identifier: str) -> str:
    return quote_identifier(identifier)


@dataclass
class Column:
    """One column of a destination table, as the service inserts it."""

    name: str
    field: str | None  # the Avro field it holds; None for lineage columns
    type: str  # final ClickHouse type, overrides applied
    insertable: bool = True  # False for MATERIALIZED / ALIAS columns
    default: str | None = None  # SQL after DEFAULT
    materialized: str | None = None  # SQL after MATERIALIZED
    comment: str | None = None
    codec: str | None = None

    @property
    def ddl(self) -> str:
        parts = [quote(self.name), self.type]
        if self.materialized is not None:
            parts.append(f"MATERIALIZED {self.materialized}")
        elif self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        if self.comment:
            parts.append(f"COMMENT {quote_string(self.comment)}")
        if self.codec:
            parts.append(f"CODEC({self.codec})")
        return " ".join(parts)


@dataclass
class _Reporter:
    """Collects diagnostics, each reported once, located at a field or in the spec."""

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
            d = Diagnostic(
                loc.path,
                loc.line,
                loc.col,
                severity,
                code,
                message,
                "CLICKHOUSE",
            )
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


def _uses_stream_schema(unit: StreamUnit, dest: Destination) -> bool:
    return dest.schema is unit.stream.schema


def _schema_at(unit: StreamUnit, dest: Destination, index: int) -> Record:
    """The destination's record at history position `index` (own-schema destinations: current)."""
    return unit.versions[index].schema if _uses_stream_schema(unit, dest) else dest.schema


def _columns(unit: StreamUnit, dest: Destination, index: int, rep: _Reporter) -> list[Column]:
    schemas = [v.schema for v in unit.versions[: index + 1]]
    if not _uses_stream_schema(unit, dest):
        schemas.append(dest.schema)
    mapper = Mapper(enum_numbering(schemas), warn=rep.at)
    record = _schema_at(unit, dest, index)
    opts = dest.options
    where = dest.where
    out: list[Column] = []
    for f in record.fields:
        mapper.loc = f.loc
        ch_type = mapper.map(f.type)
        override = opts.columns.get(f.name)
        col = Column(f.name, f.name, ch_type, comment=f.doc)
        if f.has_default:
            col.default = default_literal(f.type, f.default, ch_type, mapper)
        if (
            opts.engine in ("CollapsingMergeTree", "VersionedCollapsingMergeTree")
            and f.name == opts.sign_column
            and ch_type != "Int8"
        ):
            col.type = "Int8"
            rep.at(
                f.loc,
                "CH_SIGN_INT8",
                f"sign column {f.name!r} is stored as Int8 (values must be 1 or -1)",
            )
        if override is not None:
            ow = (*where, "columns", f.name)
            if override.type is not None:
                problem = type_problem(override.type)
                if problem:
                    rep.spec(
                        (*ow, "type"), "CH_BAD_TYPE", f"column type {override.type!r}: {problem}"
                    )
                else:
                    col.type = override.type
            if override.low_cardinality and not col.type.startswith("LowCardinality("):
                if col.type.startswith(SORTABLE_LC):
                    col.type = f"LowCardinality({col.type})"
                else:
                    rep.spec(
                        (*ow, "low_cardinality"),
                        "CH_LOW_CARDINALITY",
                        f"LowCardinality applies to String and FixedString columns, not {col.type}",
                    )
            for attr in ("codec", "default", "materialized"):
                text = getattr(override, attr)
                if text is None:
                    continue
                problem = expression_problem(text)
                if problem:
                    rep.spec((*ow, attr), "CH_BAD_EXPRESSION", f"{attr} {text!r}: {problem}")
                    continue
                setattr(col, attr, text)
            if override.materialized is not None:
                col.insertable = False
            if override.comment is not None:
                col.comment = override.comment
        out.append(col)
    if opts.lineage:
        names = {c.name for c in out}
        for name, ch_type in LINEAGE:
            if name in names:
                rep.spec(
                    (*where, "lineage"),
                    "CH_LINEAGE_CLASH",
                    f"lineage column {name!r} clashes with a field of the same name",
                )
                continue
            out.append(Column(name, None, ch_type, comment="lineage: " + name[1:]))
    return out


def columns(unit: StreamUnit, dest: Destination) -> list[Column]:
    """The columns of `dest` for the current schema version, in table order."""
    return _columns(unit, dest, len(unit.versions) - 1, _Reporter(unit, None))


# ------------------------------------------------------------------ tables


@dataclass
class _Table:
    name: str  # the table the rows go to (the Distributed one in cluster mode)
    storage: str  # the MergeTree table (`<name>_local` in distributed cluster mode)
    on_cluster: str
    columns: list[str]
    engine: str
    clauses: list[str]
    distributed: str | None
    comment: str | None


def _sql_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    return quote_string(str(value))


def _key_list(
    items: list[str],
    cols: dict[str, Column],
    where: tuple[str | int, ...],
    rep: _Reporter,
    what: str,
) -> list[str]:
    out = []
    for i, item in enumerate(items):
        if IDENT_RE.match(item) and item in cols:
            if what != "PRIMARY KEY" and not can_be_nullable_key(cols[item].type):
                rep.spec(
                    (*where, i),
                    "CH_NULLABLE_KEY",
                    f"{what} column {item!r} is {cols[item].type}; ClickHouse refuses "
                    "Nullable sorting keys (make the field non-null or use an expression)",
                )
            out.append(quote(item))
            continue
        problem = expression_problem(item)
        if problem:
            rep.spec((*where, i), "CH_BAD_EXPRESSION", f"{what} {item!r}: {problem}")
            continue
        out.append(item)
    return out


def can_be_nullable_key(ch_type: str) -> bool:
    return not ch_type.startswith(("Nullable(", "LowCardinality(Nullable(", "Variant("))


def _tuple(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"({', '.join(items)})"


def _table(unit: StreamUnit, dest: Destination, cols: list[Column], rep: _Reporter) -> _Table:
    opts, where = dest.options, dest.where
    cluster = unit.config.cluster
    by_name = {c.name: c for c in cols}
    engine_args: list[str] = []
    engine = opts.engine
    if engine == "ReplacingMergeTree" and opts.version_column:
        engine_args = [quote(opts.version_column)]
    elif engine == "SummingMergeTree" and opts.sum_columns:
        engine_args = [f"({', '.join(quote(c) for c in opts.sum_columns)})"]
    elif engine == "CollapsingMergeTree" and opts.sign_column:
        engine_args = [quote(opts.sign_column)]
    elif engine == "VersionedCollapsingMergeTree":
        if not (opts.sign_column and opts.version_column):
            rep.spec(
                (*where, "engine"),
                "CH_ENGINE_COLUMNS",
                "VersionedCollapsingMergeTree needs 'sign_column' and 'version_column'",
            )
        engine_args = [quote(c) for c in (opts.sign_column, opts.version_column) if c]
    storage = dest.name
    distributed = None
    on_cluster = ""
    if cluster is not None:
        on_cluster = f" ON CLUSTER {quote(cluster.name)}"
        engine = "Replicated" + engine
        engine_args = [quote_string(REPLICATED_PATH), quote_string("{replica}"), *engine_args]
        if cluster.distributed:
            storage = dest.name + "_local"
            problem = expression_problem(cluster.sharding_key)
            if problem:
                rep.spec(
                    ("stream",),
                    "CH_BAD_EXPRESSION",
                    f"cluster sharding_key {cluster.sharding_key!r}: {problem}",
                )
            distributed = (
                f"Distributed({quote_string(cluster.name)}, currentDatabase(), "
                f"{quote_string(storage)}, {cluster.sharding_key})"
            )
    engine_sql = f"{engine}({', '.join(engine_args)})" if engine_args or cluster else engine
    clauses: list[str] = []
    if opts.partition_by is not None:
        problem = expression_problem(opts.partition_by)
        if problem:
            rep.spec(
                (*where, "partition_by"),
                "CH_BAD_EXPRESSION",
                f"partition_by {opts.partition_by!r}: {problem}",
            )
        else:
            clauses.append(f"PARTITION BY {opts.partition_by}")
    order_items = opts.order_by
    order_where: tuple[str | int, ...] = (*where, "order_by")
    if order_items is None:
        key = [k for k in unit.stream.key if k in by_name]
        if key and len(key) == len(unit.stream.key):
            order_items, order_where = key, ("key",)
    order = _key_list(order_items or [], by_name, order_where, rep, "ORDER BY")
    if opts.primary_key is not None:
        primary = _key_list(opts.primary_key, by_name, (*where, "primary_key"), rep, "PRIMARY KEY")
        if primary != order[: len(primary)]:
            rep.spec(
                (*where, "primary_key"),
                "CH_PRIMARY_KEY",
                "primary_key must be a prefix of order_by",
            )
        clauses.append(f"PRIMARY KEY {_tuple(primary)}")
    if not order:
        rep.spec(
            where,
            "CH_NO_ORDER_BY",
            f"table {dest.name!r} has no order_by and the stream "
            "no key: rows are stored unsorted (ORDER BY tuple())",
            severity="warning",
        )
    clauses.append(f"ORDER BY {_tuple(order) if order else 'tuple()'}")
    if opts.ttl is not None:
        problem = expression_problem(opts.ttl)
        if problem:
            rep.spec((*where, "ttl"), "CH_BAD_EXPRESSION", f"ttl {opts.ttl!r}: {problem}")
        else:
            clauses.append(f"TTL {opts.ttl}")
    settings = dict(opts.settings)
    if cluster is None:
        settings.setdefault("non_replicated_deduplication_window", DEDUP_WINDOW)
    parts = []
    for setting, value in settings.items():
        if not IDENT_RE.match(setting):
            rep.spec(
                (*where, "settings", setting), "CH_BAD_SETTING", f"invalid setting name {setting!r}"
            )
            continue
        parts.append(f"{setting} = {_sql_value(value)}")
    if parts:
        clauses.append("SETTINGS " + ", ".join(parts))
    comment = unit.stream.spec.description if dest.is_default else dest.schema.doc
    return _Table(
        dest.name,
        storage,
        on_cluster,
        [c.ddl for c in cols],
        engine_sql,
        clauses,
        distributed,
        comment,
    )


def _create(table: _Table) -> list[str]:
    body = ",\n".join(f"    {c}" for c in table.columns)
    comment = f"\nCOMMENT {quote_string(table.comment)}" if table.comment else ""
    clauses = "".join(f"\n{c}" for c in table.clauses)
    out = [
        f"CREATE TABLE IF NOT EXISTS {quote(table.storage)}{table.on_cluster}\n(\n{body}\n)\n"
        f"ENGINE = {table.engine}{clauses}{comment}"
    ]
    if table.distributed:
        out.append(
            f"CREATE TABLE IF NOT EXISTS {quote(table.name)}{table.on_cluster} "
            f"AS {quote(table.storage)}\nENGINE = {table.distributed}"
        )
    return out


# ------------------------------------------------------------------ migrations


def _find_old(new: Field, old_fields: dict[str, Field]) -> tuple[Field | None, bool]:
    if new.name in old_fields:
        return old_fields[new.name], False
    for alias in new.aliases:
        if alias in old_fields:
            return old_fields[alias], True
    return None, False


def _migration(unit: StreamUnit, index: int, rep: _Reporter) -> tuple[str, list[str]]:
    """The statements taking every stream-schema table from version index-1 to index."""
    statements: list[str] = []
    kinds: list[str] = []
    old_schema = unit.versions[index - 1].schema
    new_schema = unit.versions[index].schema
    for dest in unit.stream.destinations:
        if not _uses_stream_schema(unit, dest):
            continue
        quiet = _Reporter(unit, None)
        old_cols = {c.name: c for c in _columns(unit, dest, index - 1, quiet)}
        new_cols = _columns(unit, dest, index, quiet)
        table = _table(unit, dest, new_cols, quiet)
        targets = [table.storage] + ([table.name] if table.distributed else [])
        old_fields = {f.name: f for f in old_schema.fields}
        kept: set[str] = set()
        prev: str | None = None
        alter: list[str] = []
        fields = {f.name: f for f in new_schema.fields}
        for col in new_cols:
            if col.field is None:
                prev = col.name
                continue
            f = fields[col.field]
            old_field, renamed = _find_old(f, old_fields)
            position = f"AFTER {quote(prev)}" if prev else "FIRST"
            prev = col.name
            if old_field is None:
                if not f.has_default and not col.type.startswith(("Nullable(", "Variant(")):
                    rep.at(
                        f.loc,
                        "CH_FIELD_WITHOUT_DEFAULT",
                        f"field {f.name!r} is added without a default: existing rows have no "
                        "value for it; give it a default or bump the stream version",
                        severity="error",
                    )
                    continue
                if (
                    f.has_default
                    and col.default is None
                    and col.materialized is None
                    and f.default is not None
                ):
                    rep.at(
                        f.loc,
                        "CH_DEFAULT_NOT_RENDERED",
                        f"the default of {f.name!r} has no ClickHouse literal; existing rows "
                        "get the type's zero value",
                    )
                alter.append(f"ADD COLUMN IF NOT EXISTS {col.ddl} {position}")
                kinds.append(f"add_{f.name}")
                continue
            kept.add(old_field.name)
            if renamed:
                alter.append(
                    f"RENAME COLUMN IF EXISTS {quote(old_field.name)} TO {quote(col.name)}"
                )
                kinds.append(f"rename_{old_field.name}")
            old_col = old_cols[old_field.name]
            if old_col.ddl.replace(quote(old_col.name), quote(col.name), 1) == col.ddl:
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
            alter.append(f"MODIFY COLUMN IF EXISTS {col.ddl}")
            kinds.append(f"modify_{f.name}")
        for name in old_fields:
            if name in kept:
                continue
            if dest.options.allow_destructive:
                alter.append(f"DROP COLUMN IF EXISTS {quote(name)}")
                kinds.append(f"drop_{name}")
            else:
                rep.spec(
                    (*dest.where, "allow_destructive")
                    if dest.options.allow_destructive
                    else ("schema",),
                    "CH_COLUMN_KEPT",
                    f"field {name!r} was removed from the schema; column {name!r} of table "
                    f"{dest.name!r} is kept (set allow_destructive: true to drop it)",
                    severity="warning",
                )
        for target in targets:
            for clause in alter:
                statements.append(f"ALTER TABLE {quote(target)}{table.on_cluster} {clause}")
    unique = list(dict.fromkeys(kinds))
    name = unique[0] if len(unique) == 1 else f"v{unit.versions[index].version}"
    return name, statements


def _statement_file(statements: list[str]) -> str:
    if not statements:
        return "-- no change to the tables in this version\n"
    return f"\n{MARKER}\n".join(s + ";" for s in statements) + "\n"


def migrations(unit: StreamUnit, diags: list[Diagnostic] | None = None) -> list[tuple[str, str]]:
    """(file name, SQL) for every registered version, oldest first."""
    rep = _Reporter(unit, diags)
    out: list[tuple[str, str]] = []
    create: list[str] = []
    for dest in unit.stream.destinations:
        cols = _columns(unit, dest, 0, _Reporter(unit, None))
        create += _create(_table(unit, dest, cols, _Reporter(unit, None)))
    out.append(("0001_create.sql", _statement_file(create)))
    for index in range(1, len(unit.versions)):
        name, statements = _migration(unit, index, rep)
        out.append((f"{index + 1:04d}_{name}.sql", _statement_file(statements)))
    return out


def table_sql(unit: StreamUnit, diags: list[Diagnostic] | None = None) -> list[str]:
    """The CREATE statements of every destination for the current version."""
    rep = _Reporter(unit, diags)
    out: list[str] = []
    for dest in unit.stream.destinations:
        cols = _columns(unit, dest, len(unit.versions) - 1, rep)
        out += _create(_table(unit, dest, cols, rep))
    return out


def jobs(unit: StreamUnit, diags: list[Diagnostic]) -> list[RenderJob]:
    if not unit.stream.destinations:
        return []
    package = unit.stream.package
    statements = table_sql(unit, diags)
    out = [
        RenderJob(
            "clickhouse/table.sql.j2",
            f"{package}/table.sql",
            {"header": unit.header, "marker": MARKER, "statements": statements},
        )
    ]
    for name, sql in migrations(unit, diags):
        out.append(
            RenderJob(
                "clickhouse/migration.sql.j2",
                f"{package}/migrations/{name}",
                {"header": unit.header, "sql": sql},
            )
        )
    return out
