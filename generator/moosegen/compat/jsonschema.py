"""JSON Schema compatibility: can a candidate JSON Schema join a subject's history?

    from moosegen.compat import jsonschema
    result = jsonschema.check(new_schema, [v1, v2, v3], "BACKWARD_TRANSITIVE")
    result.compatible, result.findings
    jsonschema.can_read(reader, writer)

Schemas are JSON text, parsed JSON (a dict or a boolean), `(text, path)` for
`file:line:col` locations, or registry versions (`.schema_json`, `.version`). The
rules are Confluent Schema Registry's for JSON Schema (see `jsonschema_rules`):
BACKWARD = every instance valid under the old schema is valid under the new one,
FORWARD = the reverse, FULL = both; `*_TRANSITIVE` checks every version.

Pairwise findings name the change from writer to reader; `check` restates them from
the candidate's side: its JSON Pointer, its `file:line:col`, and the code of the
change the candidate makes (a FORWARD finding is the inverse of the pairwise one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from moosegen.compat import CompatResult, SchemaError
from moosegen.compat.jsonschema_codes import INVERSE, JSON_SCHEMA_CODES
from moosegen.compat.jsonschema_doc import Document, load_document
from moosegen.compat.jsonschema_rules import PairChecker
from moosegen.compat.modes import Mode, findings_over_history, parse_mode, restated
from moosegen.compat.rules import Finding

__all__ = [
    "JSON_SCHEMA_CODES",
    "CheckResult",
    "Finding",
    "SchemaError",
    "can_read",
    "check",
    "load_document",
    "reader_writer_findings",
]

CheckResult = CompatResult


def _document(schema: Any, label: str) -> Document:
    return schema if isinstance(schema, Document) else load_document(schema, label)


def reader_writer_findings(reader: Any, writer: Any) -> tuple[Finding, ...]:
    """Every reason an instance valid for `writer` may be invalid for `reader` (empty: none)."""
    return PairChecker(_document(reader, "<reader>"), _document(writer, "<writer>")).check()


def can_read(reader: Any, writer: Any) -> bool:
    """Is every instance valid under `writer` valid under `reader`?"""
    return not reader_writer_findings(reader, writer)


def _restate(f: Finding, *, candidate_reads: bool, version: int) -> Finding:
    code = f.code if candidate_reads else INVERSE[f.code]
    verb = "rejects data valid under"
    return restated(f, candidate_reads, version, code, JSON_SCHEMA_CODES[code][0], verb)


def check(candidate: Any, history: Sequence[Any], mode: Mode | str) -> CompatResult:
    """Check `candidate` against `history` (oldest first) under a compatibility mode."""
    mode = parse_mode(mode)
    new = _document(candidate, getattr(candidate, "path", None) or "<candidate>")
    versions: list[tuple[int, Document]] = []
    for i, old in enumerate(history):
        number = getattr(old, "version", None) or i + 1
        versions.append((number, _document(old, f"<version {number}>")))
    result = CompatResult(mode)
    if mode is not Mode.NONE and versions:
        result.checked_versions = [v for v, _ in (versions if mode.transitive else versions[-1:])]
    result.findings = findings_over_history(
        new,
        versions,
        mode,
        lambda reader, writer: PairChecker(reader, writer).check(),
        lambda f, reads, version: _restate(f, candidate_reads=reads, version=version),
    )
    return result
