"""The standalone consumer service of a stream: config module, entry point, Dockerfile.

Every decision (columns and their ClickHouse types, hooks, batching, DLQ, ports)
is made here; the templates only lay the values out.
"""

from __future__ import annotations

from typing import Any

from moosegen.diagnostics import Diagnostic
from moosegen.schema import ir
from moosegen.spec.load import Destination
from moosegen.targets import RenderJob, StreamUnit

LINEAGE = (("_topic", "LowCardinality(String)"), ("_partition", "Int32"),
           ("_offset", "Int64"), ("_timestamp", "DateTime64(3, 'UTC')"))
RUNTIME_REQUIREMENTS = ("confluent-kafka>=2.4", "clickhouse-connect[chdb]>=0.8", "chdb>=3.0",
                        "pydantic>=2.7", "fastavro>=1.9", "prometheus-client>=0.20")


def _fallback_type(t: ir.AvroType) -> str:
    """A ClickHouse type for a field when the ClickHouse target offers no column list."""
    if isinstance(t, ir.UnionType):
        inner = t.non_null
        if t.is_nullable and len(inner) == 1:
            return f"Nullable({_fallback_type(inner[0])})"
        return "String"
    if isinstance(t, ir.Enum):
        symbols = ", ".join(f"'{s}' = {i + 1}" for i, s in enumerate(t.symbols))
        return f"Enum8({symbols})"
    if isinstance(t, ir.Array):
        return f"Array({_fallback_type(t.items)})"
    if isinstance(t, ir.Map):
        return f"Map(String, {_fallback_type(t.values)})"
    if isinstance(t, ir.Primitive):
        logical = {"uuid": "UUID", "timestamp-millis": "DateTime64(3, 'UTC')",
                   "timestamp-micros": "DateTime64(6, 'UTC')", "date": "Date32"}
        if t.logical in logical:
            return logical[t.logical]
        if t.logical == "decimal":
            return f"Decimal({t.precision}, {t.scale or 0})"
        return {"boolean": "Bool", "int": "Int32", "long": "Int64", "float": "Float32",
                "double": "Float64", "bytes": "String", "string": "String"}.get(t.name, "String")
    return "String"


def destination_columns(unit: StreamUnit, dest: Destination) -> list[dict[str, Any]]:
    try:
        from moosegen.targets.clickhouse import columns  # type: ignore[attr-defined]
    except ImportError:
        columns = None
    if columns is not None:
        defaults = {f.name: f.default for f in dest.schema.fields if f.has_default}
        return [{"name": c.name, "field": c.field, "type": c.type,
                 "default": defaults.get(c.field) if c.field else None}
                for c in columns(unit, dest) if getattr(c, "insertable", True)]
    cols: list[dict[str, Any]] = [{"name": f.name, "field": f.name, "type": _fallback_type(f.type)}
                                  for f in dest.schema.fields]
    defaults = {f.name: f.default for f in dest.schema.fields if f.has_default}
    for c in cols:
        c["default"] = defaults.get(c["field"]) if c["field"] else None
    if dest.is_default and getattr(dest.options, "lineage", False):
        cols += [{"name": n, "field": None, "type": t, "default": None} for n, t in LINEAGE]
    return cols


def context(unit: StreamUnit) -> dict[str, Any]:
    stream = unit.stream
    spec = stream.spec
    return {
        "header": unit.header,
        "stream": stream.name,
        "package": stream.package,
        "topic": stream.topic,
        "dead_letter_topic": stream.dead_letter_topic,
        "format": spec.format,
        "group_id": f"moosegen.{stream.package}",
        "database": unit.config.database,
        "batch_size": spec.batch.size,
        "batch_timeout_ms": spec.batch.timeout,
        "max_retries": spec.dead_letter.max_retries,
        "retry_delay_ms": spec.dead_letter.retry_delay,
        "transform": spec.transform,
        "route": spec.route,
        "consumers": tuple(spec.consumers),
        "sync": spec.sync,
        "error_handler": spec.error_handler,
        "metrics_enabled": spec.monitoring.enabled,
        "metrics": tuple(spec.monitoring.metrics),
        "metrics_port": spec.monitoring.port,
        "health_enabled": spec.health_check.enabled,
        "health_interval_ms": spec.health_check.interval,
        "health_timeout_ms": spec.health_check.timeout,
        "registry_url": unit.config.registry.url,
        "destinations": [{"name": d.name, "is_default": d.is_default, "transform": d.transform,
                          "columns": destination_columns(unit, d)}
                         for d in stream.destinations],
        "requirements": list(RUNTIME_REQUIREMENTS),
    }


def jobs(unit: StreamUnit, diags: list[Diagnostic]) -> list[RenderJob]:
    package = unit.stream.package
    ctx = context(unit)
    return [
        RenderJob("service/__init__.py.j2", f"{package}/__init__.py", ctx),
        RenderJob("service/__main__.py.j2", f"{package}/__main__.py", ctx),
        RenderJob("service/service.py.j2", f"{package}/service.py", ctx),
        RenderJob("service/Dockerfile.j2", f"{package}/Dockerfile", ctx),
        RenderJob("service/requirements.txt.j2", f"{package}/requirements.txt", ctx),
    ]
