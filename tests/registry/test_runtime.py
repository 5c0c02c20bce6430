"""The generated producer and pipeline with a live registry: ids resolved through it,
cached, unknown writer ids fetched once, and a registry that cannot answer never turns a
message into a dead letter."""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import struct
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import fastavro
import pytest

from tests.registry.project import call, free_port, local_schema, moosegen, page_views_project

pytestmark = pytest.mark.registry


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, str]]:
    """The page_views package built into a uniquely named folder, imported: (package, topic)."""
    monkeypatch.delenv("SCHEMA_REGISTRY_URL", raising=False)
    specs, topic = page_views_project(tmp_path)
    name = f"gen_{uuid.uuid4().hex[:8]}"
    res = moosegen("build", str(specs), "--output", str(tmp_path / name), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        for part in ("models", "service"):
            importlib.import_module(f"{name}.page_views.{part}")
        yield importlib.import_module(f"{name}.page_views"), topic
    finally:
        sys.path.remove(str(tmp_path))
        for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[mod]


def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def view(models: ModuleType) -> Any:
    return models.PageView(view_id=uuid.uuid4(), url="/a", duration_ms=2**40, referrer="r",
                           viewed_at=datetime(2026, 1, 2, tzinfo=timezone.utc))


def producer(models: ModuleType, topic: str, **kw: Any) -> Any:
    # never connects: a loopback port nobody listens on, and nothing is flushed
    return models.Producer("127.0.0.1:1", topic=topic, **kw)


def test_producer_frames_with_the_registry_id(
        built: tuple[ModuleType, str], live_registry: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    pkg, topic = built
    models = pkg.models
    registry_mod = importlib.import_module(f"{pkg.__name__.split('.')[0]}._runtime.registry")
    subject = f"{topic}-value"

    # not registered: refused, with what to do; nothing is framed with a local id
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", live_registry)
    with pytest.raises(registry_mod.RegistryRefused, match="moosegen registry push"):
        producer(models, topic)

    # registered by someone else first (ids not 1..n), then the current schema
    call(live_registry, "POST", f"/subjects/{subject}/versions",
         {"schema": json.dumps(local_schema(Path(models.__file__).parents[2] / "specs", 1))})
    p = producer(models, topic, auto_register=True)
    live = call(live_registry, "GET", f"/subjects/{subject}/versions/latest")
    assert live["version"] == 2 and p.schema_id == live["id"] != models.SCHEMA_ID
    framed = p.serialize(view(models))
    assert framed[:5] == b"\x00" + struct.pack(">I", live["id"])
    assert models.decode_avro(framed[5:])["duration_ms"] == 2**40

    # looked up (not registered again) by the next producer; an explicit id wins
    assert producer(models, topic).schema_id == live["id"]
    assert call(live_registry, "GET", f"/subjects/{subject}/versions") == [1, 2]
    assert producer(models, topic, schema_id=99).schema_id == 99
    subclass = type("MyProducer", (models.Producer,), {"__module__": __name__})
    assert subclass("127.0.0.1:1", topic=topic).schema_id == live["id"]  # a user's subclass

    monkeypatch.setenv("SCHEMA_REGISTRY_URL", closed_url())
    with pytest.raises(registry_mod.RegistryUnavailable, match="unreachable"):
        producer(models, topic)
    monkeypatch.delenv("SCHEMA_REGISTRY_URL")
    assert producer(models, topic).schema_id is None  # no registry: single-object encoding


class Msg:
    """The part of a confluent_kafka Message the pipeline reads."""

    def __init__(self, value: bytes, offset: int) -> None:
        self._value, self._offset = value, offset

    def value(self) -> bytes:
        return self._value

    def offset(self) -> int:
        return self._offset

    def partition(self) -> int:
        return 0

    def topic(self) -> str:
        return "t"


def v4_schema(models: ModuleType) -> dict[str, Any]:
    """A writer version the build never saw: v3 and one more field, with a default."""
    schema: dict[str, Any] = json.loads(models.SCHEMA_JSON)
    schema["fields"].append({"name": "country", "type": "string", "default": "?"})
    return schema


def confluent(schema_id: int, schema: dict[str, Any], rec: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), rec)
    return b"\x00" + struct.pack(">I", schema_id) + out.getvalue()


def pipeline(pkg: ModuleType, url: str) -> Any:
    pipeline_mod = importlib.import_module(f"{pkg.__name__.split('.')[0]}._runtime.pipeline")
    config = dataclasses.replace(pkg.service.CONFIG, registry_url=url)
    return pipeline_mod.Pipeline(config)


def test_unknown_writer_id_is_fetched_once_and_read_into_the_current_model(
        built: tuple[ModuleType, str], live_registry: str) -> None:
    pkg, topic = built
    models = pkg.models
    schema = v4_schema(models)
    rid = call(live_registry, "POST", f"/subjects/{topic}-value/versions",
               {"schema": json.dumps(schema)})["id"]
    assert rid not in models.WRITER_SCHEMAS
    rec = {"view_id": str(uuid.uuid4()), "viewed_at": 1_767_323_045_000, "url": "/x",
           "duration_ms": 5, "referrer": "r", "country": "NZ"}
    p = pipeline(pkg, live_registry)
    seen: list[str] = []
    request = p.writers.registry.request
    p.writers.registry.request = lambda m, path, body=None: seen.append(path) or request(
        m, path, body)
    items, failures = p.decode([Msg(confluent(rid, schema, rec), k) for k in range(3)])
    assert failures == [] and len(items) == 3
    assert seen == [f"/schemas/ids/{rid}"]  # once, then kept
    row = items[0].row
    assert row["url"] == "/x" and row["duration_ms"] == 5 and "country" not in row


def test_registry_down_holds_the_message_and_unknown_ids_are_poison(
        built: tuple[ModuleType, str], live_registry: str) -> None:
    pkg, _ = built
    models = pkg.models
    registry_mod = importlib.import_module(f"{pkg.__name__.split('.')[0]}._runtime.registry")
    rec = {"view_id": str(uuid.uuid4()), "viewed_at": 1, "url": "/y", "duration_ms": 1,
           "referrer": ""}
    current = json.loads(models.SCHEMA_JSON)
    known = Msg(confluent(models.SCHEMA_ID, current, rec), 0)
    unknown = Msg(confluent(4_000_000, current, rec), 1)

    down = pipeline(pkg, closed_url())
    items, failures = down.decode([known])  # an embedded id needs no registry
    assert len(items) == 1 and failures == []
    with pytest.raises(registry_mod.RegistryUnavailable):
        down.decode([known, unknown])  # not a failure of the message: the caller waits

    # the live registry does not know the id: that is the message's fault (dead letter)
    items, failures = pipeline(pkg, live_registry).decode([unknown])
    assert items == [] and [f.stage for f in failures] == ["decode"]
    assert isinstance(failures[0].error, registry_mod.RegistryRefused)
    assert failures[0].error.error_code == 40403
