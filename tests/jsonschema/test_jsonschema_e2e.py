"""End-to-end for a JSON Schema stream: `registry push` to the live registry (schemaType
JSON), a build framing with its id, the generated producer and raw bytes → the broker →
the generated service → chdb, poison dead-lettered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e import harness as h
from tests.helpers import moosegen
from tests.jsonschema.project import order, orders_project
from tests.registry.project import call

pytestmark = [pytest.mark.kafka, pytest.mark.registry, pytest.mark.slow]

PRODUCE = """
import sys
from generated.orders.models import Order, Producer
from tests.jsonschema.project import order
with Producer(sys.argv[1], topic=sys.argv[2], schema_id=int(sys.argv[3])) as p:
    for n in range(10, 15):
        p.produce(Order.model_validate(order(n)))
"""


def test_json_schema_stream_end_to_end(tmp_path: Path, kafka_bootstrap: str,
                                       schema_registry_url: str) -> None:
    live_registry = schema_registry_url
    specs, topic = orders_project(tmp_path, registry_url=live_registry)
    res = moosegen("build", str(specs), "--output", str(tmp_path / "generated"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    res = moosegen("registry", "push", str(specs), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    entry = json.loads((specs / "registry" / "index.json").read_text())["orders"][0]
    registry_id = entry["registry_ids"][live_registry]
    stored = call(live_registry, "GET", f"/subjects/{topic}-value/versions/1")
    assert stored["schemaType"] == "JSON" and stored["id"] == registry_id
    assert json.loads(stored["schema"]) == json.loads((specs / "orders.schema.json").read_text())
    out = h.build_tree(tmp_path, specs)
    assert f"SCHEMA_ID = {registry_id}\n" in (out / "orders" / "models.py").read_text()
    chdb = tmp_path / "chdb"
    res = h.run_cli(tmp_path, "setup", "--bootstrap-servers", kafka_bootstrap, "--clickhouse",
                    f"chdb://{chdb}", stream="orders")
    assert res.returncode == 0, res.stderr

    def frame(schema_id: int, body: bytes) -> bytes:
        return b"\x00" + schema_id.to_bytes(4, "big") + body

    plain = [json.dumps(order(n)).encode() for n in range(5)]
    framed = [frame(registry_id, json.dumps(order(n)).encode()) for n in range(5, 10)]
    poison = [
        b"{not json",
        json.dumps(order(90, quantity=0)).encode(),  # below the schema's minimum
        json.dumps(order(91, status="lost")).encode(),  # not an enum value
        json.dumps(order(92, surprise=True)).encode(),  # additionalProperties: false
        frame(registry_id + 1000, json.dumps(order(93)).encode()),  # an id it never had
        frame(registry_id, b'{"order_id": 1}'),
    ]
    proc = h.start(tmp_path, "--bootstrap-servers", kafka_bootstrap, "--clickhouse",
                   f"chdb://{chdb}", stream="orders")
    try:
        h.produce(kafka_bootstrap, topic, [(b"k", v) for v in plain + framed + poison])
        typed = subprocess.run([sys.executable, "-c", PRODUCE, kafka_bootstrap, topic,
                                str(registry_id)], cwd=tmp_path,
                               env=h.env({"PYTHONPATH": f"{tmp_path}:{h.ROOT}"}),
                               capture_output=True, text=True, timeout=120)
        assert typed.returncode == 0, typed.stderr
        h.wait_until(lambda: h.committed_all(kafka_bootstrap, "moosegen.orders", topic), 120,
                     "all offsets committed", proc)
    finally:
        code = h.stop(proc)
    assert code == 0, (tmp_path / "service.log").read_text()[-3000:]
    rows = h.query(tmp_path, chdb, "SELECT customer, status, quantity, address.city, "
                   "attributes['k'], toString(placed_at) FROM orders ORDER BY quantity")
    assert [r[0] for r in rows] == [f"c{n}" for n in range(15)]
    assert rows[0][1:] == ["paid", 1, "Oslo", "v", "2026-01-02 03:04:05.123456"]
    dlq = h.read_topic(kafka_bootstrap, f"{topic}-dlq", expected=len(poison))
    assert sorted(m.value() for m in dlq) == sorted(poison)
    reasons = {m.value(): dict(m.headers())["x-moosegen-error-message"] for m in dlq}
    assert b"schema id" in reasons[poison[4]]
