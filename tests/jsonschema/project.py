"""A one-stream project: the example `orders` (a JSON Schema stream), on its own topic."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from tests.helpers import REPO

SPECS = REPO / "specs"


def orders_project(tmp: Path, registry_url: str | None = None) -> tuple[Path, str]:
    """specs/ under `tmp` with orders alone (no registry yet) on `ord-<random>`."""
    specs = tmp / "specs"
    specs.mkdir()
    shutil.copy(SPECS / "orders.schema.json", specs / "orders.schema.json")
    config = (SPECS / "moosegen.yaml").read_text()
    if registry_url:
        config += f"registry: {{url: {json.dumps(registry_url)}}}\n"
    (specs / "moosegen.yaml").write_text(config)
    topic = f"ord-{uuid.uuid4().hex[:10]}"
    text = (SPECS / "orders.yaml").read_text()
    assert "topic:\n" in text
    (specs / "orders.yaml").write_text(text.replace("topic:\n", f"topic:\n  name: {topic}\n", 1))
    return specs, topic


def schema(specs: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((specs / "orders.schema.json").read_text())
    return data


def write_schema(specs: Path, data: dict[str, Any]) -> None:
    (specs / "orders.schema.json").write_text(json.dumps(data, indent=2) + "\n")


def order(n: int = 0, **extra: Any) -> dict[str, Any]:
    """A valid order (its JSON form)."""
    return {
        "order_id": str(uuid.UUID(int=n + 1)),
        "placed_at": "2026-01-02T03:04:05.123456Z",
        "customer": f"c{n}",
        "status": "paid",
        "quantity": n + 1,
        "total": 12.5,
        "tags": ["a", "b"],
        "address": {"city": "Oslo", "zip": "0150"},
        "attributes": {"k": "v"},
        **extra,
    }
