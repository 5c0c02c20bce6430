"""Hooks of the `events` stream: the guide's transform, fan-out, routing, consumer and
error-handler examples."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("hooks.events")


def enrich(event: Any) -> Any:
    """Transform before storing: stamp who processed the event; drop empty user ids."""
    if not event.user_id:
        return None
    return event.model_copy(update={"processed_by": "stream-processor"})


def to_analytics(event: Any) -> dict[str, Any]:
    """Fan-out transform: the slim analytics form of an event."""
    return {"id": event.id, "timestamp": event.timestamp, "user_id": event.user_id,
            "event_type": event.event_type}


def route(event: Any) -> list[str]:
    """Conditional routing: analytics events go only to the analytics table."""
    if event.event_type.value == "analytics":
        return ["analytics_events"]
    return ["events", "analytics_events"]


def notify(event: Any) -> None:
    """Consumer: a side effect after the batch is stored."""
    if event.event_type.value == "purchase":
        log.info("purchase confirmed for user %s", event.user_id)


def on_error(error: Exception, record: Any, context: Any) -> str | None:
    """Error handler: validation errors go straight to the dead-letter topic; others retry."""
    if "validation" in str(error).lower():
        return "dead_letter"
    return None
