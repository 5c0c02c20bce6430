"""The models of a JSON Schema stream: datamodel-code-generator's Pydantic v2 classes,
with the same module surface as an Avro stream's (`MODEL`, `ROWS`, `DESTINATIONS`,
`SCHEMA_ID`, `KEY_FIELDS`, codecs, `Producer`).

datamodel-code-generator is driven as a library with every option that shapes its
output fixed here, so the same JSON Schema gives the same classes on every machine; its
header (which names its input) is dropped and its imports join the module's, which the
pinned ruff then sorts and formats like every generated file.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any

from moosegen.diagnostics import Diagnostic
from moosegen.schema.jsonschema_lower import record_name
from moosegen.targets import RenderJob, SchemaVersion, StreamUnit
from moosegen.targets.pydantic_plan import VersionPlan


@dataclass(frozen=True)
class JsonSchemaModelsPlan:
    stream: str
    topic: str
    main: str  # the stream's model class
    imports: tuple[str, ...]  # datamodel-code-generator's import statements
    classes: str  # its class definitions, in its order
    versions: tuple[VersionPlan, ...]  # oldest first; the last is the current schema
    key_fields: tuple[str, ...]
    partition_key_fields: tuple[str, ...]
    tables: tuple[str, ...]  # every destination: each stores the stream's rows

    @property
    def current(self) -> VersionPlan:
        return self.versions[-1]


def generate_classes(schema_text: str, main: str) -> tuple[tuple[str, ...], str]:
    """datamodel-code-generator's classes for a JSON Schema: (import lines, class source)."""
    from datamodel_code_generator import generate
    from datamodel_code_generator.enums import DataModelType, InputFileType, StrictTypes
    from datamodel_code_generator.format import PythonVersion

    source = generate(
        schema_text,
        input_file_type=InputFileType.JsonSchema,
        output_model_type=DataModelType.PydanticV2BaseModel,
        target_python_version=PythonVersion.PY_310,
        class_name=main,
        disable_timestamp=True,
        use_annotated=True,
        field_constraints=True,
        use_standard_collections=True,
        use_union_operator=True,
        use_subclass_enum=True,
        set_default_enum_member=True,
        strict_nullable=True,
        use_schema_description=True,
        use_field_description=True,
        use_double_quotes=True,
        output_datetime_class="AwareDatetime",
        # JSON's own types only: "5" is not an integer, true is not a number, as in the schema.
        strict_types=[StrictTypes.str, StrictTypes.int, StrictTypes.float, StrictTypes.bool],
        formatters=[],
    )
    assert isinstance(source, str), "one JSON Schema gives one module"
    source = _strict_formats(source)
    tree = ast.parse(source)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    imports: list[str] = []
    classes: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names if (a.asname or a.name) in used]
            if names:
                imports.append(f"from {node.module} import {', '.join(names)}")
        elif isinstance(node, ast.Import):
            imports.append(ast.get_source_segment(source, node) or "")
        else:
            classes.append(ast.get_source_segment(source, node) or "")
    return tuple(imports), "\n\n\n".join(classes)


INT64 = (-(2**63), 2**63 - 1)
# The keywords under which the schemas a lowered JSON Schema can hold are found.
_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions")
_SUBSCHEMAS = ("items", "additionalProperties")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf")


def int64_bounded(schema_text: str) -> str:
    """The schema with every `integer` bounded to Int64, the column it lowers to: so the
    model refuses what the table cannot hold (as validation, not as an insert error), and
    the wire schema written from the model says so too."""
    doc = json.loads(schema_text)
    _bound(doc)
    return json.dumps(doc)


def _bound(node: Any) -> None:
    if not isinstance(node, dict):
        return
    types = node.get("type")
    if types == "integer" or (isinstance(types, list) and "integer" in types):
        lo, hi = INT64
        low, high = _number(node.get("minimum")), _number(node.get("maximum"))
        node["minimum"] = lo if low is None else max(low, lo)
        node["maximum"] = hi if high is None else min(high, hi)
    for key in _SUBSCHEMA_MAPS:
        if isinstance(node.get(key), dict):
            for child in node[key].values():
                _bound(child)
    for key in _SUBSCHEMAS:
        _bound(node.get(key))
    for key in _SUBSCHEMA_LISTS:
        if isinstance(node.get(key), list):
            for child in node[key]:
                _bound(child)


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


# datamodel-code-generator's hints for JSON Schema formats -> the runtime's strict forms.
FORMAT_TYPES = {"AwareDatetime": "DateTime", "date": "Date", "UUID": "Uuid"}


def _strict_formats(source: str) -> str:
    """`source` with the format types of field annotations (never a field's own name)
    replaced by their strict runtime forms, spliced in place so the rest stays as written."""
    lines = source.splitlines(keepends=True)
    spots = sorted(
        (
            (name.lineno, name.col_offset, name.end_col_offset or name.col_offset, name.id)
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.AnnAssign)
            for name in ast.walk(node.annotation)
            if isinstance(name, ast.Name) and name.id in FORMAT_TYPES
        ),
        reverse=True,
    )
    for line, start, end, name in spots:
        text = lines[line - 1]
        lines[line - 1] = f"{text[:start]}json_codec.{FORMAT_TYPES[name]}{text[end:]}"
    return "".join(lines)


def _version(v: SchemaVersion, current: SchemaVersion) -> VersionPlan:
    is_current = v.id == current.id
    return VersionPlan(
        version=v.version,
        id=v.id,
        fingerprint=v.fingerprint,
        schema_json=v.json_schema or "",
        constant="SCHEMA_JSON" if is_current else f"_SCHEMA_V{v.version}",
        is_current=is_current,
    )


def plan(unit: StreamUnit, diags: list[Diagnostic]) -> JsonSchemaModelsPlan:
    stream = unit.stream
    assert stream.json_schema is not None
    main = record_name(stream.json_schema.doc, stream.name)
    try:
        imports, classes = generate_classes(int64_bounded(stream.json_schema.text), main)
    except Exception as exc:  # noqa: BLE001 - datamodel-code-generator's refusal, located
        message = f"datamodel-code-generator failed: {type(exc).__name__}: {exc}"
        where = stream.schema_smap.path
        diags.append(
            Diagnostic(where, 1, 1, "error", "JSONSCHEMA_MODELS_FAILED", message, "SCHEMA")
        )
        imports, classes = (), ""
    return JsonSchemaModelsPlan(
        stream=stream.name,
        topic=stream.topic,
        main=main,
        imports=imports,
        classes=classes,
        versions=tuple(_version(v, unit.current) for v in unit.versions),
        key_fields=tuple(stream.key),
        partition_key_fields=tuple(stream.spec.topic.partition_key),
        tables=tuple(d.name for d in stream.destinations),
    )


def render_jobs(models: JsonSchemaModelsPlan, package: str, header: str) -> list[RenderJob]:
    context: dict[str, Any] = {"models": models, "header": header}
    return [RenderJob("models/jsonschema_models.py.j2", f"{package}/models.py", context)]
