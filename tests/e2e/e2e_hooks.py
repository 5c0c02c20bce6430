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


def _count(kind: str, user: str) -> int:
    """How many `kind` lines for `user` the hook log holds (survives a restart)."""
    path = os.environ.get("E2E_HOOK_LOG")
    if not path or not os.path.exists(path):
        return 0
    with open(path, encoding="utf-8") as fh:
        return sum(1 for line in fh if json.loads(line).get("kind") == kind
                   and json.loads(line).get("user") == user)


def sync_fails_on_bad(records: list[Any], context: Any) -> None:
    """Custom sync: fails every time for a block holding user 'bad'; stores the others."""
    users = [r.user_id for r in records]
    if "bad" in users:
        _stamp("sync_fail", partition=context.partition, users=users)
        raise RuntimeError("sync failed for a block with 'bad'")
    context.insert(records)
    _stamp("sync_ok", partition=context.partition, users=users)


def consumer_fails_twice(event: Any) -> None:
    """Consumer: 'cboom' fails its first two calls (over restarts), 'cdead' always fails."""
    if event.user_id == "cboom" and _count("consumer_fail", "cboom") < 2:
        _stamp("consumer_fail", user=event.user_id)
        raise RuntimeError("consumer failed for cboom")
    if event.user_id == "cdead":
        _stamp("consumer_fail", user=event.user_id)
        raise RuntimeError("consumer failed for cdead")
    _stamp("consumed", user=event.user_id)


def transform_for_handler(event: Any) -> Any:
    """'transient' fails once then succeeds; 'to-dlq', 'to-drop', 'handler-raises' always fail."""
    user = event.user_id
    if user == "transient" and _count("fail", "transient") < 1:
        _stamp("fail", user=user)
        raise ConnectionError("transient failure")
    if user in ("to-dlq", "to-drop", "handler-raises"):
        _stamp("fail", user=user)
        raise RuntimeError(f"transform failed for {user}")
    return event


def choose(error: Exception, record: Any, context: Any) -> str | None:
    """Error handler: retry / dead_letter / drop by user; raises for 'handler-raises'."""
    user = getattr(record, "user_id", None)
    _stamp("handler", user=user, stage=context.stage, attempt=context.attempt)
    if user == "transient":
        return "retry"
    if user == "to-dlq":
        return "dead_letter"
    if user == "to-drop":
        return "drop"
    if user == "handler-raises":
        raise ValueError("the error handler itself failed")
    return None


def slow_consumer(event: Any) -> None:
    """Consumer: sleeps E2E_CONSUMER_SLEEP seconds per record (0 when unset), which widens
    the time a stored block waits for its end to be committed."""
    import time

    time.sleep(float(os.environ.get("E2E_CONSUMER_SLEEP", "0")))


def guide_route(event: Any) -> str | list[str] | None:
    """The guide's conditional routing, with the two edge cases: 'view' goes nowhere (None),
    'purchase' names a table the stream does not have (dead-lettered)."""
    kind = event.event_type.value
    if kind == "analytics":
        return "analytics_events"
    if kind == "view":
        return None
    if kind == "purchase":
        return "no_such_table"
    return "events"


def stall_while_file(event: Any) -> Any:
    """Transform that blocks (bounded: 120 s) while the file E2E_STALL_FILE exists: a
    stalled consumer, with messages waiting and nothing stored."""
    import time

    path = os.environ.get("E2E_STALL_FILE", "")
    deadline = time.monotonic() + 120
    while path and os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.1)
    return event
