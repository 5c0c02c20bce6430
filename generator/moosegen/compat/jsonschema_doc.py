"""A JSON Schema document for the compatibility check: parsed, checked, positioned.

Accepted forms: JSON text, parsed JSON (a dict or a boolean), a `(text, path)` pair
for `file:line:col` locations, or anything with `.schema_json` (a registry version).
Both draft-07 (`definitions`, `dependencies`, array `items` + `additionalItems`) and
2020-12 (`$defs`, `dependentRequired`/`dependentSchemas`, `prefixItems`) forms are
read; the draft named by `$schema` only decides whether keywords beside a `$ref` count
(they are ignored before 2019-09). Only local references (`#...`, `#anchor`) are
followed; any other `$ref` is compared by its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from moosegen.compat import SchemaError
from moosegen.diagnostics import Diagnostic
from moosegen.schema.ir import Loc
from moosegen.sourcemap import JsonPath, LoadError, SourceMap, load_json

TYPES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})

# Keywords whose value is one sub-schema, a list of them, or a name -> sub-schema map.
SCHEMA_KEYWORDS = frozenset(
    {
        "additionalProperties",
        "unevaluatedProperties",
        "additionalItems",
        "unevaluatedItems",
        "contains",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
    }
)
SCHEMA_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
SCHEMA_MAP_KEYWORDS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
_NUMBERS = ("minimum", "maximum", "multipleOf")
_COUNTS = (
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
)
_LEGACY_DRAFTS = ("draft-04", "draft-06", "draft-07")


@dataclass
class Document:
    """One schema document: its root, source positions, and its local reference targets."""

    root: Any
    label: str
    smap: SourceMap | None = None
    legacy: bool = False  # draft-04/06/07: keywords beside `$ref` are ignored
    anchors: dict[str, JsonPath] = field(default_factory=dict)

    def loc(self, at: JsonPath) -> Loc | None:
        if self.smap is None:
            return None
        line, col = self.smap.pos(at)
        return Loc(self.label, line, col)

    def resolve(self, ref: str) -> tuple[Any, JsonPath] | None:
        """The sub-schema a local `$ref` names and its path, or None if there is none."""
        fragment = unquote(ref[1:])
        if fragment and not fragment.startswith("/"):
            anchored = self.anchors.get(fragment)
            return None if anchored is None else (self.at(anchored), anchored)
        node: Any = self.root
        at: JsonPath = ()
        for raw in fragment.split("/")[1:]:
            token = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node, at = node[token], (*at, token)
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node, at = node[int(token)], (*at, int(token))
            else:
                return None
        return node, at

    def at(self, where: JsonPath) -> Any:
        node = self.root
        for token in where:
            node = node[token]
        return node


def load_document(schema: Any, label: str) -> Document:
    """A checked `Document` for any accepted form; a bad schema raises `SchemaError`."""
    if hasattr(schema, "schema_json"):
        return load_document(schema.schema_json, getattr(schema, "path", None) or label)
    smap: SourceMap | None = None
    if isinstance(schema, tuple) and len(schema) == 2 and isinstance(schema[0], str):
        schema, label = schema
    if isinstance(schema, str):
        try:
            schema, smap = load_json(schema, label)
        except LoadError as exc:
            raise SchemaError([exc.diagnostic]) from None
    declared = schema.get("$schema", "") if isinstance(schema, dict) else ""
    doc = Document(
        schema,
        label,
        smap,
        legacy=isinstance(declared, str) and any(d in declared for d in _LEGACY_DRAFTS),
    )
    errors: list[Diagnostic] = []
    _Checker(doc, errors).schema(schema, ())
    if not errors:
        _Checker(doc, errors).refs(schema, ())
    if errors:
        raise SchemaError(errors)
    return doc


class _Checker:
    """Walks every sub-schema once: shape errors first, then references (which need anchors)."""

    def __init__(self, doc: Document, errors: list[Diagnostic]) -> None:
        self.doc, self.errors = doc, errors

    def error(self, at: JsonPath, message: str) -> None:
        line, col = self.doc.smap.pos(at) if self.doc.smap else (1, 1)
        where = "/" + "/".join(str(t) for t in at)
        self.errors.append(
            Diagnostic(
                self.doc.label,
                line,
                col,
                "error",
                "JSON_SCHEMA_INVALID",
                f"{message} (at {where})",
                "SCHEMA",
            )
        )

    def subschemas(self, s: dict[str, Any], at: JsonPath) -> list[tuple[Any, JsonPath]]:
        out: list[tuple[Any, JsonPath]] = []
        for key, value in s.items():
            if key in SCHEMA_KEYWORDS or (key == "items" and not isinstance(value, list)):
                out.append((value, (*at, key)))
            elif key in SCHEMA_LIST_KEYWORDS or key == "items":
                if not isinstance(value, list) or (key != "prefixItems" and not value):
                    self.error((*at, key), f"{key} must be a non-empty array of schemas")
                    continue
                out += [(v, (*at, key, i)) for i, v in enumerate(value)]
            elif key in SCHEMA_MAP_KEYWORDS or key == "dependencies":
                if not isinstance(value, dict):
                    self.error((*at, key), f"{key} must be an object")
                    continue
                for name, v in value.items():
                    if key != "dependencies" or not isinstance(v, list):
                        out.append((v, (*at, key, name)))
        return out

    def schema(self, s: Any, at: JsonPath) -> None:
        if isinstance(s, bool):
            return
        if not isinstance(s, dict):
            self.error(at, f"a schema must be an object or a boolean, not {_json_kind(s)}")
            return
        self.keywords(s, at)
        anchor = s.get("$anchor")
        legacy_id = s.get("$id") if self.doc.legacy else None
        for name in (anchor, legacy_id[1:] if isinstance(legacy_id, str) else None):
            if isinstance(name, str) and name and not name.startswith("/"):
                self.doc.anchors.setdefault(name.lstrip("#"), at)
        for sub, sub_at in self.subschemas(s, at):
            self.schema(sub, sub_at)

    def keywords(self, s: dict[str, Any], at: JsonPath) -> None:
        t = s.get("type")
        names = t if isinstance(t, list) else [t]
        if "type" in s and (
            not names or any(n not in TYPES for n in names) or len(set(names)) != len(names)
        ):
            self.error((*at, "type"), f"type must be one of {sorted(TYPES)} or a list of them")
        for key in ("required", *(("enum",) if "enum" in s else ())):
            value = s.get(key, [])
            if not isinstance(value, list) or (
                key == "required" and not all(isinstance(v, str) for v in value)
            ):
                self.error((*at, key), f"{key} must be an array" + " of strings" * (key != "enum"))
        for key in _NUMBERS + ("exclusiveMinimum", "exclusiveMaximum"):
            value = s.get(key)
            legacy_flag = key.startswith("exclusive") and isinstance(value, bool)
            if key in s and not legacy_flag and not _is_number(value):
                self.error((*at, key), f"{key} must be a number")
        if _is_number(s.get("multipleOf")) and s["multipleOf"] <= 0:
            self.error((*at, "multipleOf"), "multipleOf must be greater than 0")
        for key in _COUNTS:
            if key in s and not _is_count(s[key]):
                self.error((*at, key), f"{key} must be a non-negative integer")
        patterns = s.get("patternProperties")
        for key in patterns if isinstance(patterns, dict) else ():
            self.pattern(key, (*at, "patternProperties", key))
        if "pattern" in s:
            self.pattern(s["pattern"], (*at, "pattern"))
        deps = s.get("dependentRequired", {})
        if not isinstance(deps, dict) or not all(
            isinstance(v, list) and all(isinstance(n, str) for n in v) for v in deps.values()
        ):
            self.error((*at, "dependentRequired"), "dependentRequired must map names to arrays")
        if "$ref" in s and not isinstance(s["$ref"], str):
            self.error((*at, "$ref"), "$ref must be a string")

    def pattern(self, value: Any, at: JsonPath) -> None:
        try:
            re.compile(value)
        except (re.error, TypeError) as exc:
            self.error(at, f"pattern {value!r} is not a regular expression: {exc}")

    def refs(self, s: Any, at: JsonPath) -> None:
        if not isinstance(s, dict):
            return
        ref = s.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            chain = [ref]
            target = self.doc.resolve(ref)
            while target is not None and isinstance(target[0], dict) and "$ref" in target[0]:
                nxt = target[0]["$ref"]
                if not isinstance(nxt, str) or not nxt.startswith("#"):
                    break
                if nxt in chain:
                    self.error(
                        (*at, "$ref"),
                        f"$ref {ref!r} is a cycle of references: {' -> '.join([*chain, nxt])}",
                    )
                    break
                chain.append(nxt)
                target = self.doc.resolve(nxt)
            if target is None:
                self.error((*at, "$ref"), f"$ref {chain[-1]!r} names nothing in this schema")
        for sub, sub_at in self.subschemas(s, at):
            self.refs(sub, sub_at)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return _is_number(value) and value >= 0 and value == int(value)


def _json_kind(value: Any) -> str:
    return {list: "an array", str: "a string", type(None): "null"}.get(type(value), "a number")
