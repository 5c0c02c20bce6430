"""The guide's shape-changing transforms, end to end: the example specs' services against
the real broker and chdb, with exact table contents and dead letters."""

from __future__ import annotations

import io
import json
import shutil
import socket
import sys
import uuid
from pathlib import Path
from typing import Any

import fastavro
import pytest
import yaml
from moosegen.runtime.avro_codec import fingerprint_of

from tests.e2e import harness as h

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

FILES = ("moosegen.yaml", "guide_event.avsc", "streamed_event.avsc")
WHEN_MS = 1767323045678  # 2026-01-02T03:04:05.678Z


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def project(tmp: Path, stream: str, **changes: Any) -> tuple[str, int]:
    """The example spec of `stream` with its own topic and port (and `changes`), built."""
    specs = tmp / "specs"
    specs.mkdir()
    for name in FILES:
        shutil.copy(h.SPECS / name, specs / name)
    spec = yaml.safe_load((h.SPECS / f"{stream}.yaml").read_text())
    topic, port = f"{stream}-{uuid.uuid4().hex[:8]}", free_port()
    spec.update(topic={"name": topic, "partitions": 2}, monitoring={"port": port},
                dead_letter={"topic": f"{topic}-dlq", "max_retries": 1, "retry_delay": "200ms"},
                batch={"size": 100, "timeout": "300ms"}, **changes)
    (specs / f"{stream}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    h.build_tree(tmp, specs)
    return topic, port


def run(tmp: Path, stream: str, topic: str, port: int, bootstrap: str,
        values: list[tuple[bytes, bytes]]) -> None:
    chdb = tmp / "chdb"
    res = h.run_cli(tmp, "setup", "--bootstrap-servers", bootstrap, "--clickhouse",
                    f"chdb://{chdb}", stream=stream)
    assert res.returncode == 0, res.stderr
    proc = h.start(tmp, "--bootstrap-servers", bootstrap, "--clickhouse", f"chdb://{chdb}",
                   stream=stream)
    try:
        h.wait_until(lambda: h.http_get(port, "/health")[0] == 200, 60, "health", proc)
        h.produce(bootstrap, topic, values)
        h.wait_until(lambda: h.committed_all(bootstrap, f"moosegen.{stream}", topic), 90,
                     "all offsets committed", proc)
    finally:
        code = h.stop(proc)
    assert code == 0, (tmp / "service.log").read_text()[-3000:]


def event(i: int, user: str, data: Any) -> dict[str, Any]:
    return {"id": f"e{i}", "timestamp": "2026-01-02T03:04:05.678Z", "user_id": user,
            "event_type": "click", "data": data}


def test_guide_transform_adds_processed_fields(tmp_path: Path, kafka_bootstrap: str) -> None:
    topic, port = project(tmp_path, "enriched_events",
                          transform="shape_hooks:add_processing_or_surplus")
    events = [event(1, "u1", {"page": {"path": "home", "ms": 12}, "tags": ["x", None]}),
              event(2, "u2", {}),
              event(3, "surplus", {"k": 1}),
              event(4, "u4", "not an object")]
    run(tmp_path, "enriched_events", topic, port, kafka_bootstrap,
        [(e["id"].encode(), json.dumps(e).encode()) for e in events])
    rows = h.query(tmp_path, tmp_path / "chdb",
                   "SELECT id, toString(timestamp), user_id, event_type, toJSONString(data), "
                   "data.page.path, processed_by, processed_at > timestamp "
                   "FROM enriched_events ORDER BY id")
    assert rows == [
        ["e1", "2026-01-02 03:04:05.678", "u1", "click",
         '{"page":{"ms":12,"path":"home"},"tags":["x",null]}', "home", "stream-processor", 1],
        ["e2", "2026-01-02 03:04:05.678", "u2", "click", "{}", None, "stream-processor", 1],
    ]
    dlq = {m.key(): dict(m.headers()) for m in
           h.read_topic(kafka_bootstrap, f"{topic}-dlq", expected=2)}
    assert set(dlq) == {b"e3", b"e4"}
    assert dlq[b"e3"]["x-moosegen-error-stage"] == b"transform"
    assert b"debug_note" in dlq[b"e3"]["x-moosegen-error-message"]
    assert dlq[b"e4"]["x-moosegen-error-type"] == b"invalid"


def test_event_streaming_pattern_over_avro(tmp_path: Path, kafka_bootstrap: str) -> None:
    topic, port = project(tmp_path, "streamed_events")
    text = (tmp_path / "specs" / "registry" / "streamed_events" / "v1.avsc").read_text()
    schema = fastavro.parse_schema(json.loads(text), named_schemas={})
    prefix = b"\xc3\x01" + fingerprint_of(text)

    def encode(i: int, data: str) -> tuple[bytes, bytes]:
        out = io.BytesIO()
        fastavro.schemaless_writer(out, schema, {"id": f"e{i}", "timestamp": WHEN_MS,
                                                 "user_id": f"u{i}", "event_type": "view",
                                                 "data": data})
        return f"e{i}".encode(), prefix + out.getvalue()

    run(tmp_path, "streamed_events", topic, port, kafka_bootstrap,
        [encode(1, '{"a": {"b": [1, null, {"c": true}]}}'), encode(2, "{broken"),
         encode(3, '{"n": 1.5}')])
    sys.path.append(str(h.SPECS))
    from hooks.enrichment import STREAM_NAMESPACE

    rows = h.query(tmp_path, tmp_path / "chdb",
                   "SELECT id, user_id, toJSONString(data), data.a.b, stream_id, "
                   "streamed_at > timestamp FROM streamed_events ORDER BY id")
    assert rows == [
        ["e1", "u1", '{"a":{"b":[1,null,{"c":true}]}}', [1, None, {"c": True}],
         str(uuid.uuid5(STREAM_NAMESPACE, "e1")), 1],
        ["e3", "u3", '{"n":1.5}', None, str(uuid.uuid5(STREAM_NAMESPACE, "e3")), 1],
    ]
    dlq = h.read_topic(kafka_bootstrap, f"{topic}-dlq", expected=1)
    assert [m.key() for m in dlq] == [b"e2"]
    headers = dict(dlq[0].headers())
    assert headers["x-moosegen-error-type"] == b"invalid"
    assert b"invalid JSON text" in headers["x-moosegen-error-message"]
