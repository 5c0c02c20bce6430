"""Schema-registry compatibility: can a candidate schema join a subject's history?

    from moosegen.compat import check, can_read
    result = check(new_schema, [v1, v2, v3], "BACKWARD_TRANSITIVE")
    result.compatible, result.findings

Schemas may be Avro JSON text, parsed JSON, or IR nodes; history entries may also be
registry versions (anything with `.schema_json` and `.version`). The semantics are
Apache Avro Java's `SchemaCompatibility`, as Confluent Schema Registry applies it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from moosegen.compat.modes import MODE_RULES, Mode, check_history, parse_mode
from moosegen.compat.rules import RULES, Checker, Finding
from moosegen.diagnostics import Diagnostic
from moosegen.schema.ir import Array, AvroType, Map, Named, Primitive, UnionType

__all__ = [
    "MODE_RULES",
    "RULES",
    "CompatResult",
    "Finding",
    "Mode",
    "SchemaError",
    "can_read",
    "check",
    "load_schema",
    "reader_writer_findings",
]

_IR_TYPES = (Primitive, Named, Array, Map, UnionType)


class SchemaError(ValueError):
    """A schema given to the compatibility check is not valid Avro."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.text() for d in self.diagnostics) or "invalid schema")


@dataclass
class CompatResult:
    mode: Mode
    findings: list[Finding] = field(default_factory=list)
    checked_versions: list[int] = field(default_factory=list)

    @property
    def compatible(self) -> bool:
        return not self.findings

    def __bool__(self) -> bool:
        return self.compatible


def load_schema(schema: Any, path: str = "<schema>") -> AvroType:
    """An IR node for Avro JSON text, parsed JSON, an IR node, or a registry version."""
    if isinstance(schema, _IR_TYPES):
        return schema  # type: ignore[return-value]
    if hasattr(schema, "parsed"):  # a registered version parses itself once
        return schema.parsed  # type: ignore[no-any-return]
    if hasattr(schema, "schema_json"):
        return load_schema(schema.schema_json, getattr(schema, "path", None) or path)
    from moosegen.schema.parse import SchemaSet
    from moosegen.sourcemap import LoadError, SourceMap, load_json

    if isinstance(schema, str) and schema.lstrip()[:1] in ("{", "[", '"'):
        try:
            data, smap = load_json(schema, path)
        except LoadError as exc:
            raise SchemaError([exc.diagnostic]) from None
    elif isinstance(schema, str):
        data, smap = schema.strip(), SourceMap(path)  # a bare type name: "int", "com.acme.X"
    else:
        data, smap = schema, SourceMap(path)
    schemas = SchemaSet()
    schemas.register(data, smap)
    node = schemas.build(data, smap)
    errors = [d for d in schemas.diagnostics if d.severity == "error"]
    if node is None or errors:
        raise SchemaError(errors)
    return node


def reader_writer_findings(reader: Any, writer: Any) -> tuple[Finding, ...]:
    """Every incompatibility met reading `writer` data with `reader` (empty: compatible)."""
    return Checker().check(load_schema(reader, "<reader>"), load_schema(writer, "<writer>"))


def can_read(reader: Any, writer: Any) -> bool:
    """Can data written with `writer` always be read with `reader`?"""
    return not reader_writer_findings(reader, writer)


def check(candidate: Any, history: Sequence[Any], mode: Mode | str) -> CompatResult:
    """Check `candidate` against `history` (oldest first) under a compatibility mode."""
    mode = parse_mode(mode)
    new = load_schema(candidate, getattr(candidate, "path", None) or "<candidate>")
    versions: list[tuple[int, AvroType]] = []
    for i, old in enumerate(history):
        number = getattr(old, "version", None) or i + 1
        versions.append((number, load_schema(old, f"<version {number}>")))
    result = CompatResult(mode)
    if mode is Mode.NONE or not versions:
        return result
    against = versions if mode.transitive else versions[-1:]
    result.checked_versions = [v for v, _ in against]
    result.findings = check_history(new, versions, mode)
    return result
