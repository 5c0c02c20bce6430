"""Every stream's generated `schema.json` validates what its service accepts on the JSON
wire: schema-valid messages pass the service's validation (the rows adapter and the
model), and a message the schema rejects is rejected by the service too."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.helpers import REPO
from tests.jsonschema.instances import instances

GENERATED = REPO / "generated"
STREAMS = sorted(p.parent.name for p in GENERATED.glob("*/schema.json"))
JSON_SCHEMA_STREAMS = {"orders"}
# Values put in one property of a valid message: wrong types, bounds, spellings.
ODD: list[Any] = [
    None, True, False, 0, 1, -1, 1.5, 2**31, 2**63, 2**64, -(2**63) - 1, 1e300, "", "x", "1",
    "1.5", "1e3", "true", [], {}, [1], {"a": 1}, "2026-01-02T03:04:05Z", "2026-01-02T03:04:05",
    "2026-01-02 03:04:05Z", "2026-01-02T03:04:05+0530", "2026-01-02", "03:04:05",
    "00000000-0000-0000-0000-000000000000", "00000000000000000000000000000000", "AAAA", "AAA",
]  # fmt: skip
SETTINGS = settings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def validator(stream: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((GENERATED / stream / "schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def accepts(models: Any, message: Any) -> bool:
    """Does the service take `message`? Its rows adapter and its model must agree."""
    payload = json.dumps([message])
    try:
        models.ROWS.validate_json(payload)
        rows_ok = True
    except ValueError:
        rows_ok = False
    try:
        models.MODEL.model_validate_json(json.dumps(message))
        model_ok = True
    except ValueError:
        model_ok = False
    assert rows_ok == model_ok, f"rows and model disagree on {message!r}"
    return rows_ok


def service_only(stream: str, schema: dict[str, Any], prop: str, value: Any) -> bool:
    """A value an Avro stream's service takes and its schema does not, by design (schema.json
    describes the form the models write): pydantic reads other spellings of a timestamp
    (Unix times, a space for the T) and of a UUID (no dashes), and decimal strings in
    exponent notation ("1e3"), whose digits a JSON Schema pattern cannot count. A JSON
    Schema stream's models take the formats' own spellings only: none there."""
    if stream in JSON_SCHEMA_STREAMS:
        return False
    spec = schema["properties"][prop]
    branches = [spec, *spec.get("anyOf", [])]
    if any(b.get("format") in ("date-time", "uuid") for b in branches):
        return isinstance(value, str | int | float) and not isinstance(value, bool)
    decimal = any("multipleOf" in b for b in branches)
    return decimal and isinstance(value, str) and "e" in value.lower()


def test_every_stream_has_a_schema() -> None:
    packages = sorted(p.parent.name for p in GENERATED.glob("*/models.py"))
    assert STREAMS == packages and JSON_SCHEMA_STREAMS <= set(STREAMS)
    for stream in STREAMS:
        doc = json.loads((GENERATED / stream / "schema.json").read_text())
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert "DO NOT EDIT" in doc["$comment"]


@pytest.mark.parametrize("stream", STREAMS)
def test_schema_valid_messages_are_accepted(stream: str) -> None:
    v = validator(stream)
    models = importlib.import_module(f"generated.{stream}.models")

    @SETTINGS
    @given(instances(v.schema))
    def check(message: Any) -> None:
        assume(v.is_valid(message))
        assert accepts(models, message), message

    check()


@pytest.mark.parametrize("stream", STREAMS)
def test_schema_and_service_reject_the_same_messages(stream: str) -> None:
    v = validator(stream)
    models = importlib.import_module(f"generated.{stream}.models")
    props = sorted(v.schema["properties"])

    @SETTINGS
    @given(instances(v.schema), st.sampled_from(props), st.sampled_from(ODD))
    def check(message: Any, prop: str, value: Any) -> None:
        assume(v.is_valid(message))
        changed = {**message, prop: value}
        schema_ok, service_ok = v.is_valid(changed), accepts(models, changed)
        if schema_ok:
            assert service_ok, f"the schema takes {prop}={value!r}, the service does not"
        elif service_ok:
            assert service_only(stream, v.schema, prop, value), (
                f"the service takes {prop}={value!r}, the schema does not")

    check()


@pytest.mark.parametrize("stream", STREAMS)
def test_missing_required_properties_fail_both(stream: str) -> None:
    v = validator(stream)
    models = importlib.import_module(f"generated.{stream}.models")
    required = v.schema.get("required", [])
    assert required

    @SETTINGS
    @given(instances(v.schema), st.sampled_from(required))
    def check(message: Any, prop: str) -> None:
        assume(v.is_valid(message))
        dropped = {k: x for k, x in message.items() if k != prop}
        assert not v.is_valid(dropped) and not accepts(models, dropped)

    check()


def test_a_stream_schema_names_its_formats(tmp_path: Path) -> None:
    orders = json.loads((GENERATED / "orders" / "schema.json").read_text())["properties"]
    assert orders["placed_at"]["format"] == "date-time"
    assert orders["order_id"]["format"] == "uuid"
    events = json.loads((GENERATED / "events" / "schema.json").read_text())["properties"]
    decimal = events["amount"]["anyOf"]
    assert {"type": "null"} in decimal and any(b.get("multipleOf") == 0.0001 for b in decimal)


@pytest.mark.parametrize("value", [2**63, 2**64, 1e300, -(2**63) - 1])
def test_an_integer_the_table_cannot_hold_is_refused_by_schema_and_model(value: Any) -> None:
    """A JSON Schema `integer` lowers to Int64: the models bound it there, and the wire
    schema written from them says so (else the schema took 1e300 and the service did not)."""
    v = validator("orders")
    models = importlib.import_module("generated.orders.models")
    message = {"order_id": "00000000-0000-0000-0000-000000000000",
               "placed_at": "2026-01-02T03:04:05Z", "customer": "c", "quantity": 1, "total": 1,
               "address": {"city": "c", "zip": "z"}}
    assert v.is_valid(message) and accepts(models, message)
    message["quantity"] = value
    assert not v.is_valid(message)
    assert not accepts(models, message)
