"""Hooks used by the end-to-end tests (found through PYTHONPATH=tests/e2e)."""

from __future__ import annotations

import json
import os
from typing import Any


def _log(kind: str, value: Any) -> None:
    path = os.environ.get("E2E_HOOK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"kind": kind, "value": str(value)}) + "\n")


def consumer(event: Any) -> None:
    _log("consumer", event.id)


def custom_sync(records: list[Any], context: Any) -> None:
    """Store only purchases, through the context's insert helper."""
    _log("sync", len(records))
    context.insert([r for r in records if r.event_type.value == "purchase"])


def flaky_transform(event: Any) -> Any:
    """Fails for user 'boom' every time; 'drop-me' is dropped by the error handler."""
    if event.user_id in ("boom", "drop-me"):
        raise RuntimeError(f"transform failed for {event.user_id}")
    return event


def on_error(error: Exception, record: Any, context: Any) -> str | None:
    _log("error", f"{context.stage}:{context.attempt}")
    if getattr(record, "user_id", None) == "drop-me":
        return "drop"
    return None


def _stamp(kind: str, **fields: Any) -> None:
    """One JSON line with a monotonic time stamp, for ordering and timing checks."""
    import time

    path = os.environ.get("E2E_HOOK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"kind": kind, "t": time.monotonic(), **fields}) + "\n")


def fail_on_boom(event: Any) -> Any:
    """Transform that fails every time for user 'boom' (logs each attempt)."""
    if event.user_id == "boom":
        _stamp("fail", user=event.user_id)
        raise RuntimeError("transform failed for boom")
    return event


def log_stored(event: Any) -> None:
    """Consumer: logs each stored record (runs after its block is stored)."""
    _stamp("stored", user=event.user_id)
