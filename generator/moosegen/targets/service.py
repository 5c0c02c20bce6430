"""The standalone consumer service of a stream: config module, entry point, Dockerfile.

Every decision (columns and their ClickHouse types, hooks, batching, DLQ, ports,
requirements, and the Python source of every literal) is made here; the templates
only lay the values out. Python text is written `ruff format`-clean with the
helpers of `pydantic_source`, at the indentation the template puts it.
"""

from __future__ import annotations

import textwrap
from typing import Any

from moosegen.diagnostics import Diagnostic
from moosegen.spec.load import Destination
from moosegen.targets import RenderJob, StreamUnit
from moosegen.targets.clickhouse import columns as clickhouse_columns
from moosegen.targets.pydantic_source import WIDTH, call, docstring, py_str, str_expr

# What a generated service needs at run time: published packages only, each with a
# tested lower bound and the next major version excluded. Never moosegen itself (the
# runtime is vendored into the output tree).
RUNTIME_REQUIREMENTS = (
    "clickhouse-connect[chdb]>=1.6,<2",  # the chdb:// DSN arrived in 1.6
    "chdb>=4.1.7,<5",
    "confluent-kafka>=2.4,<3",
    "fastavro>=1.9,<2",
    "prometheus-client>=0.20,<1",
    "pyarrow>=15,<27",  # Arrow inserts (runtime/chvalues.py); without it, Native inserts
    "pydantic>=2.11,<3",
    "typing-extensions>=4.12,<5",  # generated models import TypedDict from it
)
PYTHON_IMAGE = "python:3.12-slim"

# Where the template places each value: (indent level, characters before the value).
# Every value is followed by a "," on its line, counted in `used`.
_TOP = 1  # keyword arguments of ServiceConfig(...)
_DEST = 3  # keyword arguments of DestinationConfig(...)
_COLUMN = 4  # one ColumnConfig(...) per line inside columns=(...)
_DLQ = 2  # keyword arguments of DeadLetterConfig(...)


def py_value(value: Any, indent: int, used: int) -> str:
    """Python source of a JSON-like value, placed after `used` characters at level `indent`.

    One line when it fits; otherwise strings become parenthesized concatenations and
    containers are exploded one item per line with a trailing comma.
    """
    flat = _flat(value)
    if indent * 4 + used + len(flat) <= WIDTH:
        return flat
    if isinstance(value, str):
        return str_expr(value, indent, used, breaks=" ")
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            key = py_str(str(k)) + ": "
            items.append(key + py_value(v, indent + 1, len(key) + 1))
        return call("{", items, indent, used, "}") if items else "{}"
    if isinstance(value, (list, tuple)) and value:
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
        return call(opening, [py_value(v, indent + 1, 1) for v in value], indent, used, closing)
    return flat


def _flat(value: Any) -> str:
    """The one-line source of a value (ruff format's spelling of it)."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, bytes):
        raise TypeError("bytes are not a JSON value")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_str(str(k))}: {_flat(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        if len(value) == 1:
            return f"({_flat(value[0])},)"
        return "(" + ", ".join(_flat(v) for v in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_flat(v) for v in value) + "]"
    raise TypeError(f"no Python literal for {type(value).__name__}")


def comment(text: str) -> list[str]:
    """`# text` as comment lines within the width (a single long word stays whole)."""
    return ["# " + line for line in textwrap.wrap(text, WIDTH - 2, break_long_words=False)]


def destination_columns(unit: StreamUnit, dest: Destination) -> list[dict[str, Any]]:
    """The insertable columns of `dest`, in table order, as the ClickHouse target makes them.

    `default` is the field's Avro JSON default (None when the field has none, and for
    lineage columns), which the runtime fills in for a row that leaves the field out.
    """
    defaults = {f.name: f.default for f in dest.schema.fields if f.has_default}
    return [
        {
            "name": c.name,
            "field": c.field,
            "type": c.type,
            "default": defaults.get(c.field) if c.field is not None else None,
        }
        for c in clickhouse_columns(unit, dest)
        if c.insertable
    ]


def _column_source(col: dict[str, Any]) -> str:
    args = [col["name"], col["field"], col["type"], col["default"]]
    sources = [py_value(a, _COLUMN + 1, 1) for a in args]
    return call("ColumnConfig(", sources, _COLUMN, 1)


def _kwargs(values: dict[str, Any], indent: int) -> dict[str, str]:
    """`name=<source>` values for keyword arguments written one per line at `indent`."""
    return {k: py_value(v, indent, len(k) + 2) for k, v in values.items()}


def hooks(unit: StreamUnit) -> dict[str, Any]:
    """Every `module:function` the service resolves at start-up, by role."""
    spec = unit.stream.spec
    return {
        "transform": spec.transform,
        "route": spec.route,
        "consumers": tuple(spec.consumers),
        "sync": spec.sync,
        "error_handler": spec.error_handler,
        "destinations": {d.name: d.transform for d in unit.stream.destinations if d.transform},
    }


def _hook_strings(h: dict[str, Any]) -> list[str]:
    found = [h["transform"], h["route"], *h["consumers"], h["sync"], h["error_handler"]]
    found += list(h["destinations"].values())
    return [x for x in found if x]


def context(unit: StreamUnit) -> dict[str, Any]:
    stream = unit.stream
    spec = stream.spec
    output = unit.config.output.strip("/") or "generated"
    specs_dir = stream.source.split("/", 1)[0] if "/" in stream.source else "."
    hook = hooks(unit)
    destinations = []
    for d in stream.destinations:
        cols = destination_columns(unit, d)
        destinations.append(
            {
                "name": d.name,
                "is_default": d.is_default,
                "transform": d.transform,
                "columns": cols,
                "py": _kwargs(
                    {"name": d.name, "is_default": d.is_default, "transform": d.transform}, _DEST
                ),
                "column_sources": [_column_source(c) for c in cols],
            }
        )
    config = {
        "stream": stream.name,
        "topic": stream.topic,
        "format": spec.format,
        "group_id": f"moosegen.{stream.package}",
        "database": unit.config.database,
        "batch_size": spec.batch.size,
        "batch_timeout_ms": spec.batch.timeout,
        "transform": hook["transform"],
        "route": hook["route"],
        "consumers": hook["consumers"],
        "sync": hook["sync"],
        "error_handler": hook["error_handler"],
        "metrics_enabled": spec.monitoring.enabled,
        "metrics": tuple(spec.monitoring.metrics),
        "metrics_port": spec.monitoring.port,
        "health_enabled": spec.health_check.enabled,
        "health_interval_ms": spec.health_check.interval,
        "health_timeout_ms": spec.health_check.timeout,
        "registry_url": unit.config.registry.url,
    }
    dead_letter = {
        "topic": stream.dead_letter_topic,
        "max_retries": spec.dead_letter.max_retries,
        "retry_delay_ms": spec.dead_letter.retry_delay,
    }
    module = f"{output.replace('/', '.')}.{stream.package}"
    return {
        **config,
        "header": unit.header,
        "header_lines": comment(unit.header),
        "package": stream.package,
        "module": module,
        "dead_letter_topic": dead_letter["topic"],
        "max_retries": dead_letter["max_retries"],
        "retry_delay_ms": dead_letter["retry_delay_ms"],
        "hooks": hook,
        "destinations": destinations,
        "py": _kwargs(config, _TOP),
        "dead_letter_py": _kwargs(dead_letter, _DLQ),
        "docstrings": {
            "package": docstring(f"Stream `{stream.name}` (topic `{stream.topic}`).", 0),
            "main": docstring(
                f"python -m {module} run|setup [--bootstrap-servers ...] [--clickhouse DSN]", 0
            ),
            "service": docstring(
                f"The consumer service of stream `{stream.name}`: its configuration and entry"
                " point.\n\nHooks are resolved at start-up from the user's own code, found on"
                " PYTHONPATH (or a folder given with --hooks-path).",
                0,
            ),
        },
        # Dockerfile: build from the project root, which holds the output and specs folders.
        "output_dir": output,
        "specs_dir": specs_dir,
        "copy_specs": bool(_hook_strings(hook)),
        "python_image": PYTHON_IMAGE,
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
