"""Streams whose schema is a JSON Schema file (`schema: orders.schema.json`).

The file is loaded with positions and lowered to an Avro record for the column-side
targets (see `schema/jsonschema_lower.py`); the stream keeps the document itself as
`LoadedStream.json_schema` for its models, its registry versions and compatibility.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moosegen.diagnostics import Diagnostic
from moosegen.schema import jsonschema_lower
from moosegen.schema.ir import Record
from moosegen.schema.parse import SchemaSet
from moosegen.sourcemap import LoadError, SourceMap, load_json
from moosegen.spec.files import SourceFileError, read_text


@dataclass(frozen=True)
class JsonSchemaSource:
    """A stream's JSON Schema: its text as written, the parsed document, its display path."""

    text: str
    doc: Any
    path: str


def read(path: Path, shown: str) -> tuple[JsonSchemaSource, SourceMap]:
    """Raises SourceFileError or LoadError, located."""
    text = read_text(path, shown)
    doc, smap = load_json(text, shown)
    return JsonSchemaSource(text, doc, shown), smap


def source(path: Path, shown: str, diags: list[Diagnostic]) -> JsonSchemaSource | None:
    """The stream's JSON Schema as loaded (None, with the reason in `diags`, when the file
    can no longer be read)."""
    try:
        return read(path, shown)[0]
    except (SourceFileError, LoadError) as exc:
        diags.append(exc.diagnostic)
        return None


def namespace_of(namespace: str | None, record_name: str) -> str:
    """Each JSON Schema stream names its types in its own namespace: nested records and
    enums of two streams never meet in the project's shared named-type table."""
    return ".".join(p for p in (namespace, record_name.lower()) if p)


def lowered_source(
    path: Path,
    shown: str,
    record_name: str,
    namespace: str | None,
    schemas: SchemaSet,
    diags: list[Diagnostic],
) -> tuple[Any, SourceMap, list[str]] | None:
    """The Avro JSON (located in the JSON Schema file) of a stream's JSON Schema."""
    try:
        loaded, smap = read(path, shown)
    except (SourceFileError, LoadError) as exc:
        diags.append(exc.diagnostic)
        return None
    lowered = jsonschema_lower.lower(
        loaded.doc, smap, record_name, namespace_of(namespace, record_name)
    )
    diags.extend(lowered.diagnostics)
    if lowered.diagnostics or not lowered.schema:
        return None
    schemas.register(lowered.schema, lowered.smap, (), None)
    return lowered.schema, lowered.smap, []


def registered_record(text: str, shown: str, record_name: str, namespace: str | None) -> Record:
    """The Avro record of a registered JSON Schema version (for migrations between versions);
    raises ValueError with every diagnostic when it no longer lowers."""
    try:
        doc, smap = load_json(text, shown)
    except LoadError as exc:
        raise ValueError(exc.diagnostic.text()) from None
    lowered = jsonschema_lower.lower(doc, smap, record_name, namespace_of(namespace, record_name))
    schemas = SchemaSet()
    if not lowered.diagnostics:
        schemas.register(lowered.schema, lowered.smap, (), None)
        built = schemas.build(lowered.schema, lowered.smap, (), None)
        if isinstance(built, Record) and not schemas.diagnostics:
            return built
    problems = lowered.diagnostics + schemas.diagnostics
    raise ValueError("\n".join(d.text() for d in problems) or f"{shown}: not a record")
