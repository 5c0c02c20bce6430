"""The standalone consumer service of a stream (first version: the entry point)."""

from __future__ import annotations

from moosegen.diagnostics import Diagnostic
from moosegen.targets import RenderJob, StreamUnit


def jobs(unit: StreamUnit, diags: list[Diagnostic]) -> list[RenderJob]:
    package = unit.stream.package
    context = {"header": unit.header, "stream": unit.stream.name, "topic": unit.stream.topic}
    return [
        RenderJob("service/__init__.py.j2", f"{package}/__init__.py", context),
        RenderJob("service/__main__.py.j2", f"{package}/__main__.py", context),
    ]
