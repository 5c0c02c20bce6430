# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""`setup`: create the stream's topics when missing and apply the table migrations."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("moosegen.runtime.setup")


def ensure_topics(
    bootstrap: str, topics_file: Path, timeout_s: float = 30.0, extra: dict[str, str] | None = None
) -> list[str]:
    """Create every topic of `topics.json` that does not exist; returns the created names."""
    from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

    spec = json.loads(topics_file.read_text(encoding="utf-8"))
    admin = AdminClient({"bootstrap.servers": bootstrap, **(extra or {})})
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    wanted = [t for t in spec["topics"] if t["name"] not in existing]
    if not wanted:
        return []
    futures = admin.create_topics(
        [
            NewTopic(
                t["name"],
                num_partitions=int(t["partitions"]),
                replication_factor=int(t["replication_factor"]),
                config={k: str(v) for k, v in t.get("config", {}).items()},
            )
            for t in wanted
        ],
        request_timeout=timeout_s,
    )
    created = []
    for name, fut in futures.items():
        try:
            fut.result(timeout=timeout_s)
            created.append(name)
        except Exception as exc:  # noqa: BLE001
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    log.info("topics created", extra={"event": "topics", "topics": created})
    return sorted(created)


def apply_sql_folder(
    client: Any, folder: Path, stream: str, database: str = "default"
) -> list[str]:
    """Apply the stream's migrations (the ClickHouse target's runner when it is present)."""
    from .columns import _optional

    apply_migrations = _optional("migrations", "apply_migrations")
    if apply_migrations is not None:
        applied: list[str] = apply_migrations(client, folder, stream, database=database)
        return applied
    done = []
    for path in sorted(folder.glob("*.sql")):
        text = "\n".join(
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("--")
        )
        for statement in (s.strip() for s in text.split(";")):
            if statement:
                client.command(statement)
        done.append(path.name)
    return done
