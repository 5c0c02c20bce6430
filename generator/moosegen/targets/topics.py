"""Kafka topic configurations: the stream topic and its dead-letter topic."""

from __future__ import annotations

from typing import Any

from moosegen.diagnostics import Diagnostic
from moosegen.targets import RenderJob, StreamUnit

TOPICS_FILE = "topics.json"
# Kafka calls "no compression" `uncompressed` at the topic level.
COMPRESSION = {"none": "uncompressed"}


def topic_configs(unit: StreamUnit) -> list[dict[str, Any]]:
    spec = unit.stream.spec
    topic = spec.topic
    config: dict[str, str] = {}
    if topic.retention is not None:
        config["retention.ms"] = str(topic.retention)
    if topic.compression is not None:
        config["compression.type"] = COMPRESSION.get(topic.compression, topic.compression)
    if topic.cleanup_policy is not None:
        config["cleanup.policy"] = ",".join(sorted(topic.cleanup_policy.split(",")))
    config.update(
        {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in topic.config.items()}
    )
    # The dead-letter topic keeps every message it is given: never compacted.
    dlq_config = {k: v for k, v in config.items() if k != "cleanup.policy"}
    dlq_config["cleanup.policy"] = "delete"
    return [
        {
            "name": unit.stream.topic,
            "partitions": topic.partitions,
            "replication_factor": topic.replication_factor,
            "config": dict(sorted(config.items())),
        },
        {
            "name": unit.stream.dead_letter_topic,
            "partitions": spec.dead_letter.partitions or topic.partitions,
            "replication_factor": topic.replication_factor,
            "config": dict(sorted(dlq_config.items())),
        },
    ]


def jobs(unit: StreamUnit, diags: list[Diagnostic]) -> list[RenderJob]:
    context = {"header": unit.header, "topics": topic_configs(unit)}
    return [RenderJob("topics/topics.json.j2", f"{unit.stream.package}/{TOPICS_FILE}", context)]
