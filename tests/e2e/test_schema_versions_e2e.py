"""End-to-end: the example `page_views` stream (Avro, three registered versions) reads
messages written with v1, v2 and v3 from one topic, in Avro single-object encoding and in
the Confluent wire format, and one whose schema id only a Schema Registry knows (a local
http.server answering with a recorded Confluent REST response)."""

from __future__ import annotations

import io
import json
import shutil
import struct
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import fastavro
import pytest

from tests.e2e import harness as h
from tests.e2e.test_reliability_e2e import free_port

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

REGISTRY = h.SPECS / "registry" / "page_views"
IDS = {"v1": 5, "v2": 6, "v3": 7}  # the ids recorded in specs/registry/index.json
UNKNOWN_ID = 4242


def writer_schema(version: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((REGISTRY / f"{version}.avsc").read_text())
    return schema


def crc64_avro(data: bytes) -> bytes:
    """The Avro spec's CRC-64-AVRO fingerprint, little-endian (written out here as an
    independent oracle for the single-object header)."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for b in data:
        fp = (fp >> 8) ^ table[(fp ^ b) & 0xFF]
    return fp.to_bytes(8, "little")


def body(version: str, record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(writer_schema(version)), record)
    return out.getvalue()


def single_object(version: str, record: dict[str, Any]) -> bytes:
    canonical = fastavro.schema.to_parsing_canonical_form(
        fastavro.parse_schema(writer_schema(version)))
    return b"\xc3\x01" + crc64_avro(canonical.encode()) + body(version, record)


def confluent(schema_id: int, version: str, record: dict[str, Any]) -> bytes:
    return b"\x00" + struct.pack(">I", schema_id) + body(version, record)


def record(n: int, version: str, framing: str) -> dict[str, Any]:
    rec: dict[str, Any] = {"view_id": str(uuid.UUID(int=n)), "viewed_at": 1_767_323_045_000 + n,
                           "url": f"/{framing}/{version}/{n}", "duration_ms": 1000 + n}
    if version != "v1":
        rec["referrer"] = f"ref-{n}"
    if version == "v3":
        rec["duration_ms"] = 2**40 + n  # only a long holds it (v1 and v2 wrote int)
    return rec


@pytest.fixture
def project(tmp_path: Path, kafka_bootstrap: str) -> Iterator[tuple[Path, str]]:
    """The example specs with page_views on a topic of its own, built, `setup` applied.

    (A `namespace:` would rename the registry subject too, and the build would then see
    none of the three recorded versions; naming the topic keeps the history.)"""
    specs = tmp_path / "specs"
    shutil.copytree(h.SPECS, specs, ignore=shutil.ignore_patterns("__pycache__"))
    spec = specs / "page_views.yaml"
    topic = f"pv-{uuid.uuid4().hex[:8]}"
    text = spec.read_text()
    assert "topic: {partitions: 3," in text
    spec.write_text(text.replace("topic: {", f"topic: {{name: {topic}, ", 1))
    models = h.build_tree(tmp_path, specs) / "page_views" / "models.py"
    assert "5: _SCHEMA_V1" in models.read_text()  # the three versions are embedded
    res = h.run_cli(tmp_path, "setup", "--bootstrap-servers", kafka_bootstrap, "--clickhouse",
                    f"chdb://{tmp_path / 'chdb'}", stream="page_views")
    assert res.returncode == 0, res.stderr
    yield tmp_path, topic


def run_page_views(tmp: Path, bootstrap: str, topic: str,
                   values: list[bytes], *args: str) -> None:
    port = free_port()
    group = f"g-{topic}"
    h.produce(bootstrap, topic, [(None, v) for v in values])
    proc = h.start(tmp, "--bootstrap-servers", bootstrap, "--clickhouse",
                   f"chdb://{tmp / 'chdb'}", "--group-id", group, "--metrics-port", str(port),
                   *args, stream="page_views")
    try:
        h.wait_until(lambda: h.committed_all(bootstrap, group, topic), 90, "all committed", proc)
    finally:
        code = h.stop(proc)
    assert code == 0, (tmp / "service.log").read_text()[-3000:]


def stored(tmp: Path) -> list[list[Any]]:
    return h.query(tmp, tmp / "chdb", "SELECT toString(view_id), toUnixTimestamp64Milli("
                   "viewed_at), url, duration_ms, referrer FROM page_views ORDER BY url")


def expected(n: int, version: str, framing: str) -> list[Any]:
    rec = record(n, version, framing)
    # v1 has no referrer: the current schema's default ('') fills it
    return [rec["view_id"], rec["viewed_at"], rec["url"], rec["duration_ms"],
            rec.get("referrer", "")]


def test_three_schema_versions_in_one_topic(project: tuple[Path, str],
                                            kafka_bootstrap: str) -> None:
    tmp, topic = project
    values: list[bytes] = []
    rows: list[list[Any]] = []
    n = 0
    for version in ("v1", "v2", "v3"):
        for framing in ("single", "confluent"):
            for _ in range(3):
                n += 1
                rec = record(n, version, framing)
                values.append(single_object(version, rec) if framing == "single"
                              else confluent(IDS[version], version, rec))
                rows.append(expected(n, version, framing))
    run_page_views(tmp, kafka_bootstrap, topic, values)
    assert stored(tmp) == sorted(rows, key=lambda r: str(r[2]))
    assert h.read_topic(kafka_bootstrap, f"{topic}-dlq", expected=0, timeout=3) == []


class RecordedRegistry(BaseHTTPRequestHandler):
    """Serves one recorded Confluent Schema Registry answer: GET /schemas/ids/{id}."""

    answers: dict[str, bytes] = {}
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.seen.append(self.path)
        answer = self.answers.get(self.path)
        if answer is None:
            self._send(404, b'{"error_code":40403,"message":"Schema not found"}')
        else:
            self._send(200, answer)

    def _send(self, code: int, payload: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def test_confluent_unknown_id_recorded_registry(project: tuple[Path, str],
                                                kafka_bootstrap: str) -> None:
    tmp, topic = project
    # The registry's answer for a v2 writer registered under an id this build never saw,
    # as Confluent's REST API records it: {"schema": "<the schema as a JSON string>"}.
    answer = json.dumps({"schema": json.dumps(writer_schema("v2"), separators=(",", ":"))})
    RecordedRegistry.answers = {f"/schemas/ids/{UNKNOWN_ID}": answer.encode()}
    RecordedRegistry.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordedRegistry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        values = [confluent(UNKNOWN_ID, "v2", record(1, "v2", "registry")),
                  confluent(UNKNOWN_ID, "v2", record(2, "v2", "registry")),
                  confluent(IDS["v1"], "v1", record(3, "v1", "registry"))]
        run_page_views(tmp, kafka_bootstrap, topic, values, "--registry-url",
                       f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
    assert stored(tmp) == [expected(3, "v1", "registry"), expected(1, "v2", "registry"),
                           expected(2, "v2", "registry")]  # by url
    assert RecordedRegistry.seen == [f"/schemas/ids/{UNKNOWN_ID}"]  # fetched once, then kept
    assert h.read_topic(kafka_bootstrap, f"{topic}-dlq", expected=0, timeout=3) == []
