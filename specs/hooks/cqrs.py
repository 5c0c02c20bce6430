"""Hooks of the CQRS example: a custom sync for commands and a consumer for queries."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("hooks.cqrs")


def sync_command(records: list[Any], context: Any) -> None:
    """Custom sync: store only commands that change state (not deletes of unknown ids)."""
    rows = [r for r in records if r.command.value != "delete" or r.aggregate_id]
    context.insert(rows)


def observe_query(query: Any) -> None:
    """Consumer: log slow queries."""
    if query.duration_ms > 1000:
        log.warning("slow query %s took %d ms", query.query_id, query.duration_ms)
