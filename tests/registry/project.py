"""A one-stream project (the example `page_views`, Avro, three local versions) on a topic
of its own, so that tests sharing one live registry never share a subject."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
CT = "application/vnd.schemaregistry.v1+json"
LOCAL_IDS = {1: 5, 2: 6, 3: 7}  # specs/registry/index.json
UNRELATED = 8  # more than the local ids: a registry id equal to a local one is no accident


def page_views_project(tmp: Path, registry_url: str | None = None) -> tuple[Path, str]:
    """specs/ under `tmp` with page_views alone on topic `pv-<random>`; (specs, topic)."""
    specs = tmp / "specs"
    specs.mkdir()
    for name in ("page_views.yaml", "page_views.avsc"):
        shutil.copy(SPECS / name, specs / name)
    config = (SPECS / "moosegen.yaml").read_text()
    if registry_url:
        config += f"registry: {{url: {json.dumps(registry_url)}}}\n"
    (specs / "moosegen.yaml").write_text(config)
    shutil.copytree(SPECS / "registry" / "page_views", specs / "registry" / "page_views")
    index = json.loads((SPECS / "registry" / "index.json").read_text())
    (specs / "registry" / "index.json").write_text(
        json.dumps({"page_views": index["page_views"]}, indent=2, sort_keys=True) + "\n")
    topic = f"pv-{uuid.uuid4().hex[:10]}"
    spec = specs / "page_views.yaml"
    text = spec.read_text()
    assert "topic: {partitions: 3," in text
    spec.write_text(text.replace("topic: {", f"topic: {{name: {topic}, ", 1))
    return specs, topic


def moosegen(*args: str, cwd: Path, env: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SCHEMA_REGISTRY_")}
    return subprocess.run([sys.executable, "-m", "moosegen", *args], cwd=cwd,
                          env={**base, "PYTHONPATH": str(ROOT / "generator"), **(env or {})},
                          capture_output=True, text=True, timeout=120)


def call(url: str, method: str, path: str, body: Any = None) -> Any:
    """One REST call to the registry (raises urllib's HTTPError on an error status)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Content-Type": CT, "Accept": CT})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def record(name: str, *fields: tuple[str, Any]) -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "unrelated",
                       "fields": [{"name": n, "type": t} for n, t in fields]})


def register_unrelated(url: str, count: int) -> list[int]:
    """Subjects of another producer, registered first, so ids do not start at 1 here."""
    tag = uuid.uuid4().hex[:8]
    return [call(url, "POST", f"/subjects/other-{tag}-{k}-value/versions",
                 {"schema": record(f"Other{k}", ("n", "int"), (f"f{tag}", "string"))})["id"]
            for k in range(count)]


def local_schema(specs: Path, version: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (specs / "registry" / "page_views" / f"v{version}.avsc").read_text())
    return data


def free_port() -> int:
    """A loopback port nobody listens on (right now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
