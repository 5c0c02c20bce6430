"""The stream spec language as pydantic models (one stream per YAML file).

Durations are stored as milliseconds; hooks as validated `module:function`
strings. Cross-field checks that need the schema live in `spec.load`.
"""

from __future__ import annotations

import keyword
import re
import sys
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
)
from pydantic_core import PydanticCustomError

from moosegen.spec.units import parse_duration_ms

NAME_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
TOPIC_RE = re.compile(r"[a-zA-Z0-9._-]{1,249}\Z")
HOOK_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*\Z")
IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# A Kafka/ClickHouse cluster name as it appears unquoted in `ON CLUSTER`.
CLUSTER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}\Z")
URL_RE = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]{1,2000}\Z")

Mode = Literal[
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
]
METRICS = ("throughput", "latency", "error-rate", "lag", "dead-letter", "batch-size")
ENGINES = (
    "MergeTree",
    "ReplacingMergeTree",
    "SummingMergeTree",
    "AggregatingMergeTree",
    "CollapsingMergeTree",
    "VersionedCollapsingMergeTree",
)


def _fail(code: str, message: str) -> PydanticCustomError:
    # The message goes through a placeholder so braces in user values stay literal.
    return PydanticCustomError(code, "{message}", {"message": message})


def _name(value: str) -> str:
    if not NAME_RE.match(value) or len(value) > 100:
        raise _fail(
            "BAD_NAME",
            f"invalid name {value!r}: use lower case letters, digits and _, starting with a letter",
        )
    if keyword.iskeyword(value):
        raise _fail("BAD_NAME", f"{value!r} is a Python keyword")
    return value


def _topic(value: str) -> str:
    if not TOPIC_RE.match(value) or value in (".", ".."):
        raise _fail("BAD_NAME", f"invalid topic name {value!r}: up to 249 of a-z A-Z 0-9 . _ -")
    return value


def _hook(value: str) -> str:
    words = re.split("[.:]", value)
    if not HOOK_RE.match(value) or any(keyword.iskeyword(w) for w in words):
        raise _fail("BAD_HOOK", f"invalid hook {value!r}: expected 'package.module:function'")
    return value


# What a generated service imports: an output folder named like one would hide it.
SERVICE_IMPORTS = frozenset(
    {
        "pydantic",
        "pydantic_core",
        "confluent_kafka",
        "clickhouse_connect",
        "fastavro",
        "pyarrow",
        "chdb",
        "typing_extensions",
    }
)


def _output(value: str) -> str:
    """The output folder is a Python package path inside the project (`python -m out.x`)."""
    parts = value.split("/")
    if len(value) > 255 or not all(IDENT_RE.match(p) and not keyword.iskeyword(p) for p in parts):
        raise _fail(
            "BAD_PATH",
            f"invalid output folder {value!r}: a relative path inside the project, made of "
            "/-separated Python identifiers (no '..', no absolute path)",
        )
    if parts[0] in sys.stdlib_module_names or parts[0] in SERVICE_IMPORTS:
        raise _fail(
            "BAD_PATH",
            f"invalid output folder {value!r}: its package {parts[0]!r} would hide the "
            f"module {parts[0]!r} from the generated services",
        )
    return value


def _pattern(regex: re.Pattern[str], what: str) -> Any:
    def check(value: str) -> str:
        if not regex.match(value):
            raise _fail("BAD_VALUE", f"invalid {what} {value!r}")
        return value

    return AfterValidator(check)


def _duration(allow_forever: bool) -> Any:
    def parse(value: Any) -> int:
        try:
            return parse_duration_ms(value, allow_forever=allow_forever)
        except ValueError as exc:
            raise _fail("BAD_DURATION", str(exc)) from None

    return BeforeValidator(parse)


Name = Annotated[str, AfterValidator(_name)]
TopicName = Annotated[str, AfterValidator(_topic)]
Hook = Annotated[str, AfterValidator(_hook)]
OutputPath = Annotated[str, AfterValidator(_output)]
DurationMs = Annotated[int, _duration(False)]
RetentionMs = Annotated[int, _duration(True)]
Columns = Annotated[list[str], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TopicSpec(Spec):
    name: TopicName | None = None
    partitions: Annotated[StrictInt, Field(ge=1, le=10_000)] = 1
    replication_factor: Annotated[StrictInt, Field(ge=1, le=32)] = 1
    retention: RetentionMs | None = None
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd", "producer"] | None = None
    cleanup_policy: Literal["delete", "compact", "compact,delete", "delete,compact"] | None = None
    partition_key: Columns = []
    config: dict[str, str | int | float | bool] = {}  # keys and values checked in spec.load


class JsonColumnSpec(Spec):
    """The shape of a JSON column: ClickHouse's JSON type parameters."""

    max_dynamic_paths: Annotated[StrictInt, Field(ge=0, le=10_000)] | None = None
    max_dynamic_types: Annotated[StrictInt, Field(ge=0, le=254)] | None = None
    paths: dict[str, str] = {}  # a path (a.b) with a fixed ClickHouse type
    skip: list[str] = []  # paths not stored
    skip_regexp: list[str] = []  # paths matching these are not stored


class ColumnSpec(Spec):
    type: str | None = None
    json_: JsonColumnSpec | None = Field(default=None, alias="json")
    codec: str | None = None
    default: str | None = None
    materialized: str | None = None
    comment: str | None = None
    low_cardinality: StrictBool = False


class TableOptions(Spec):
    engine: Literal[ENGINES] = "MergeTree"  # type: ignore[valid-type]
    version_column: str | None = None
    sign_column: str | None = None
    sum_columns: list[str] = []
    order_by: Columns | None = None
    primary_key: Columns | None = None
    partition_by: str | None = None
    ttl: str | None = None
    settings: dict[str, str | int | float | bool] = {}
    columns: dict[str, ColumnSpec] = {}
    lineage: StrictBool = False
    allow_destructive: StrictBool = False
    # The table's own record (default: the stream's); what the transform must return.
    schema_: str | None = Field(default=None, alias="schema")
    fields: dict[str, Any] | None = None
    # A field the transform returns that the table does not declare: the record is
    # dead-lettered ("error"), or the field is left out ("ignore").
    extra_fields: Literal["error", "ignore"] = "error"


class TableSpec(TableOptions):
    name: Name | None = None


class DestinationSpec(TableOptions):
    table: Name
    transform: Hook | None = None


class DeadLetterSpec(Spec):
    topic: TopicName | None = None
    max_retries: Annotated[StrictInt, Field(ge=0, le=100)] = 3
    retry_delay: DurationMs = 1000
    partitions: Annotated[StrictInt, Field(ge=1, le=10_000)] | None = None


class BatchSpec(Spec):
    size: Annotated[StrictInt, Field(ge=1, le=1_000_000)] = 10_000
    timeout: DurationMs = 5000


class MonitoringSpec(Spec):
    enabled: StrictBool = True
    metrics: list[Literal[METRICS]] = list(METRICS)  # type: ignore[valid-type]
    port: Annotated[StrictInt, Field(ge=1, le=65535)] = 9464


class HealthCheckSpec(Spec):
    enabled: StrictBool = True
    interval: DurationMs = 30_000
    timeout: DurationMs = 10_000


class StreamSpec(Spec):
    stream: Name
    description: str | None = None
    version: Annotated[StrictInt, Field(ge=1, le=1000)] = 1
    schema_: str | None = Field(default=None, alias="schema")
    fields: dict[str, Any] | None = None
    format: Literal["json", "avro"] = "json"
    compatibility: Mode | None = None
    key: Columns = []
    topic: TopicSpec = TopicSpec()
    table: TableSpec | Literal[False] = TableSpec()
    destinations: list[DestinationSpec] = []
    transform: Hook | None = None
    route: Hook | None = None
    consumers: list[Hook] = []
    sync: Hook | None = None
    error_handler: Hook | None = None
    dead_letter: DeadLetterSpec = DeadLetterSpec()
    batch: BatchSpec = BatchSpec()
    monitoring: MonitoringSpec = MonitoringSpec()
    health_check: HealthCheckSpec = HealthCheckSpec()


class ClusterSpec(Spec):
    name: Annotated[str, _pattern(CLUSTER_RE, "cluster name")]
    distributed: StrictBool = True
    sharding_key: str = "rand()"


class RegistrySpec(Spec):
    url: Annotated[str, _pattern(URL_RE, "registry URL (http:// or https://)")] | None = None


class ProjectConfig(Spec):
    namespace: Name | None = None
    compatibility: Mode = "BACKWARD"
    output: OutputPath = "generated"
    database: Name = "default"
    cluster: ClusterSpec | None = None
    registry: RegistrySpec = RegistrySpec()
