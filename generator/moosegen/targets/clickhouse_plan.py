"""The ClickHouse part of a stream's plan: tables and migrations as structured values.

Every decision is made before rendering; `templates/clickhouse/` lays these
out as SQL. Identifiers stay names and literals stay values (the templates quote
them); the only SQL text here is what was checked already: column types, user
expressions, and default literals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

# A setting's value as the spec gives it (bool → 1/0, numbers as written, text quoted).
SettingValue = str | int | float | bool


@dataclass(frozen=True)
class Ident:
    """A name, quoted when rendered."""

    name: str
    kind: ClassVar[str] = "ident"


@dataclass(frozen=True)
class Text:
    """A string literal, quoted when rendered."""

    value: str
    kind: ClassVar[str] = "string"


@dataclass(frozen=True)
class Expr:
    """SQL checked by `expression_problem` or built by the mapper, rendered as is."""

    text: str
    kind: ClassVar[str] = "expr"


@dataclass(frozen=True)
class IdentTuple:
    """`(a, b)` of quoted names (SummingMergeTree's columns)."""

    names: tuple[str, ...]
    kind: ClassVar[str] = "idents"


Term = Ident | Text | Expr | IdentTuple


@dataclass(frozen=True)
class Column:
    """One column of a destination table, as the service inserts it."""

    name: str
    field: str | None  # the Avro field it holds; None for lineage columns
    type: str  # final ClickHouse type, overrides applied
    insertable: bool = True  # False for MATERIALIZED columns
    default: str | None = None  # SQL after DEFAULT
    materialized: str | None = None  # SQL after MATERIALIZED
    comment: str | None = None
    codec: str | None = None  # SQL inside CODEC(...)

    @property
    def has_variant(self) -> bool:
        return "Variant(" in self.type


@dataclass(frozen=True)
class Engine:
    name: str
    args: tuple[Term, ...] = ()
    parenthesized: bool = False  # `Engine()` even without args (replicated engines)


@dataclass(frozen=True)
class Distributed:
    """The Distributed table in front of the per-shard storage table."""

    engine: Engine


@dataclass(frozen=True)
class TablePlan:
    name: str  # the table the rows go to (the Distributed one in distributed cluster mode)
    storage: str  # the MergeTree table (`<name>_local` in distributed cluster mode)
    cluster: str | None
    columns: tuple[Column, ...]
    engine: Engine
    partition_by: Expr | None = None
    primary_key: tuple[Term, ...] | None = None
    order_by: tuple[Term, ...] = ()
    ttl: Expr | None = None
    settings: Mapping[str, SettingValue] = field(default_factory=dict)
    comment: str | None = None
    distributed: Distributed | None = None

    @property
    def query_settings(self) -> Mapping[str, SettingValue]:
        """Settings the statement itself needs to be accepted (ClickHouse applies a
        non-storage setting of a CREATE's SETTINGS clause to the query)."""
        return variant_settings(self.columns)

    @property
    def targets(self) -> tuple[str, ...]:
        """The tables an ALTER must reach: the storage table, then the Distributed one."""
        return (self.storage, self.name) if self.distributed else (self.storage,)


def variant_settings(columns: tuple[Column, ...]) -> Mapping[str, SettingValue]:
    """Variants of similar types (Int32 and Float64, String and Enum8, ...) are refused
    unless the statement allows them; a Variant keeps every branch, so allow them."""
    return {"allow_suspicious_variant_types": 1} if any(c.has_variant for c in columns) else {}


@dataclass(frozen=True)
class AddColumn:
    column: Column
    after: str | None  # None: FIRST
    kind: ClassVar[str] = "add"


@dataclass(frozen=True)
class ModifyColumn:
    column: Column
    kind: ClassVar[str] = "modify"


@dataclass(frozen=True)
class RenameColumn:
    old: str
    new: str
    kind: ClassVar[str] = "rename"


@dataclass(frozen=True)
class DropColumn:
    name: str
    kind: ClassVar[str] = "drop"


AlterOp = AddColumn | ModifyColumn | RenameColumn | DropColumn


@dataclass(frozen=True)
class Alter:
    """One alter statement (one operation on one table)."""

    table: str
    cluster: str | None
    op: AlterOp
    kind: ClassVar[str] = "alter"

    @property
    def settings(self) -> Mapping[str, SettingValue]:
        if isinstance(self.op, (AddColumn, ModifyColumn)):
            return variant_settings((self.op.column,))
        return {}


@dataclass(frozen=True)
class CreateStorage:
    table: TablePlan
    kind: ClassVar[str] = "create"


@dataclass(frozen=True)
class CreateDistributed:
    table: TablePlan
    kind: ClassVar[str] = "create_distributed"


Statement = CreateStorage | CreateDistributed | Alter


def create_statements(table: TablePlan) -> tuple[Statement, ...]:
    if table.distributed is None:
        return (CreateStorage(table),)
    return (CreateStorage(table), CreateDistributed(table))


@dataclass(frozen=True)
class MigrationPlan:
    file: str  # "0002_add_note.sql"
    statements: tuple[Statement, ...]


@dataclass(frozen=True)
class ClickHousePlan:
    package: str
    tables: tuple[TablePlan, ...]  # the current version, one per destination
    migrations: tuple[MigrationPlan, ...]  # oldest first; the first creates the tables

    def table(self, name: str) -> TablePlan:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)
