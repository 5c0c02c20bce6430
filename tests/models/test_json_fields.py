"""Free-form JSON fields: the model holds a JSON object, Avro carries its JSON text."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import fastavro
import pytest
from moosegen.compat import check
from pydantic import ValidationError

from tests.models.helpers import DATA, build_package, import_models

NESTED: dict[str, Any] = {
    "a": {"b": {"c": 1}},
    "list": [1, "two", None, {"x": [True, 2.5]}],
    "none": None,
    "text": "é ✓",
}


@pytest.fixture(scope="module")
def jsonf(gen_root: Path) -> Path:
    build_package(DATA / "json_fields", gen_root, "mg_json")
    return gen_root


@pytest.fixture(scope="module")
def documents(jsonf: Path) -> ModuleType:
    return import_models(jsonf, "mg_json", "documents")


@pytest.fixture(scope="module")
def changes(jsonf: Path) -> ModuleType:
    return import_models(jsonf, "mg_json", "changes")


def _avro_body(module: ModuleType, record: dict[str, Any]) -> bytes:
    """`record` written with the module's schema by fastavro alone (strings as given)."""
    out = io.BytesIO()
    schema = fastavro.parse_schema(json.loads(module.SCHEMA_JSON), named_schemas={})
    fastavro.schemaless_writer(out, schema, record)
    return out.getvalue()


def test_model_holds_objects_with_arrays_and_nulls(documents: ModuleType) -> None:
    doc = documents.MODEL(id="d1", data=NESTED, tags=[{"k": 1}, {}])
    assert doc.data == NESTED
    assert doc.extra is None
    assert doc.props == {"source": "web"}  # the Avro default is JSON text
    assert documents.MODEL(id="d2", data={}, tags=[]).props is not doc.props


def test_json_wire_form_embeds_the_object(documents: ModuleType) -> None:
    doc = documents.MODEL(id="d1", data=NESTED, extra={"e": [None]}, tags=[])
    wire = json.loads(doc.model_dump_json())
    assert wire["data"] == NESTED and wire["extra"] == {"e": [None]}
    assert documents.MODEL.model_validate_json(doc.model_dump_json()) == doc
    rows = documents.ROWS.validate_json(json.dumps([wire]))
    assert rows[0]["data"] == NESTED


@pytest.mark.parametrize("bad", ['{"a": 1}', [1, 2], 5, None])
def test_json_form_wants_an_object(documents: ModuleType, bad: Any) -> None:
    """JSON text is not an object in the JSON form, nor is an array or a scalar."""
    with pytest.raises(ValidationError):
        documents.MODEL(id="d1", data=bad, tags=[])
    with pytest.raises(ValidationError):
        documents.ROWS.validate_python([{"id": "d1", "data": bad, "tags": []}])


def test_values_without_a_json_form_are_refused(documents: ModuleType) -> None:
    with pytest.raises(ValidationError):
        documents.MODEL(id="d1", data={"when": object()}, tags=[])


def test_avro_carries_the_json_text(documents: ModuleType) -> None:
    doc = documents.MODEL(id="d1", data=NESTED, extra={"e": 1}, tags=[{"t": [1]}])
    body = documents.encode_avro(doc)
    schema = fastavro.parse_schema(json.loads(documents.SCHEMA_JSON), named_schemas={})
    plain = fastavro.schemaless_reader(io.BytesIO(body), schema, None)
    assert isinstance(plain["data"], str) and json.loads(plain["data"]) == NESTED
    assert json.loads(plain["extra"]) == {"e": 1}
    assert [json.loads(t) for t in plain["tags"]] == [{"t": [1]}]
    assert documents.MODEL.model_validate(documents.decode_avro(body)) == doc
    decoded = documents.decode_single_object(documents.encode_single_object(doc))
    assert documents.ROWS.validate_python([decoded])[0]["data"] == NESTED


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"a string"', ""])
def test_bad_json_text_in_avro_is_invalid(documents: ModuleType, text: str) -> None:
    body = _avro_body(
        documents, {"id": "d1", "data": text, "extra": None, "props": "{}", "tags": []}
    )
    decoded = documents.decode_avro(body)  # decoding succeeds: the bytes are valid Avro
    with pytest.raises(ValidationError) as info:
        documents.ROWS.validate_python([decoded])
    assert info.value.errors()[0]["loc"][1] == "data"
    with pytest.raises(ValidationError):
        documents.MODEL.model_validate(decoded)


def test_invalid_text_names_the_problem(documents: ModuleType) -> None:
    body = _avro_body(
        documents, {"id": "d1", "data": "{oops", "extra": None, "props": "{}", "tags": []}
    )
    with pytest.raises(ValidationError) as info:
        documents.MODEL.model_validate(documents.decode_avro(body))
    error = info.value.errors()[0]
    assert error["type"] == "json_text_invalid"
    assert "invalid JSON text" in error["msg"]


def test_debezium_json_strings_are_json_fields(changes: ModuleType) -> None:
    body = _avro_body(changes, {"id": "c1", "after": '{"qty": 3, "tags": ["a"]}', "raw": "{}"})
    change = changes.MODEL.model_validate(changes.decode_avro(body))
    assert change.after == {"qty": 3, "tags": ["a"]} and change.raw == {}
    assert changes.MODEL.model_fields["after"].annotation is not str
    again = changes.MODEL.model_validate(changes.decode_avro(changes.encode_avro(change)))
    assert again == change


def test_a_string_becoming_json_is_compatible() -> None:
    """On the wire a json field is the string it always was: either way is compatible."""

    def record(field_type: Any) -> str:
        return json.dumps(
            {"type": "record", "name": "R", "fields": [{"name": "d", "type": field_type}]}
        )

    plain, marked = record("string"), record({"type": "string", "logicalType": "json"})
    debezium = record({"type": "string", "connect.name": "io.debezium.data.Json"})
    for old, new in [(plain, marked), (marked, plain), (debezium, marked)]:
        assert check(new, [old], "FULL_TRANSITIVE").compatible
    assert not check(record("long"), [marked], "BACKWARD").compatible


def test_generated_json_models_pass_mypy_strict(jsonf: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "mg_json"],
        cwd=jsonf,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
