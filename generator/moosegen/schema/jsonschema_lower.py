"""A stream's JSON Schema (draft 2020-12 or draft-07) lowered to an Avro record.

The lowered record is what the ClickHouse, topics and service targets read, so a JSON
Schema stream gets the same tables, migrations and service as an Avro one; its models
come from the JSON Schema itself (datamodel-code-generator). The lowering follows the
Pydantic semantics datamodel-code-generator gives each construct:

    required property            T              (no default)
    optional, with a default     T = default
    optional, no default         ["null", T] = null
    type: [T, "null"]            ["null", T]
    string + format              date-time → timestamp-micros, date → date, uuid → uuid
    enum of strings              Avro enum
    integer / number / boolean   long / double / boolean
    array + items                array
    object + properties          record (a named Tuple)
    object + additionalProperties: {schema}, no properties   map

Anything else (unions other than with null, `not`, `if`, remote `$ref`, an object that
is neither a record nor a map, ...) is a located error: ClickHouse could not store it.
"""

from __future__ import annotations

import re
from typing import Any

from moosegen.schema.shorthand import Lowered, pascal
from moosegen.sourcemap import JsonPath, SourceMap

_AVRO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FORMATS: dict[str, dict[str, str]] = {
    "date-time": {"type": "long", "logicalType": "timestamp-micros"},
    "date": {"type": "int", "logicalType": "date"},
    "uuid": {"type": "string", "logicalType": "uuid"},
}
_PRIMITIVES = {"string": "string", "integer": "long", "number": "double", "boolean": "boolean"}
# Keywords that only annotate or constrain values: the models enforce them, columns ignore them.
# fmt: off
_ANNOTATIONS = {
    "$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "default",
    "examples", "deprecated", "readOnly", "writeOnly", "type", "format", "enum", "const",
    "properties", "required", "additionalProperties", "items", "minLength", "maxLength",
    "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "$ref",
}
# fmt: on
# The kinds of value each keyword the lowering reads must have.
_KEYWORD_KINDS: dict[str, tuple[type, ...]] = {
    "type": (str, list),
    "format": (str,),
    "enum": (list,),
    "properties": (dict,),
    "required": (list,),
    "items": (dict, bool),
    "additionalProperties": (dict, bool),
    "title": (str,),
    "description": (str,),
    "$defs": (dict,),
    "definitions": (dict,),
}


def _misshapen(node: dict[str, Any]) -> str | None:
    """The first keyword whose value is of a kind the lowering cannot read."""
    return next(
        (k for k, kinds in _KEYWORD_KINDS.items() if k in node and not isinstance(node[k], kinds)),
        None,
    )


def kind_of(python_type: str) -> str:
    """A decoded JSON value's Python type named as JSON names it."""
    names = {
        "dict": "an object",
        "list": "an array",
        "str": "a string",
        "bool": "a boolean",
        "int": "a number",
        "float": "a number",
        "NoneType": "null",
    }
    return names.get(python_type, python_type)


def record_name(doc: Any, stream: str) -> str:
    """The model's class name: the schema's `title` when it is an identifier."""
    title = doc.get("title") if isinstance(doc, dict) else None
    if isinstance(title, str) and _AVRO_NAME.match(title.replace(" ", "")):
        return pascal(title.replace(" ", ""))
    return pascal(stream)


class _Lowering:
    def __init__(self, doc: Any, jsmap: SourceMap, namespace: str) -> None:
        self.doc = doc
        self.jsmap = jsmap
        self.namespace = namespace
        self.out = Lowered({}, SourceMap(jsmap.path))
        self.names: set[str] = set()
        self.resolving: list[str] = []

    def error(self, where: JsonPath, message: str) -> None:
        self.out.diagnostics.append(
            self.jsmap.diag(where, "JSONSCHEMA_UNMAPPABLE", message, category="SCHEMA")
        )

    def well_shaped(self, node: dict[str, Any], jwhere: JsonPath) -> bool:
        bad = _misshapen(node)
        if bad is not None:
            kind = type(node[bad]).__name__
            self.error((*jwhere, bad), f"keyword {bad!r} cannot be {kind_of(kind)}")
        return bad is None

    def locate(self, awhere: JsonPath, jwhere: JsonPath) -> None:
        self.out.smap.values[awhere] = self.jsmap.pos(jwhere)

    def name(self, wanted: str) -> str:
        name, n = wanted, 2
        while name in self.names:
            name, n = f"{wanted}{n}", n + 1
        self.names.add(name)
        return name

    def resolve(self, node: Any, jwhere: JsonPath) -> tuple[Any, JsonPath, list[str]] | None:
        """Follow local `$ref`s (to `#/$defs/...` or `#/definitions/...`): the schema reached,
        where it is, and the references followed to it."""
        followed: list[str] = []
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                self.error((*jwhere, "$ref"), f"only local references map to columns: {ref!r}")
                return None
            if ref in self.resolving or ref in followed:
                self.error((*jwhere, "$ref"), f"recursive reference {ref!r} has no column type")
                return None
            followed.append(ref)
            path: JsonPath = tuple(
                p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/")
            )
            target: Any = self.doc
            for part in path:
                target = target.get(part) if isinstance(target, dict) else None
            if target is None:
                self.error((*jwhere, "$ref"), f"reference {ref!r} points at nothing")
                return None
            node, jwhere = target, path
        return node, jwhere, followed

    def type_of(self, node: Any, jwhere: JsonPath, awhere: JsonPath, hint: str) -> Any:
        """The Avro type of a schema node (None after an error)."""
        resolved = self.resolve(node, jwhere)
        if resolved is None:
            return None
        node, jwhere, followed = resolved
        self.resolving += followed  # a reference met again below this node is a cycle
        try:
            return self.resolved_type(node, jwhere, awhere, hint)
        finally:
            del self.resolving[len(self.resolving) - len(followed) :]

    def resolved_type(self, node: Any, jwhere: JsonPath, awhere: JsonPath, hint: str) -> Any:
        self.locate(awhere, jwhere)
        if not isinstance(node, dict):
            self.error(jwhere, "a schema here must be an object to map to a column")
            return None
        unknown = sorted(k for k in node if k not in _ANNOTATIONS)
        if unknown:
            self.error((*jwhere, unknown[0]), f"keyword {unknown[0]!r} has no column mapping")
            return None
        if not self.well_shaped(node, jwhere):
            return None
        types = node.get("type")
        names = types if isinstance(types, list) else [types]
        nullable = "null" in names
        names = [t for t in names if t != "null"]
        if "enum" in node and not names:
            names = ["string"]
        if len(names) != 1 or not isinstance(names[0], str):
            self.error((*jwhere, "type"), f"type {types!r} is not one type (or one type and null)")
            return None
        base = self.non_null(node, names[0], jwhere, awhere, hint)
        if base is None:
            return None
        return ["null", base] if nullable else base

    def non_null(
        self, node: dict[str, Any], kind: str, jwhere: JsonPath, awhere: JsonPath, hint: str
    ) -> Any:
        if "enum" in node:
            symbols = node["enum"]
            if kind != "string" or not all(isinstance(s, str) for s in symbols):
                self.error((*jwhere, "enum"), "only an enum of strings maps to a column")
                return None
            bad = next((s for s in symbols if not _AVRO_NAME.match(s)), None)
            if bad is not None:
                self.error((*jwhere, "enum"), f"enum value {bad!r} is not an identifier")
                return None
            self.locate(awhere + ("symbols",), (*jwhere, "enum"))
            return {"type": "enum", "name": self.name(pascal(hint)), "symbols": list(symbols)}
        if kind == "string" and "format" in node and node["format"] in _FORMATS:
            return dict(_FORMATS[node["format"]])
        if kind in _PRIMITIVES:
            return _PRIMITIVES[kind]
        if kind == "array":
            if "items" not in node:
                self.error(jwhere, "an array needs `items` to map to a column")
                return None
            items = self.type_of(node["items"], (*jwhere, "items"), awhere + ("items",), hint)
            return None if items is None else {"type": "array", "items": items}
        if kind == "object":
            return self.object(node, jwhere, awhere, hint)
        self.error((*jwhere, "type"), f"type {kind!r} has no column mapping")
        return None

    def object(self, node: dict[str, Any], jwhere: JsonPath, awhere: JsonPath, hint: str) -> Any:
        extra = node.get("additionalProperties")
        if "properties" not in node:
            if isinstance(extra, dict):
                values = self.type_of(
                    extra, (*jwhere, "additionalProperties"), awhere + ("values",), hint
                )
                return None if values is None else {"type": "map", "values": values}
            self.error(
                jwhere,
                "an object needs `properties` (a Tuple) or an `additionalProperties` schema"
                " (a Map)",
            )
            return None
        if extra not in (None, False):
            self.error(
                (*jwhere, "additionalProperties"),
                "an object with properties cannot keep other properties in a column",
            )
            return None
        name = self.name(record_name(node, hint))
        required = node.get("required", [])
        fields = []
        for i, (prop, sub) in enumerate(node["properties"].items()):
            fa: JsonPath = (*awhere, "fields", i)
            fj: JsonPath = (*jwhere, "properties", prop)
            self.out.smap.values[fa] = self.jsmap.pos(fj, key=True)
            self.out.smap.values[fa + ("name",)] = self.jsmap.pos(fj, key=True)
            if not _AVRO_NAME.match(prop):
                self.error(fj, f"property {prop!r} is not an identifier, so it cannot be a column")
                continue
            ftype = self.type_of(sub, fj, fa + ("type",), prop)
            if ftype is None:
                continue
            field: dict[str, Any] = {"name": prop, "type": ftype}
            if isinstance(sub, dict) and isinstance(sub.get("description"), str):
                field["doc"] = sub["description"]
            if prop not in required:
                if isinstance(sub, dict) and "default" in sub:
                    field["default"] = sub["default"]
                    self.locate(fa + ("default",), (*fj, "default"))
                elif isinstance(ftype, list):
                    field["default"] = None
                else:
                    field["type"], field["default"] = ["null", ftype], None
            fields.append(field)
        record: dict[str, Any] = {"type": "record", "name": name, "fields": fields}
        if isinstance(node.get("description"), str):
            record["doc"] = node["description"]
        return record


def lower(doc: Any, jsmap: SourceMap, stream: str, namespace: str) -> Lowered:
    """The Avro record of a stream's JSON Schema, located in the JSON Schema file;
    `stream` names the record when the schema has no usable `title`."""
    lowering = _Lowering(doc, jsmap, namespace)
    if not (isinstance(doc, dict) and (doc.get("type") == "object" or "properties" in doc)):
        lowering.error((), "a stream's JSON Schema must describe an object with `properties`")
        return lowering.out
    if not lowering.well_shaped(doc, ()):
        return lowering.out
    record = lowering.object(doc, (), (), stream)
    if record is not None:
        record["name"] = record_name(doc, stream)
        record["namespace"] = lowering.namespace
        lowering.out.schema = record
    return lowering.out
