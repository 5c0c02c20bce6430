# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""`setup`: create the stream's topics when missing and apply the table migrations."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .config import TopicConfig

log = logging.getLogger("moosegen.runtime.setup")


def apply_topics(
    bootstrap: str, topics: Sequence[TopicConfig], client_config: dict[str, str] | None = None
) -> list[str]:
    """Make the cluster match the service's `topics` (create, add partitions, set configs;
    refuse to shrink or re-replicate): the same logic as `moosegen topics apply`. Returns
    the changes."""
    from .topics import apply

    changes = apply(bootstrap, topics, client_config=client_config)
    log.info("topics applied", extra={"event": "topics", "changes": len(changes)})
    return [change.describe() for change in changes]


def apply_sql_folder(
    client: Any, folder: Path, stream: str, database: str = "default"
) -> list[str]:
    """Apply the stream's pending migrations, recorded in `_moosegen_migrations`."""
    from .migrations import apply_migrations

    return apply_migrations(client, folder, stream, database=database)
