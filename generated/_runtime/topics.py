# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Make a Kafka cluster's topics match the desired ones: plan the changes, then apply them.

Input: `TopicConfig`s (what a generated service's configuration and `moosegen topics
apply` pass), or the `topics.json` form a build exports next to each service::

    {"topics": [{"name": "events", "partitions": 6, "replication_factor": 3,
                 "config": {"retention.ms": "604800000", "cleanup.policy": "delete"}}]}

`plan` compares the desired topics with the cluster and returns the changes:
missing topics are created, partitions are added, and the config keys we
specify are set where they differ (an incremental SET, so other keys are
kept). Fewer partitions, another replication factor, or a replication factor
above the number of brokers is refused with `TopicsApplyError`.

confluent-kafka is imported inside the functions that talk to a cluster, so
importing this module stays cheap for the CLI.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import TopicConfig

if TYPE_CHECKING:
    from confluent_kafka.admin import AdminClient, ClusterMetadata  # type: ignore[attr-defined]

TIMEOUT_S = 30.0
"""Upper bound for one admin request (metadata, describe, create, alter)."""

ENV_TO_CLIENT_CONFIG: dict[str, str] = {
    "KAFKA_BOOTSTRAP_SERVERS": "bootstrap.servers",
    "KAFKA_SECURITY_PROTOCOL": "security.protocol",
    "KAFKA_SASL_MECHANISM": "sasl.mechanism",
    "KAFKA_SASL_USERNAME": "sasl.username",
    "KAFKA_SASL_PASSWORD": "sasl.password",
    "KAFKA_SSL_CA_LOCATION": "ssl.ca.location",
}


class TopicsApplyError(Exception):
    """The topics cannot be applied; the message says which topic and why."""


# ---------------------------------------------------------------- input


def _config_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _positive_int(raw: Mapping[str, Any], key: str, where: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TopicsApplyError(f"{where}: '{key}' must be a positive integer, got {value!r}")
    return value


def topic_from_dict(raw: Mapping[str, Any], where: str = "topic") -> TopicConfig:
    """Validate one entry of the "topics" list."""
    if not isinstance(raw, Mapping):
        raise TopicsApplyError(f"{where}: expected an object, got {type(raw).__name__}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise TopicsApplyError(f"{where}: 'name' must be a non-empty string")
    where = f"{where} ({name})"
    config = raw.get("config")
    config = {} if config is None else config
    if not isinstance(config, Mapping):
        raise TopicsApplyError(f"{where}: 'config' must be an object")
    return TopicConfig(
        name=name,
        partitions=_positive_int(raw, "partitions", where),
        replication_factor=_positive_int(raw, "replication_factor", where),
        config={str(k): _config_value(v) for k, v in config.items()},
    )


def parse_topics(doc: Mapping[str, Any] | Sequence[Any]) -> list[TopicConfig]:
    """Read `{"topics": [...]}` (or the bare list; TopicConfigs pass as they are).

    Topic names must be unique.
    """
    items = doc.get("topics") if isinstance(doc, Mapping) else doc
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        raise TopicsApplyError("expected an object with a 'topics' list")
    topics = [
        raw if isinstance(raw, TopicConfig) else topic_from_dict(raw, f"topics[{i}]")
        for i, raw in enumerate(items)
    ]
    seen: set[str] = set()
    for topic in topics:
        if topic.name in seen:
            raise TopicsApplyError(f"topic {topic.name} is listed twice")
        seen.add(topic.name)
    return topics


def load_topics_file(path: str | Path) -> list[TopicConfig]:
    """Read a `topics.json` file."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TopicsApplyError(f"{path}: {exc}") from None
    return parse_topics(doc)


# ---------------------------------------------------------------- changes


@dataclass(frozen=True)
class CreateTopic:
    topic: TopicConfig

    def describe(self) -> str:
        t = self.topic
        settings = [f"partitions={t.partitions}", f"replication_factor={t.replication_factor}"]
        settings += [f"{k}={v}" for k, v in t.config.items()]
        return f"+ create topic {t.name} ({', '.join(settings)})"


@dataclass(frozen=True)
class AddPartitions:
    topic: str
    current: int
    desired: int

    def describe(self) -> str:
        return f"~ {self.topic}: partitions {self.current} -> {self.desired}"


@dataclass(frozen=True)
class SetConfig:
    topic: str
    key: str
    current: str | None
    desired: str

    def describe(self) -> str:
        current = "(unset)" if self.current is None else self.current
        return f"~ {self.topic}: {self.key} {current} -> {self.desired}"


Change = CreateTopic | AddPartitions | SetConfig


# ---------------------------------------------------------------- plan


@dataclass(frozen=True)
class _Existing:
    partitions: int
    replication_factor: int


def _existing_topics(metadata: ClusterMetadata) -> dict[str, _Existing]:
    found: dict[str, _Existing] = {}
    for name, meta in metadata.topics.items():
        if meta.error is not None:
            continue
        rf = max((len(p.replicas) for p in meta.partitions.values()), default=0)
        found[name] = _Existing(partitions=len(meta.partitions), replication_factor=rf)
    return found


def _shape_problems(topic: TopicConfig, current: _Existing | None, brokers: int) -> list[str]:
    if current is None:
        if topic.replication_factor > brokers:
            return [
                f"topic {topic.name}: replication_factor {topic.replication_factor} is more "
                f"than the {brokers} broker(s) of the cluster"
            ]
        return []
    problems = []
    if topic.partitions < current.partitions:
        problems.append(
            f"topic {topic.name}: partitions cannot decrease "
            f"(current {current.partitions}, desired {topic.partitions})"
        )
    if topic.replication_factor != current.replication_factor:
        problems.append(
            f"topic {topic.name}: replication_factor cannot be changed by apply "
            f"(current {current.replication_factor}, desired {topic.replication_factor})"
        )
    return problems


def describe_topic_configs(
    admin: AdminClient, names: Sequence[str]
) -> dict[str, dict[str, str | None]]:
    """The current config of each topic: key -> value (None for a sensitive or unset value)."""
    from confluent_kafka.admin import ConfigResource, ResourceType  # type: ignore[attr-defined]

    if not names:
        return {}
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in names]
    futures = admin.describe_configs(resources, request_timeout=TIMEOUT_S)
    result: dict[str, dict[str, str | None]] = {}
    for resource, future in futures.items():
        entries = _result(future, f"describe configs of topic {resource.name}")
        result[resource.name] = {key: entry.value for key, entry in entries.items()}
    return result


def _config_changes(topic: TopicConfig, current: Mapping[str, str | None]) -> list[SetConfig]:
    return [
        SetConfig(topic.name, key, current.get(key), value)
        for key, value in topic.config.items()
        if current.get(key) != value
    ]


def plan(admin: AdminClient, topics: Iterable[TopicConfig | Mapping[str, Any]]) -> list[Change]:
    """The changes that make the cluster match `topics`, in input order.

    Raises TopicsApplyError (listing every problem) if a topic would need
    fewer partitions or another replication factor, or asks for more replicas
    than there are brokers.
    """
    specs = parse_topics(list(topics))
    metadata = admin.list_topics(timeout=TIMEOUT_S)
    existing = _existing_topics(metadata)
    problems = [
        p for t in specs for p in _shape_problems(t, existing.get(t.name), len(metadata.brokers))
    ]
    if problems:
        raise TopicsApplyError("\n".join(problems))
    configs = describe_topic_configs(admin, [t.name for t in specs if t.name in existing])
    changes: list[Change] = []
    for topic in specs:
        current = existing.get(topic.name)
        if current is None:
            changes.append(CreateTopic(topic))
            continue
        if topic.partitions > current.partitions:
            changes.append(AddPartitions(topic.name, current.partitions, topic.partitions))
        changes.extend(_config_changes(topic, configs[topic.name]))
    return changes


# ---------------------------------------------------------------- execute


def _result(future: Any, what: str) -> Any:
    from concurrent.futures import TimeoutError as FutureTimeout  # not builtin on 3.10

    from confluent_kafka import KafkaException

    try:
        return future.result(timeout=TIMEOUT_S)
    except KafkaException as exc:
        raise TopicsApplyError(f"{what} failed: {exc.args[0] if exc.args else exc}") from None
    except FutureTimeout:
        raise TopicsApplyError(f"{what} timed out after {TIMEOUT_S:.0f}s") from None


def _create_topics(admin: AdminClient, creates: Sequence[CreateTopic]) -> None:
    from confluent_kafka.admin import NewTopic  # type: ignore[attr-defined]

    if not creates:
        return
    new = [
        NewTopic(
            c.topic.name,
            num_partitions=c.topic.partitions,
            replication_factor=c.topic.replication_factor,
            config=dict(c.topic.config),
        )
        for c in creates
    ]
    futures = admin.create_topics(new, request_timeout=TIMEOUT_S)
    for name, future in futures.items():
        _result(future, f"create topic {name}")


def _add_partitions(admin: AdminClient, adds: Sequence[AddPartitions]) -> None:
    from confluent_kafka.admin import NewPartitions  # type: ignore[attr-defined]

    if not adds:
        return
    futures = admin.create_partitions(
        [NewPartitions(a.topic, a.desired) for a in adds], request_timeout=TIMEOUT_S
    )
    for name, future in futures.items():
        _result(future, f"add partitions to topic {name}")


def _set_configs(admin: AdminClient, sets: Sequence[SetConfig]) -> None:
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType  # type: ignore[attr-defined]

    by_topic: dict[str, list[SetConfig]] = {}
    for s in sets:
        by_topic.setdefault(s.topic, []).append(s)
    if not by_topic:
        return
    resources = [
        ConfigResource(
            ResourceType.TOPIC,
            topic,
            incremental_configs=[
                ConfigEntry(s.key, s.desired, incremental_operation=AlterConfigOpType.SET)
                for s in items
            ],
        )
        for topic, items in by_topic.items()
    ]
    futures = admin.incremental_alter_configs(resources, request_timeout=TIMEOUT_S)
    for resource, future in futures.items():
        _result(future, f"alter configs of topic {resource.name}")


def _per_broker_clients(
    admin: AdminClient, client_config: Mapping[str, str | int | float | bool] | None
) -> list[AdminClient]:
    """One client bootstrapped on each broker, so each broker's metadata can be checked."""
    from confluent_kafka.admin import AdminClient

    if client_config is None:
        return [admin]
    brokers = admin.list_topics(timeout=TIMEOUT_S).brokers.values()
    return [
        AdminClient({**client_config, "bootstrap.servers": f"{b.host}:{b.port}"}) for b in brokers
    ]


def wait_visible(clients: Sequence[AdminClient], partitions: Mapping[str, int]) -> None:
    """Wait (bounded) until every client's metadata shows each topic with its partitions.

    KRaft brokers apply a created topic asynchronously; waiting on each broker
    means a producer or a second apply right after sees the new state.
    """
    deadline = time.monotonic() + TIMEOUT_S
    pending = list(clients)
    while pending:
        existing = _existing_topics(pending[0].list_topics(timeout=TIMEOUT_S))
        missing = [
            n for n, p in partitions.items() if n not in existing or existing[n].partitions < p
        ]
        if not missing:
            pending.pop(0)
            continue
        if time.monotonic() > deadline:
            raise TopicsApplyError(f"topics not visible in metadata after the change: {missing}")
        time.sleep(0.1)


def execute(
    admin: AdminClient,
    changes: Sequence[Change],
    client_config: Mapping[str, str | int | float | bool] | None = None,
) -> None:
    """Carry out planned changes: creates, then partition increases, then config sets.

    With `client_config`, waits until every broker sees the new topics and
    partitions; without it, until the broker `admin` asks does.
    """
    creates = [c for c in changes if isinstance(c, CreateTopic)]
    adds = [c for c in changes if isinstance(c, AddPartitions)]
    _create_topics(admin, creates)
    _add_partitions(admin, adds)
    expected = {c.topic.name: c.topic.partitions for c in creates}
    expected.update({a.topic: a.desired for a in adds})
    if expected:
        wait_visible(_per_broker_clients(admin, client_config), expected)
    _set_configs(admin, [c for c in changes if isinstance(c, SetConfig)])


# ---------------------------------------------------------------- entry points


def client_config_from_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """confluent-kafka client settings from KAFKA_* variables (unset or empty ones are left out)."""
    source = os.environ if env is None else env
    return {key: source[var] for var, key in ENV_TO_CLIENT_CONFIG.items() if source.get(var)}


def _client_config(
    bootstrap: str | None, client_config: Mapping[str, str] | None
) -> dict[str, str | int | float | bool]:
    config: dict[str, str | int | float | bool] = dict(client_config or {})
    if bootstrap:
        config["bootstrap.servers"] = bootstrap
    if not config.get("bootstrap.servers"):
        raise TopicsApplyError("no Kafka bootstrap servers (set KAFKA_BOOTSTRAP_SERVERS)")
    return config


def apply(
    bootstrap: str | None,
    topics: Iterable[TopicConfig | Mapping[str, Any]],
    dry_run: bool = False,
    client_config: Mapping[str, str] | None = None,
) -> list[Change]:
    """Plan the changes for `topics` and, unless `dry_run`, carry them out; return them.

    `bootstrap` overrides any "bootstrap.servers" in `client_config`.
    """
    from confluent_kafka.admin import AdminClient

    config = _client_config(bootstrap, client_config)
    admin = AdminClient(config)
    changes = plan(admin, topics)
    if not dry_run:
        execute(admin, changes, config)
    return changes


def apply_file(
    path: str | Path,
    bootstrap: str | None = None,
    dry_run: bool = False,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """What `moosegen topics apply` calls: apply one topics.json, return the change lines.

    The client settings come from the KAFKA_* environment variables; `bootstrap`
    overrides KAFKA_BOOTSTRAP_SERVERS.
    """
    topics = load_topics_file(path)
    changes = apply(bootstrap, topics, dry_run=dry_run, client_config=client_config_from_env(env))
    return [c.describe() for c in changes]
