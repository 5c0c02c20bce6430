"""Kafka's documented topic-level configuration keys and the kind of value each takes.

Used to check `topic.config` passthrough keys at build time, so a typo is a
located error instead of a broker rejection at deploy time.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["int", "long", "double", "bool", "string", "list", "enum"]

TOPIC_CONFIGS: dict[str, tuple[Kind, tuple[str, ...]]] = {
    "cleanup.policy": ("list", ("delete", "compact")),
    "compression.gzip.level": ("int", ()),
    "compression.lz4.level": ("int", ()),
    "compression.type": ("enum", ("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")),
    "compression.zstd.level": ("int", ()),
    "delete.retention.ms": ("long", ()),
    "file.delete.delay.ms": ("long", ()),
    "flush.messages": ("long", ()),
    "flush.ms": ("long", ()),
    "follower.replication.throttled.replicas": ("list", ()),
    "index.interval.bytes": ("int", ()),
    "leader.replication.throttled.replicas": ("list", ()),
    "local.retention.bytes": ("long", ()),
    "local.retention.ms": ("long", ()),
    "max.compaction.lag.ms": ("long", ()),
    "max.message.bytes": ("int", ()),
    "message.timestamp.after.max.ms": ("long", ()),
    "message.timestamp.before.max.ms": ("long", ()),
    "message.timestamp.type": ("enum", ("CreateTime", "LogAppendTime")),
    "min.cleanable.dirty.ratio": ("double", ()),
    "min.compaction.lag.ms": ("long", ()),
    "min.insync.replicas": ("int", ()),
    "preallocate": ("bool", ()),
    "remote.log.copy.disable": ("bool", ()),
    "remote.log.delete.on.disable": ("bool", ()),
    "remote.storage.enable": ("bool", ()),
    "retention.bytes": ("long", ()),
    "retention.ms": ("long", ()),
    "segment.bytes": ("int", ()),
    "segment.index.bytes": ("int", ()),
    "segment.jitter.ms": ("long", ()),
    "segment.ms": ("long", ()),
    "unclean.leader.election.enable": ("bool", ()),
}


def config_value_problem(key: str, value: str) -> str | None:
    """Why `value` is not valid for topic config `key` (None when it is)."""
    kind, choices = TOPIC_CONFIGS[key]
    if kind in ("int", "long"):
        try:
            int(value)
        except ValueError:
            return f"{key} takes an integer, got {value!r}"
        return None
    if kind == "double":
        try:
            float(value)
        except ValueError:
            return f"{key} takes a number, got {value!r}"
        return None
    if kind == "bool":
        return None if value in ("true", "false") else f"{key} takes true or false, got {value!r}"
    if kind == "enum":
        return (
            None if value in choices else f"{key} takes one of {', '.join(choices)}, got {value!r}"
        )
    if kind == "list" and choices:
        bad = [v for v in value.split(",") if v.strip() not in choices]
        return f"{key} takes a list of {', '.join(choices)}, got {value!r}" if bad else None
    return None
