# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""The configuration of one consumer service, built by the generated `service.py`.

Plain dataclasses so the runtime has no dependency on moosegen itself; every
value here is a finished decision of the generator (or a flag/env override).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024
LINEAGE_FIELDS = ("_topic", "_partition", "_offset", "_timestamp")
# The metric families `monitoring.metrics` can select (see metrics.py).
METRIC_FAMILIES = ("throughput", "latency", "error-rate", "lag", "dead-letter", "batch-size")


@dataclass(frozen=True)
class ColumnConfig:
    """One insertable column: `field` is the record field (None for a lineage column)."""

    name: str
    field: str | None
    type: str
    # The field's default, filled in when a validated row leaves the field out (the
    # TypedDict adapters mark defaulted fields NotRequired); None when there is none.
    default: Any = None


@dataclass(frozen=True)
class DestinationConfig:
    """One table the stream writes to (the default table or a fan-out destination)."""

    name: str
    columns: tuple[ColumnConfig, ...]
    is_default: bool = True
    transform: str | None = None  # 'module:function' for a fan-out destination
    # A field a hook returns that the destination does not declare: "error" dead-letters
    # the record (stage transform), "ignore" leaves the field out.
    extra_fields: str = "error"


@dataclass(frozen=True)
class DeadLetterConfig:
    topic: str
    max_retries: int = 3
    retry_delay_ms: int = 1000


@dataclass(frozen=True)
class TopicConfig:
    """One Kafka topic as the cluster should have it (`setup` and `topics apply` make it so)."""

    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceConfig:
    """Everything a service needs; `models` is the stream's generated models module."""

    stream: str
    topic: str
    models: ModuleType
    destinations: tuple[DestinationConfig, ...]
    dead_letter: DeadLetterConfig
    format: str = "json"  # json | avro
    group_id: str = ""
    database: str = "default"
    batch_size: int = 10_000
    batch_timeout_ms: int = 5_000
    transform: str | None = None
    route: str | None = None
    consumers: tuple[str, ...] = ()
    sync: str | None = None
    error_handler: str | None = None
    metrics_enabled: bool = True
    metrics: tuple[str, ...] = METRIC_FAMILIES
    metrics_port: int = 9464
    health_enabled: bool = True
    health_interval_ms: int = 30_000
    health_timeout_ms: int = 10_000
    # The progress check fails when messages wait but nothing was stored for this long
    # (0: the check interval plus the batch timeout).
    stall_after_ms: int = 0
    migrations_dir: Path | None = None
    # Connection settings: flags or environment, resolved by the CLI.
    bootstrap_servers: str = "127.0.0.1:9092"
    clickhouse_url: str = "chdb:///./.moosegen/chdb"
    registry_url: str | None = None
    kafka_config: dict[str, str] = field(default_factory=dict)
    # Consumer-only librdkafka settings (flags/env), applied after everything else.
    consumer_config: dict[str, str] = field(default_factory=dict)
    # Static group membership when set (see membership.py); 0: librdkafka's default.
    instance_id: str = ""
    session_timeout_ms: int = 0
    # A consumer with no partitions and no group member id for this long is closed and
    # made anew (see `Runner.check_membership`); 0 = never.
    rejoin_after_s: float = 30.0
    max_backoff_s: float = 30.0
    # Larger source messages are dead-lettered (error type `oversized`) without decoding.
    # Default: the topic's `max.message.bytes` in `topics` when it sets one, else 8 MiB.
    max_message_bytes: int = 0
    # Stop after this many seconds without any message (0 = never); for tests and batch jobs.
    idle_exit_s: float = 0.0
    # Processes that decode, validate and build the Arrow blocks of the plain path (no
    # hooks) while this one consumes and inserts: 1 = all in process; 0 = the default
    # (MOOSEGEN_WORKERS, else min(2, CPUs)); see `workers.py`.
    workers: int = 0
    # A block the workers have not prepared after this many seconds (plus 1 ms a record)
    # is prepared in process and the pool replaced.
    worker_timeout_s: float = 30.0
    # The stream's topic and dead-letter topic, which `setup` creates or brings up to date.
    topics: tuple[TopicConfig, ...] = ()

    @property
    def message_limit(self) -> int:
        """The service-side size limit of one source message, in bytes."""
        if self.max_message_bytes > 0:
            return self.max_message_bytes
        for topic in self.topics:
            limit = topic.config.get("max.message.bytes")
            if topic.name == self.topic and limit is not None:
                return int(limit)
        return DEFAULT_MAX_MESSAGE_BYTES

    @property
    def stall_after_s(self) -> float:
        ms = self.stall_after_ms or self.health_interval_ms + self.batch_timeout_ms
        return ms / 1000

    @property
    def effective_group_id(self) -> str:
        return self.group_id or f"moosegen.{self.stream}"
