"""ClickHouse DDL and migrations: one table per destination, one migration per schema version.

`plan()` decides everything (columns, engine, clauses, migration operations) as
the frozen values of clickhouse_plan; `jobs()` hands them to the templates,
which lay out `<stream>/table.sql` and `<stream>/migrations/NNNN_<name>.sql`.
Expressions the user writes (ORDER BY expressions, PARTITION BY, TTL, codecs,
defaults, sharding keys, type overrides) are checked and refused with a
located error; names and literals are quoted by the templates.
"""

from __future__ import annotations

from moosegen.diagnostics import Diagnostic
from moosegen.runtime.migrations import MARKER
from moosegen.spec.load import Destination
from moosegen.targets import RenderJob, StreamUnit
from moosegen.targets.clickhouse_columns import LINEAGE, Reporter, version_columns
from moosegen.targets.clickhouse_migrations import migration
from moosegen.targets.clickhouse_plan import (
    ClickHousePlan,
    Column,
    Distributed,
    Engine,
    Expr,
    Ident,
    IdentTuple,
    MigrationPlan,
    SettingValue,
    Statement,
    TablePlan,
    Term,
    Text,
    create_statements,
)
from moosegen.targets.clickhouse_types import IDENT_RE

__all__ = ["LINEAGE", "ClickHousePlan", "Column", "TablePlan", "columns", "plan", "render_jobs"]

DEDUP_WINDOW = 10_000
REPLICATED_PATH = "/clickhouse/tables/{shard}/{database}/{table}"


def columns(unit: StreamUnit, dest: Destination) -> list[Column]:
    """The columns of `dest` for the current schema version, in table order."""
    return version_columns(unit, dest, len(unit.versions) - 1, Reporter(unit, None))


# ------------------------------------------------------------------ tables


def can_be_nullable_key(ch_type: str) -> bool:
    return not ch_type.startswith(("Nullable(", "LowCardinality(Nullable(", "Variant("))


def _key_terms(
    items: list[str],
    cols: dict[str, Column],
    where: tuple[str | int, ...],
    rep: Reporter,
    what: str,
) -> tuple[Term, ...]:
    out: list[Term] = []
    for i, item in enumerate(items):
        if IDENT_RE.match(item) and item in cols:
            if what != "PRIMARY KEY" and not can_be_nullable_key(cols[item].type):
                rep.spec(
                    (*where, i),
                    "CH_NULLABLE_KEY",
                    f"{what} column {item!r} is {cols[item].type}; ClickHouse refuses "
                    "Nullable sorting keys (make the field non-null or use an expression)",
                )
            out.append(Ident(item))
        elif rep.expression((*where, i), what, item):
            out.append(Expr(item))
    return tuple(out)


def _engine(unit: StreamUnit, dest: Destination, rep: Reporter) -> Engine:
    opts = dest.options
    args: tuple[Term, ...] = ()
    if opts.engine == "ReplacingMergeTree" and opts.version_column:
        args = (Ident(opts.version_column),)
    elif opts.engine == "SummingMergeTree" and opts.sum_columns:
        args = (IdentTuple(tuple(opts.sum_columns)),)
    elif opts.engine == "CollapsingMergeTree" and opts.sign_column:
        args = (Ident(opts.sign_column),)
    elif opts.engine == "VersionedCollapsingMergeTree":
        if not (opts.sign_column and opts.version_column):
            rep.spec(
                (*dest.where, "engine"),
                "CH_ENGINE_COLUMNS",
                "VersionedCollapsingMergeTree needs 'sign_column' and 'version_column'",
            )
        args = tuple(Ident(c) for c in (opts.sign_column, opts.version_column) if c)
    if unit.config.cluster is None:
        return Engine(opts.engine, args)
    return Engine(
        "Replicated" + opts.engine, (Text(REPLICATED_PATH), Text("{replica}"), *args), True
    )


def _distributed(unit: StreamUnit, storage: str, rep: Reporter) -> Distributed | None:
    cluster = unit.config.cluster
    if cluster is None or not cluster.distributed:
        return None
    # ProjectConfig keeps no source positions: the error points at the stream using it.
    rep.expression(("stream",), "cluster sharding_key (moosegen.yaml)", cluster.sharding_key)
    return Distributed(
        Engine(
            "Distributed",
            (
                Text(cluster.name),
                Expr("currentDatabase()"),
                Text(storage),
                Expr(cluster.sharding_key),
            ),
        )
    )


def _settings(unit: StreamUnit, dest: Destination, rep: Reporter) -> dict[str, SettingValue]:
    settings: dict[str, SettingValue] = {}
    for name, value in dest.options.settings.items():
        if IDENT_RE.match(name):
            settings[name] = value
        else:
            rep.spec(
                (*dest.where, "settings", name), "CH_BAD_SETTING", f"invalid setting name {name!r}"
            )
    if unit.config.cluster is None:
        settings.setdefault("non_replicated_deduplication_window", DEDUP_WINDOW)
    return settings


def table_plan(unit: StreamUnit, dest: Destination, cols: list[Column], rep: Reporter) -> TablePlan:
    opts, where = dest.options, dest.where
    cluster = unit.config.cluster
    if not cols:
        rep.spec(
            ("schema",) if dest.schema is unit.stream.schema else (*where, "schema"),
            "CH_NO_COLUMNS",
            f"table {dest.name!r} would have no columns: its record has no field ClickHouse "
            "can store (add a field, or turn on lineage)",
        )
    by_name = {c.name: c for c in cols}
    storage = dest.name + "_local" if cluster is not None and cluster.distributed else dest.name
    partition_by = None
    if opts.partition_by is not None and rep.expression(
        (*where, "partition_by"), "partition_by", opts.partition_by
    ):
        partition_by = Expr(opts.partition_by)
    order_items = opts.order_by
    order_where: tuple[str | int, ...] = (*where, "order_by")
    if order_items is None:
        key = [k for k in unit.stream.key if k in by_name]
        if key and len(key) == len(unit.stream.key):
            order_items, order_where = key, ("key",)
    order = _key_terms(order_items or [], by_name, order_where, rep, "ORDER BY")
    primary = None
    if opts.primary_key is not None:
        primary = _key_terms(opts.primary_key, by_name, (*where, "primary_key"), rep, "PRIMARY KEY")
        if primary != order[: len(primary)]:
            rep.spec(
                (*where, "primary_key"),
                "CH_PRIMARY_KEY",
                "primary_key must be a prefix of order_by",
            )
    if not order:
        rep.spec(
            where,
            "CH_NO_ORDER_BY",
            f"table {dest.name!r} has no order_by and the stream "
            "no key: rows are stored unsorted (ORDER BY tuple())",
            severity="warning",
        )
    ttl = None
    if opts.ttl is not None and rep.expression((*where, "ttl"), "ttl", opts.ttl):
        ttl = Expr(opts.ttl)
    return TablePlan(
        name=dest.name,
        storage=storage,
        cluster=cluster.name if cluster is not None else None,
        columns=tuple(cols),
        engine=_engine(unit, dest, rep),
        partition_by=partition_by,
        primary_key=primary,
        order_by=order,
        ttl=ttl,
        settings=_settings(unit, dest, rep),
        comment=unit.stream.spec.description if dest.is_default else dest.schema.doc,
        distributed=_distributed(unit, storage, rep),
    )


# ------------------------------------------------------------------ the plan


def plan(unit: StreamUnit, diags: list[Diagnostic] | None = None) -> ClickHousePlan:
    """Tables of the current version and every migration; diagnostics go to `diags`."""
    rep = Reporter(unit, diags)
    quiet = Reporter(unit, None)
    last = len(unit.versions) - 1
    history: dict[str, list[list[Column]]] = {}
    tables: list[TablePlan] = []
    created: list[Statement] = []
    for dest in unit.stream.destinations:
        # Each version's columns once; only the current version's findings are reported.
        per_version = [version_columns(unit, dest, i, quiet) for i in range(last)]
        per_version.append(version_columns(unit, dest, last, rep))
        history[dest.name] = per_version
        tables.append(table_plan(unit, dest, per_version[last], rep))
        created += create_statements(table_plan(unit, dest, per_version[0], quiet))
    migrations = [MigrationPlan("0001_create.sql", tuple(created))]
    for index in range(1, len(unit.versions)):
        migrations.append(migration(unit, index, tables, history, rep))
    return ClickHousePlan(unit.stream.package, tuple(tables), tuple(migrations))


def render_jobs(ch: ClickHousePlan, header: str) -> list[RenderJob]:
    """The table file and one file per migration; contexts hold plan values only."""
    out = [
        RenderJob(
            "clickhouse/table.sql.j2",
            f"{ch.package}/table.sql",
            {
                "header": header,
                "marker": MARKER,
                "tables": ch.tables,
                "statements": [s for t in ch.tables for s in create_statements(t)],
            },
        )
    ]
    for m in ch.migrations:
        out.append(
            RenderJob(
                "clickhouse/migration.sql.j2",
                f"{ch.package}/migrations/{m.file}",
                {"header": header, "marker": MARKER, "statements": m.statements},
            )
        )
    return out
