"""topics_apply against a real KRaft broker (and a three-node cluster)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    ResourceType,
)
from moosegen.runtime import topics as ta

pytestmark = pytest.mark.kafka


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:10]}"


def topics_doc(name: str, partitions: int = 3, rf: int = 1, **config: str) -> dict[str, Any]:
    base = {
        "retention.ms": "604800000",
        "compression.type": "lz4",
        "cleanup.policy": "delete",
        "min.insync.replicas": "1",
    }
    base.update({k.replace("_", "."): v for k, v in config.items()})
    return {
        "topics": [
            {"name": name, "partitions": partitions, "replication_factor": rf, "config": base},
            {
                "name": f"{name}-dlq",
                "partitions": 1,
                "replication_factor": rf,
                "config": {"retention.ms": "1209600000", "cleanup.policy": "delete"},
            },
        ]
    }


@pytest.fixture()
def admin(kafka_bootstrap: str) -> Iterator[AdminClient]:
    yield AdminClient({"bootstrap.servers": kafka_bootstrap})


def dynamic_configs(admin: AdminClient, topic: str) -> dict[str, str]:
    """The topic-level overrides of `topic` (what was set on the topic itself)."""
    futures = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)])
    entries = next(iter(futures.values())).result(timeout=30)
    return {
        key: entry.value
        for key, entry in entries.items()
        if entry.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    }


def partition_count(admin: AdminClient, topic: str) -> int:
    return len(admin.list_topics(topic, timeout=30).topics[topic].partitions)


def broker_count(admin: AdminClient) -> int:
    return len(admin.list_topics(timeout=30).brokers)


def lines(changes: list[ta.Change]) -> list[str]:
    return [c.describe() for c in changes]


def test_apply_creates_topics_with_exactly_the_given_configs(
    kafka_bootstrap: str, admin: AdminClient
) -> None:
    name = unique("events")
    doc = topics_doc(name)
    changes = ta.apply(kafka_bootstrap, ta.parse_topics(doc))
    assert lines(changes) == [
        f"+ create topic {name} (partitions=3, replication_factor=1, retention.ms=604800000, "
        "compression.type=lz4, cleanup.policy=delete, min.insync.replicas=1)",
        f"+ create topic {name}-dlq (partitions=1, replication_factor=1, "
        "retention.ms=1209600000, cleanup.policy=delete)",
    ]
    for topic in doc["topics"]:
        assert dynamic_configs(admin, topic["name"]) == topic["config"]
        assert partition_count(admin, topic["name"]) == topic["partitions"]


def test_second_apply_reports_no_changes(kafka_bootstrap: str) -> None:
    topics = ta.parse_topics(topics_doc(unique("events")))
    assert ta.apply(kafka_bootstrap, topics)
    assert ta.apply(kafka_bootstrap, topics) == []
    assert ta.apply(kafka_bootstrap, topics, dry_run=True) == []


def test_dry_run_reports_but_changes_nothing(kafka_bootstrap: str, admin: AdminClient) -> None:
    name = unique("events")
    changes = ta.apply(kafka_bootstrap, ta.parse_topics(topics_doc(name)), dry_run=True)
    assert [type(c) for c in changes] == [ta.CreateTopic, ta.CreateTopic]
    assert name not in admin.list_topics(timeout=30).topics


def test_changed_retention_and_more_partitions_are_applied(
    kafka_bootstrap: str, admin: AdminClient
) -> None:
    name = unique("events")
    ta.apply(kafka_bootstrap, ta.parse_topics(topics_doc(name, partitions=3)))
    # A config set by someone else, which apply must leave alone.
    other = ConfigResource(
        ResourceType.TOPIC,
        name,
        incremental_configs=[
            ConfigEntry("max.message.bytes", "2097152", incremental_operation=AlterConfigOpType.SET)
        ],
    )
    next(iter(admin.incremental_alter_configs([other]).values())).result(timeout=30)

    desired = topics_doc(name, partitions=6, retention_ms="86400000")
    changes = ta.apply(kafka_bootstrap, ta.parse_topics(desired))

    assert lines(changes) == [
        f"~ {name}: partitions 3 -> 6",
        f"~ {name}: retention.ms 604800000 -> 86400000",
    ]
    assert partition_count(admin, name) == 6
    assert dynamic_configs(admin, name) == {
        **desired["topics"][0]["config"],
        "max.message.bytes": "2097152",
    }
    assert ta.apply(kafka_bootstrap, ta.parse_topics(desired)) == []


def test_fewer_partitions_is_refused(kafka_bootstrap: str, admin: AdminClient) -> None:
    name = unique("events")
    ta.apply(kafka_bootstrap, ta.parse_topics(topics_doc(name, partitions=4)))
    fewer = topics_doc(name, partitions=2, retention_ms="1000")
    newcomer = unique("newcomer")
    fewer["topics"].append({"name": newcomer, "partitions": 1, "replication_factor": 1})

    with pytest.raises(ta.TopicsApplyError) as err:
        ta.apply(kafka_bootstrap, ta.parse_topics(fewer))

    assert str(err.value) == (f"topic {name}: partitions cannot decrease (current 4, desired 2)")
    # Refused before anything was changed.
    assert partition_count(admin, name) == 4
    assert dynamic_configs(admin, name)["retention.ms"] == "604800000"
    assert newcomer not in admin.list_topics(timeout=30).topics


def test_changed_replication_factor_is_refused(kafka_bootstrap: str, admin: AdminClient) -> None:
    name = unique("events")
    ta.apply(kafka_bootstrap, ta.parse_topics(topics_doc(name, rf=1)))
    changed = topics_doc(name, rf=2)
    with pytest.raises(
        ta.TopicsApplyError,
        match=rf"topic {name}: replication_factor .*"
        r"\(current 1, desired 2\)",
    ):
        ta.apply(kafka_bootstrap, ta.parse_topics(changed))


def test_replication_factor_above_broker_count_is_refused(
    kafka_bootstrap: str, admin: AdminClient
) -> None:
    brokers = broker_count(admin)
    name = unique("events")
    doc = topics_doc(name, rf=brokers + 1)
    with pytest.raises(ta.TopicsApplyError) as err:
        ta.apply(kafka_bootstrap, ta.parse_topics(doc))
    assert (
        f"topic {name}: replication_factor {brokers + 1} is more than the {brokers} broker(s)"
        in str(err.value)
    )
    assert name not in admin.list_topics(timeout=30).topics


def test_apply_file_reads_topics_json_and_env(
    kafka_bootstrap: str, admin: AdminClient, tmp_path: Path
) -> None:
    name = unique("events")
    path = tmp_path / "topics.json"
    path.write_text(json.dumps(topics_doc(name)))
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    assert ta.apply_file(path, dry_run=True, env=env) == [
        f"+ create topic {name} (partitions=3, replication_factor=1, retention.ms=604800000, "
        "compression.type=lz4, cleanup.policy=delete, min.insync.replicas=1)",
        f"+ create topic {name}-dlq (partitions=1, replication_factor=1, "
        "retention.ms=1209600000, cleanup.policy=delete)",
    ]
    assert len(ta.apply_file(path, env=env)) == 2
    assert ta.apply_file(path, env=env) == []


@pytest.mark.slow
def test_three_node_cluster_replicated_topic(kafka_cluster3: Any) -> None:
    admin = AdminClient({"bootstrap.servers": kafka_cluster3.bootstrap})
    name = unique("events")
    doc = topics_doc(name, partitions=6, rf=3, min_insync_replicas="2")

    changes = ta.apply(kafka_cluster3.bootstrap, ta.parse_topics(doc))

    assert [type(c) for c in changes] == [ta.CreateTopic, ta.CreateTopic]
    meta = admin.list_topics(name, timeout=30).topics[name]
    assert len(meta.partitions) == 6
    for partition in meta.partitions.values():
        assert sorted(partition.replicas) == [1, 2, 3]
    assert dynamic_configs(admin, name)["min.insync.replicas"] == "2"
    assert ta.apply(kafka_cluster3.bootstrap, ta.parse_topics(doc)) == []
