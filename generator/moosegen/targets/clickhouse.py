"""ClickHouse DDL (first version: one table per destination)."""

from __future__ import annotations

from moosegen.diagnostics import Diagnostic
from moosegen.targets import RenderJob, StreamUnit


def quote(identifier: str) -> str:
    return "`" + identifier.replace("\\", "\\\\").replace("`", "\\`") + "`"


def jobs(unit: StreamUnit, diags: list[Diagnostic]) -> list[RenderJob]:
    tables = [{"name": quote(d.name), "columns": [quote(f.name) for f in d.schema.fields]}
              for d in unit.stream.destinations]
    context = {"header": unit.header, "tables": tables}
    return [RenderJob("clickhouse/table.sql.j2", f"{unit.stream.package}/table.sql", context)]
