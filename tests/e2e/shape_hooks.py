"""A transform for the shape end-to-end test (found through PYTHONPATH=tests/e2e): the
example's `add_processing`, plus a field no table declares for user 'surplus'."""

from __future__ import annotations

from typing import Any

from hooks.enrichment import add_processing


def add_processing_or_surplus(event: Any) -> dict[str, Any]:
    out = add_processing(event)
    if event.user_id == "surplus":
        out["debug_note"] = "not in the table"
    return out
