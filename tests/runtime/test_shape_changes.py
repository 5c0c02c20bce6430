"""Pipeline level: a transform's output meets its destination's model (undeclared fields
are the record's error unless relaxed), and JSON text in Avro that does not parse."""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import fastavro
import pytest
from moosegen.runtime.config import ColumnConfig, DeadLetterConfig, DestinationConfig, ServiceConfig
from moosegen.runtime.deadletter import headers_for
from moosegen.runtime.pipeline import Pipeline

from tests.models.helpers import REPO, build_package, import_models

WHEN = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)


class Msg:
    def __init__(self, offset: int, value: bytes) -> None:
        self._o, self._v = offset, value

    def value(self) -> bytes:
        return self._v

    def topic(self) -> str:
        return "t"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._o

    def headers(self) -> list[tuple[str, bytes]]:
        return []


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project built; its hooks (`specs/hooks`) importable, as the service
    finds them on its PYTHONPATH."""
    if str(REPO / "specs") not in sys.path:
        sys.path.append(str(REPO / "specs"))
    parent = tmp_path_factory.mktemp("shape")
    build_package(REPO / "specs", parent, "mg_shape")
    return parent


def _models(example: Path, stream: str) -> ModuleType:
    return import_models(example, "mg_shape", stream)


def _pipeline(models: ModuleType, table: str, extra_fields: str = "error", **kw: Any) -> Pipeline:
    columns = (ColumnConfig("id", "id", "String"),)
    dest = DestinationConfig(table, columns, extra_fields=extra_fields)
    cfg = ServiceConfig(stream=table, topic="t", models=models, destinations=(dest,),
                        dead_letter=DeadLetterConfig("t-dlq"), **kw)
    return Pipeline(cfg)


def _event(i: int, **extra: Any) -> dict[str, Any]:
    return {"id": f"e{i}", "timestamp": WHEN, "user_id": f"u{i}", "event_type": "click",
            "data": {"n": i, "nested": {"list": [1, None]}}, **extra}


def _json_msgs(models: ModuleType, events: list[dict[str, Any]]) -> list[Msg]:
    return [Msg(i, models.MODEL(**e).model_dump_json().encode()) for i, e in enumerate(events)]


def test_transform_adds_fields_the_table_declares(example: Path) -> None:
    models = _models(example, "enriched_events")
    p = _pipeline(models, "enriched_events", transform="hooks.enrichment:add_processing")
    items, failures = p.decode(_json_msgs(models, [_event(1), _event(2)]))
    assert not failures
    routed, failures = p.route_items(items)
    assert not failures
    rows = routed["enriched_events"].rows
    assert [r["processed_by"] for r in rows] == ["stream-processor"] * 2
    assert all(isinstance(r["processed_at"], datetime) for r in rows)
    assert [r["data"] for r in rows] == [_event(1)["data"], _event(2)["data"]]


def _adds(field: str) -> Any:
    def hook(event: Any) -> Any:
        out = {**event.model_dump(), "processed_at": WHEN, "processed_by": "x"}
        out[field] = "surplus"
        return out

    return hook


@pytest.mark.parametrize("shape", ["dict", "model_copy"])
def test_undeclared_fields_dead_letter_the_record(example: Path, shape: str) -> None:
    models = _models(example, "enriched_events")
    p = _pipeline(models, "enriched_events", transform="hooks.enrichment:add_processing")

    def surplus(event: Any) -> Any:
        if event.id == "e1":  # only this record carries undeclared fields
            if shape == "dict":
                return {**p_transform(event), "zeta": 1, "alpha": 2}
            row = models.DESTINATIONS["enriched_events"][0](**p_transform(event))
            return row.model_copy(update={"zeta": 1, "alpha": 2})
        return p_transform(event)

    p_transform = p.transform
    p.transform = surplus
    items, failures = p.decode(_json_msgs(models, [_event(1), _event(2)]))
    routed, failures = p.route_items(items)
    assert [r["id"] for r in routed["enriched_events"].rows] == ["e2"]
    assert len(failures) == 1
    failure = failures[0]
    assert failure.stage == "transform" and failure.error_type == "transform"
    assert not failure.retryable
    headers = dict(headers_for(failure, 1))
    message = headers["x-moosegen-error-message"].decode()
    assert "alpha, zeta" in message and "'enriched_events'" in message
    assert headers["x-moosegen-error-stage"] == b"transform"


def test_extra_fields_ignore_relaxes_it(example: Path) -> None:
    models = _models(example, "enriched_events")
    p = _pipeline(models, "enriched_events", extra_fields="ignore",
                  transform="hooks.enrichment:add_processing")
    base = p.transform
    assert base is not None
    p.transform = lambda e: {**base(e), "zeta": 1}
    items, _ = p.decode(_json_msgs(models, [_event(1)]))
    routed, failures = p.route_items(items)
    assert not failures
    assert "zeta" not in routed["enriched_events"].rows[0]


def test_no_transform_into_another_shape_names_the_missing_transform_fields(
    example: Path,
) -> None:
    """Without a transform the table's own schema still judges the source rows: here the
    source lacks processed_at/processed_by, so the rows are refused, not stored short."""
    models = _models(example, "enriched_events")
    p = _pipeline(models, "enriched_events")
    items, _ = p.decode(_json_msgs(models, [_event(1)]))
    routed, failures = p.route_items(items)
    assert routed["enriched_events"].rows == []
    assert [f.stage for f in failures] == ["destination"]
    assert "processed_at" in str(failures[0].error)


def _avro_msg(models: ModuleType, offset: int, record: dict[str, Any]) -> Msg:
    schema = fastavro.parse_schema(json.loads(models.SCHEMA_JSON), named_schemas={})
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schema, record)
    return Msg(offset, b"\xc3\x01" + models.FINGERPRINT + out.getvalue())


def test_invalid_json_text_in_avro_is_dead_lettered_as_invalid(example: Path) -> None:
    models = _models(example, "streamed_events")
    p = _pipeline(models, "streamed_events", format="avro",
                  transform="hooks.enrichment:add_stream_info")
    millis = int(WHEN.timestamp() * 1000)
    good = {"id": "e1", "timestamp": millis, "user_id": "u", "event_type": "view",
            "data": '{"a": {"b": [1, null]}}'}
    msgs = [_avro_msg(models, 0, good), _avro_msg(models, 1, {**good, "id": "e2", "data": "{"}),
            _avro_msg(models, 2, {**good, "id": "e3", "data": "[1]"})]
    items, failures = p.decode(msgs)
    assert [i.row["data"] for i in items] == [{"a": {"b": [1, None]}}]
    assert [(f.msg.offset(), f.error_type) for f in failures] == [(1, "invalid"), (2, "invalid")]
    assert "invalid JSON text" in str(failures[0].error)
    routed, failures = p.route_items(items)
    assert not failures
    assert routed["streamed_events"].rows[0]["stream_id"]


def test_the_service_config_carries_extra_fields(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "moosegen.yaml").write_text("namespace: xf\n")
    (specs / "notes.yaml").write_text(
        "stream: notes\nfields: {id: string, body: json}\n"
        "table: {order_by: [id], extra_fields: ignore}\n"
        "destinations:\n  - {table: strict_notes, order_by: [id]}\n"
    )
    build_package(specs, tmp_path, "mg_xf")
    service = import_models(tmp_path, "mg_xf", "notes").__name__.replace("models", "service")
    config = __import__(service, fromlist=["CONFIG"]).CONFIG
    assert {d.name: d.extra_fields for d in config.destinations} == {
        "notes": "ignore",
        "strict_notes": "error",
    }
