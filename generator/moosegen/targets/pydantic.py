"""Pydantic v2 models with the embedded Avro schema (first version: schema constants)."""

from __future__ import annotations

from moosegen.diagnostics import Diagnostic
from moosegen.schema.canonical import canonical_form, normalized_form
from moosegen.targets import RenderJob, StreamUnit


def jobs(unit: StreamUnit, diags: list[Diagnostic]) -> list[RenderJob]:
    current = unit.current
    context = {
        "header": unit.header,
        "schema_json": normalized_form(current.schema),
        "canonical": canonical_form(current.schema),
        "fingerprint": current.fingerprint,
        "schema_id": current.id,
    }
    return [RenderJob("models/models.py.j2", f"{unit.stream.package}/models.py", context)]
