"""Kafka topic configurations: the stream topic and its dead-letter topic.

`plan` decides every setting; `topics/topics.json.j2` lays the plan out as the
reviewable `topics.json`, the service template embeds the same plan in the
service's configuration, and `moosegen topics apply` applies it directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from moosegen.targets import RenderJob, StreamUnit

TOPICS_FILE = "topics.json"
# Kafka calls "no compression" `uncompressed` at the topic level.
COMPRESSION = {"none": "uncompressed"}


@dataclass(frozen=True)
class TopicPlan:
    """One topic as the cluster should have it; `config` is sorted by key."""

    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str]


@dataclass(frozen=True)
class TopicsPlan:
    """The topics of one stream: where it is consumed from, and where bad records go."""

    topic: TopicPlan
    dead_letter: TopicPlan

    @property
    def topics(self) -> tuple[TopicPlan, TopicPlan]:
        return (self.topic, self.dead_letter)


def _config_value(value: object) -> str:
    # Kafka spells booleans in lower case; every topic config value is a string.
    return str(value).lower() if isinstance(value, bool) else str(value)


def plan(unit: StreamUnit) -> TopicsPlan:
    spec = unit.stream.spec
    topic = spec.topic
    config: dict[str, str] = {}
    if topic.retention is not None:
        config["retention.ms"] = str(topic.retention)
    if topic.compression is not None:
        config["compression.type"] = COMPRESSION.get(topic.compression, topic.compression)
    if topic.cleanup_policy is not None:
        config["cleanup.policy"] = ",".join(sorted(topic.cleanup_policy.split(",")))
    config.update({k: _config_value(v) for k, v in topic.config.items()})
    # The dead-letter topic keeps every message it is given: never compacted.
    dlq_config = {**config, "cleanup.policy": "delete"}
    return TopicsPlan(
        topic=TopicPlan(
            name=unit.stream.topic,
            partitions=topic.partitions,
            replication_factor=topic.replication_factor,
            config=dict(sorted(config.items())),
        ),
        dead_letter=TopicPlan(
            name=unit.stream.dead_letter_topic,
            partitions=spec.dead_letter.partitions or topic.partitions,
            replication_factor=topic.replication_factor,
            config=dict(sorted(dlq_config.items())),
        ),
    )


def render_jobs(topics: TopicsPlan, package: str, header: str) -> list[RenderJob]:
    context = {"header": header, "topics": topics}
    return [RenderJob("topics/topics.json.j2", f"{package}/{TOPICS_FILE}", context)]
