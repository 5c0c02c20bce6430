"""End-to-end with a live registry: `registry push`, a build framing with the registry's
ids, the generated producer → broker → service, a second producer writing a version the
build never saw, and a registry outage that holds the messages instead of dead-lettering
them."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import fastavro
import pytest

from tests.e2e import harness as h
from tests.registry.project import (
    UNRELATED,
    call,
    free_port,
    local_schema,
    moosegen,
    page_views_project,
)

pytestmark = [pytest.mark.kafka, pytest.mark.registry, pytest.mark.slow]

PRODUCE = """
import json, sys, uuid
from datetime import datetime, timezone
from generated.page_views.models import PageView, Producer
with Producer(sys.argv[1], topic=sys.argv[2]) as p:
    for n in range(int(sys.argv[3])):
        p.produce(PageView(view_id=uuid.UUID(int=n), url=f"/typed/{n}", duration_ms=2**40 + n,
                           viewed_at=datetime(2026, 1, 2, tzinfo=timezone.utc), referrer="t"))
print(p.schema_id)
"""


@pytest.fixture
def project(tmp_path: Path, kafka_bootstrap: str,
            live_registry: str) -> Iterator[tuple[Path, str, dict[int, int]]]:
    """Pushed, built with the registry's ids, topics and tables set up: (tmp, topic, ids)."""
    url = live_registry
    specs, topic = page_views_project(tmp_path, registry_url=url)
    assert moosegen("registry", "push", str(specs), cwd=tmp_path).returncode == 0
    index = json.loads((specs / "registry" / "index.json").read_text())
    ids = {e["version"]: e["registry_ids"][url] for e in index["page_views"]}
    assert min(ids.values()) > UNRELATED  # not the local ids, not 1..n
    models = h.build_tree(tmp_path, specs) / "page_views" / "models.py"
    assert f"SCHEMA_ID = {ids[3]}\n" in models.read_text()
    res = h.run_cli(tmp_path, "setup", "--bootstrap-servers", kafka_bootstrap, "--clickhouse",
                    f"chdb://{tmp_path / 'chdb'}", stream="page_views")
    assert res.returncode == 0, res.stderr
    yield tmp_path, topic, ids


def produce_typed(tmp: Path, bootstrap: str, topic: str, count: int, url: str) -> int:
    """The generated producer, in its own process; returns the schema id it framed with."""
    proc = subprocess.run([sys.executable, "-c", PRODUCE, bootstrap, topic, str(count)],
                          cwd=tmp, env=h.env({"SCHEMA_REGISTRY_URL": url}),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.split()[-1])


def framed(schema_id: int, schema: dict[str, Any], rec: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), rec)
    return b"\x00" + struct.pack(">I", schema_id) + out.getvalue()


def v4(tmp: Path) -> dict[str, Any]:
    schema = local_schema(tmp / "specs", 3)
    schema["fields"].append({"name": "country", "type": "string", "default": "?"})
    return schema


def raw(n: int, version: int) -> dict[str, Any]:
    rec: dict[str, Any] = {"view_id": str(uuid.UUID(int=1000 + n)), "viewed_at": 1_767_323_045_000,
                           "url": f"/raw/v{version}/{n}", "duration_ms": n}
    if version > 1:
        rec["referrer"] = "r"
    if version == 4:
        rec["country"] = "NZ"
    return rec


def start_service(tmp: Path, bootstrap: str, topic: str, url: str, port: int) -> Any:
    return h.start(tmp, "--bootstrap-servers", bootstrap, "--clickhouse",
                   f"chdb://{tmp / 'chdb'}", "--group-id", f"g-{topic}", "--metrics-port",
                   str(port), extra={"SCHEMA_REGISTRY_URL": url}, stream="page_views")


def urls(tmp: Path) -> list[str]:
    rows = h.query(tmp, tmp / "chdb", "SELECT url FROM page_views ORDER BY url")
    return [str(r[0]) for r in rows]


def test_producer_broker_service_with_registry_ids(
        project: tuple[Path, str, dict[int, int]], kafka_bootstrap: str,
        live_registry: str) -> None:
    tmp, topic, ids = project
    url = live_registry
    assert produce_typed(tmp, kafka_bootstrap, topic, 4, url) == ids[3]
    # a second producer: v1 by the registry's id, and a v4 only the registry knows
    v4_id = call(url, "POST", f"/subjects/{topic}-value/versions",
                 {"schema": json.dumps(v4(tmp))})["id"]
    assert v4_id not in ids.values()
    h.produce(kafka_bootstrap, topic, [
        (None, framed(ids[1], local_schema(tmp / "specs", 1), raw(1, 1))),
        (None, framed(v4_id, v4(tmp), raw(2, 4))),
        (None, framed(v4_id, v4(tmp), raw(3, 4))),
    ])
    proc = start_service(tmp, kafka_bootstrap, topic, url, free_port())
    try:
        h.wait_until(lambda: h.committed_all(kafka_bootstrap, f"g-{topic}", topic), 90,
                     "all committed", proc)
    finally:
        code = h.stop(proc)
    assert code == 0, (tmp / "service.log").read_text()[-3000:]
    assert urls(tmp) == ["/raw/v1/1", "/raw/v4/2", "/raw/v4/3",
                         *(f"/typed/{n}" for n in range(4))]
    assert h.read_topic(kafka_bootstrap, f"{topic}-dlq", expected=0, timeout=3) == []


class Switch(BaseHTTPRequestHandler):
    """A proxy in front of the live registry that can be switched off (answers 503)."""

    upstream = ""
    up = threading.Event()
    calls: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.calls.append(self.path)
        if not self.up.is_set():
            self._send(503, b'{"error_code":50301,"message":"unavailable"}')
            return
        try:
            with urllib.request.urlopen(self.upstream + self.path, timeout=10) as resp:
                self._send(resp.status, resp.read())
        except urllib.error.HTTPError as exc:
            self._send(exc.code, exc.read())

    def _send(self, code: int, payload: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def registry_errors(port: int) -> float:
    status, text = h.http_get(port, "/metrics")
    for line in text.splitlines() if status == 200 else []:
        if line.startswith("moosegen_errors_total{") and 'stage="registry"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_registry_outage_holds_messages_then_stores_them(
        project: tuple[Path, str, dict[int, int]], kafka_bootstrap: str,
        live_registry: str) -> None:
    tmp, topic, _ = project
    v4_id = call(live_registry, "POST", f"/subjects/{topic}-value/versions",
                 {"schema": json.dumps(v4(tmp))})["id"]
    Switch.upstream, Switch.calls = live_registry, []
    Switch.up.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Switch)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = f"http://127.0.0.1:{server.server_address[1]}"
    h.produce(kafka_bootstrap, topic, [(None, framed(v4_id, v4(tmp), raw(n, 4)))
                                       for n in range(3)])
    group = f"g-{topic}"
    try:
        # stopped while the registry is down: exits cleanly, nothing committed or lost
        port = free_port()
        proc = start_service(tmp, kafka_bootstrap, topic, proxy, port)
        h.wait_until(lambda: registry_errors(port) >= 2, 90, "backing off", proc)
        assert h.stop(proc) == 0, (tmp / "service.log").read_text()[-3000:]
        assert not h.committed_all(kafka_bootstrap, group, topic)
        assert h.read_topic(kafka_bootstrap, f"{topic}-dlq", expected=0, timeout=2) == []
        # started again, still down; then the registry comes back
        port = free_port()
        proc = start_service(tmp, kafka_bootstrap, topic, proxy, port)
        h.wait_until(lambda: registry_errors(port) >= 2, 90, "backing off", proc)
        assert not h.committed_all(kafka_bootstrap, group, topic)
        Switch.up.set()
        h.wait_until(lambda: h.committed_all(kafka_bootstrap, group, topic), 90,
                     "all committed", proc)
    finally:
        code = h.stop(proc)
        server.shutdown()
        server.server_close()
    assert code == 0, (tmp / "service.log").read_text()[-3000:]
    assert urls(tmp) == [f"/raw/v4/{n}" for n in range(3)]
    assert h.read_topic(kafka_bootstrap, f"{topic}-dlq", expected=0, timeout=3) == []
    assert Switch.calls.count(f"/schemas/ids/{v4_id}") >= 3  # retried, then fetched
    assert "schema registry unavailable" in (tmp / "service.log").read_text()
