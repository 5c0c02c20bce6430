"""Decoding every registered version; naming and defaults of generated classes."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from types import ModuleType

import fastavro
import pytest

from tests.models.helpers import DATA


def _v1_body() -> tuple[bytes, bytes]:
    text = (DATA / "versions/v1/order.avsc").read_text()
    schema = fastavro.parse_schema(json.loads(text), named_schemas={})
    buffer = io.BytesIO()
    fastavro.schemaless_writer(
        buffer, schema, {"id": "o1", "customer": "c9", "quantity": 2**31 - 1}
    )
    canonical = fastavro.schema.to_parsing_canonical_form(schema)
    fp = bytes.fromhex(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"))
    return buffer.getvalue(), fp


def test_three_versions_embedded(orders: ModuleType) -> None:
    assert sorted(orders.WRITER_SCHEMAS) == [101, 102, 103]
    assert orders.SCHEMA_ID == 103
    assert orders.WRITER_SCHEMAS[103] == orders.SCHEMA_JSON
    assert len(set(orders.WRITER_FINGERPRINTS.values())) == 3


def test_v1_single_object_decodes_into_v3(orders: ModuleType) -> None:
    body, fp = _v1_body()
    assert fp.hex() in orders.WRITER_FINGERPRINTS
    model = orders.MODEL.model_validate(orders.decode_single_object(b"\xc3\x01" + fp + body))
    assert model.quantity == 2**31 - 1 and model.status is orders.Status.NEW
    row = orders.ROWS.validate_python([orders.decode_single_object(b"\xc3\x01" + fp + body)])[0]
    assert row == {"id": "o1", "customer": "c9", "quantity": 2**31 - 1, "status": orders.Status.NEW}


def test_v1_confluent_decodes_into_v3(orders: ModuleType) -> None:
    body, _ = _v1_body()
    data = orders.decode_confluent(b"\x00" + struct.pack(">I", 101) + body)
    assert data == {"id": "o1", "customer": "c9", "quantity": 2**31 - 1, "status": "NEW"}
    assert orders.decode_avro(body, 101) == data


def test_v3_long_values(orders: ModuleType) -> None:
    model = orders.MODEL(id="o2", customer="c", quantity=2**40)
    assert (
        orders.MODEL.model_validate(orders.decode_confluent(orders.encode_confluent(model)))
        == model
    )
    # A registry may know the current schema under another id: the body is the same.
    framed = orders.encode_confluent(model, 4242)
    assert framed[:5] == b"\x00" + struct.pack(">I", 4242)
    assert framed[5:] == orders.encode_avro(model)


def test_unknown_schema_id(orders: ModuleType) -> None:
    body, _ = _v1_body()
    with pytest.raises(orders.UnknownSchemaError) as err:
        orders.decode_confluent(b"\x00" + struct.pack(">I", 7) + body)
    assert err.value.schema_id == 7
    with pytest.raises(orders.UnknownSchemaError):
        orders.decode_single_object(b"\xc3\x01" + b"\x00" * 8 + body)


def test_same_short_names_in_two_namespaces(names: ModuleType) -> None:
    assert names.ComAItem.AVRO_NAME == "com.a.Item" and names.ComBItem.AVRO_NAME == "com.b.Item"
    model = names.MODEL.model_validate(
        {"class": "x", "first": {"n": 1}, "second": {"s": "a"}, "either": {"s": "b"}}
    )
    assert isinstance(model.either, names.ComBItem)
    back = names.MODEL.model_validate(names.decode_avro(names.encode_avro(model)))
    assert back == model


def test_defaults_converted_from_avro_json(names: ModuleType) -> None:
    from datetime import datetime, timezone
    from decimal import Decimal

    model = names.MODEL.model_validate(
        {"class": "x", "first": {"n": 1}, "second": {"s": "a"}, "either": {"n": 2}}
    )
    assert model.raw == b"\xff\x00A"  # bytes defaults are latin-1 strings
    assert model.price == Decimal("12.34")  # 0x04D2 = 1234, scale 2
    assert model.when == datetime(1970, 1, 2, tzinfo=timezone.utc)
    assert model.kind is names.Kind.None_ and names.Kind.None_.value == "None"
    assert model.first_default == names.ComAItem(n=3)
    assert model.json_ == "x" and model.model_dump(by_alias=True)["json"] == "x"
    row = names.ROWS.validate_python(
        [{"class": "x", "first": {"n": 1}, "second": {"s": "a"}, "either": {"n": 2}}]
    )[0]
    assert row["first_default"] == {"n": 3} and row["price"] == Decimal("12.34")


def test_generation_is_deterministic(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.models.helpers import REPO

    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO / "generator")}
        subprocess.run(
            [sys.executable, "-m", "moosegen", "build", str(REPO / "specs"), "-o", str(out)],
            check=True,
            env=env,
            capture_output=True,
        )
        outputs.append({p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*.py"))})
    assert outputs[0] == outputs[1]
