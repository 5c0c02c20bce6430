"""Each class of failure seen on public schemas, on the real-world corpus's models."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from uuid import UUID

import pytest
from fastavro import parse_schema, schemaless_writer

from tests.models.helpers import build_package, import_models

UTC = timezone.utc


def stream(root: Path, name: str) -> ModuleType:
    return import_models(root, "mg_realworld", name)


def fastavro_bytes(models: ModuleType, record: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, parse_schema(json.loads(models.SCHEMA_JSON)), record)
    return buffer.getvalue()


PAYMENT = {
    "payment_id": UUID(int=5),
    "method": ("com.acme.billing.BankTransfer", {"holder": "h", "last4": "1234", "iban": "DE1"}),
    "amount_minor": ("long", 2**40),
    "score": ("boolean", True),
    "channel": ("com.acme.billing.Channel", "app"),
    "note": ("string", "null"),
    "retries": ("int", 3),
    "ratio": ("double", 0.1),
}


def test_union_branches_survive_decode_validate_encode(realworld: Path) -> None:
    m = stream(realworld, "payments")
    raw = fastavro_bytes(m, PAYMENT)
    model = m.MODEL.model_validate(m.decode_avro(raw))
    assert type(model.method).__name__ == "BankTransfer" and model.method.iban == "DE1"
    assert model.amount_minor == ("long", 2**40)
    assert model.score is True
    assert isinstance(model.channel, m.Channel)
    assert model.ratio == ("double", 0.1)
    assert m.encode_avro(model) == raw


def test_plain_values_pick_a_branch_that_holds_them(realworld: Path) -> None:
    m = stream(realworld, "payments")
    plain = {**PAYMENT, "score": True, "note": "null", "channel": "app"}
    model = m.MODEL.model_validate(
        {**plain, "amount_minor": 2**40, "method": {"holder": "h", "last4": "1"}}
    )
    assert model.amount_minor == ("long", 2**40)  # int cannot hold it
    assert type(model.method).__name__ == "Card"  # the first record that takes it
    assert model.channel == "app" and not isinstance(model.channel, m.Channel)
    again = m.MODEL.model_validate(m.decode_avro(m.encode_avro(model)))
    assert again == model


def test_json_form_tags_ambiguous_unions_only(realworld: Path) -> None:
    m = stream(realworld, "payments")
    model = m.MODEL.model_validate(m.decode_avro(fastavro_bytes(m, PAYMENT)))
    data = json.loads(m.encode_json(model))
    assert data["amount_minor"] == {"long": 2**40}
    assert data["method"] == {
        "com.acme.billing.BankTransfer": {"holder": "h", "last4": "1234", "iban": "DE1"}
    }
    assert data["channel"] == {"com.acme.billing.Channel": "app"}
    assert data["score"] is True and data["note"] == "null"  # unambiguous: plain


def test_json_keeps_bytes_and_timestamps_in_unions(realworld: Path) -> None:
    m = stream(realworld, "logical_unions")
    model = m.MODEL.model_validate(
        {
            "seq": 1,
            "when_or_text": datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
            "raw": b"\xff\x00",
            "samples": [],
            "counters": {"a": ("long", 2**40), "b": ("int", 1)},
            "labels": {"x": None, "y": {"text": "t"}},
        }
    )
    again = m.MODEL.model_validate_json(m.encode_json(model))
    assert again.raw == b"\xff\x00"
    assert again.when_or_text == datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
    assert again.counters == {"a": ("long", 2**40), "b": ("int", 1)}
    assert m.encode_avro(again) == m.encode_avro(model)


def test_nullable_record_of_a_cdc_envelope_decodes(realworld: Path) -> None:
    m = stream(realworld, "cdc_customers")
    after = {
        "id": 7,
        "first_name": "Ann",
        "email": "a@x",
        "balance": None,
        "created_at": 1,
        "birthday": None,
        "tier": "gold",
    }
    source = {
        "version": "2.5",
        "connector": "mysql",
        "name": "shopdb",
        "ts_ms": 1,
        "snapshot": "false",
        "db": "inventory",
        "sequence": None,
        "table": "customers",
        "server_id": 1,
        "gtid": None,
        "file": "bin.000003",
        "pos": 154,
        "row": 0,
        "thread": None,
        "query": None,
    }
    record = {
        "before": None,
        "after": after,
        "source": source,
        "op": "c",
        "ts_ms": 2,
        "transaction": None,
    }
    raw = fastavro_bytes(m, record)
    model = m.MODEL.model_validate(m.decode_avro(raw))
    assert model.after is not None and model.after.first_name == "Ann"
    assert m.encode_avro(model) == raw


def test_names_never_shadow_types(realworld: Path) -> None:
    m = stream(realworld, "clashes")
    model = m.MODEL.model_validate(
        {
            "str": "s",
            "date": "2024-01-02",
            "optionalEnum": "TWO",
            "RESOURCE": [{"uri": "u"}],
            "first": {"n": 1},
            "second": {"n": 2},
            "either": {"n": 3, "m": 4},
        }
    )
    assert model.RESOURCE is not None and model.RESOURCE[0].uri == "u"
    assert model.optionalEnum is not None and model.optionalEnum.value == "TWO"
    assert json.loads(m.encode_json(model))["str"] == "s"
    assert type(model.either).__name__ == "NetExampleBItem"


def test_uuid_default_is_a_uuid(realworld: Path) -> None:
    m = stream(realworld, "payments")
    default = m.MODEL.model_fields["payment_id"].default
    assert default == UUID("00000000-0000-4000-8000-000000000000")


@pytest.mark.parametrize("name", ["trees", "defaults"])
def test_composite_defaults_fill_in(realworld: Path, name: str) -> None:
    m = stream(realworld, name)
    required = {
        "trees": {
            "name": "n",
            "path": {"value": 1},
            "deep": {"l2": {"l3": {"l4": {"counts": {}}}}},
            "expr": {"node": {"left": {"node": {"value": 1}}, "right": {"node": {"value": 2**40}}}},
        },
        "defaults": {"id": "i"},
    }[name]
    model = m.MODEL.model_validate(required)
    assert m.MODEL.model_validate(m.decode_avro(m.encode_avro(model))) == model


def test_records_named_like_builtins_do_not_shadow_them(tmp_path: Path) -> None:
    schema = {
        "type": "record",
        "name": "S",
        "fields": [
            {
                "name": "a",
                "type": {
                    "type": "record",
                    "name": "list",
                    "fields": [{"name": "x", "type": "int"}],
                },
            },
            {
                "name": "b",
                "type": {
                    "type": "record",
                    "name": "dict",
                    "fields": [{"name": "y", "type": {"type": "array", "items": "int"}}],
                },
            },
        ],
    }
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "builtin_names.yaml").write_text("stream: builtin_names\nschema: s.avsc\n")
    (specs / "s.avsc").write_text(json.dumps(schema))
    build_package(specs, tmp_path, "builtin_pkg")
    names = import_models(tmp_path, "builtin_pkg", "builtin_names")
    model = names.MODEL(a={"x": 1}, b={"y": [1, 2]})
    assert type(model.a).__name__ == "list_" and model.b.y == [1, 2]
