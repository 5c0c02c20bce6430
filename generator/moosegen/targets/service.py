"""The standalone consumer service of a stream: config module, entry point, Dockerfile.

`plan` decides every value (columns, hooks, batching, DLQ, ports, topics,
requirements, the Docker image) as structured data; the templates under
`templates/service/` lay all of it out as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from moosegen.diagnostics import Diagnostic
from moosegen.spec.load import Destination
from moosegen.targets import RenderJob, StreamUnit
from moosegen.targets.topics import TopicPlan, TopicsPlan

# What a generated service needs at run time: published packages only, each with a
# tested lower bound and the next major version excluded. Never moosegen itself (the
# runtime is vendored into the output tree).
RUNTIME_REQUIREMENTS = (
    "clickhouse-connect[chdb]>=1.6,<2",  # the chdb:// DSN arrived in 1.6
    "chdb>=4.1.7,<5",
    "confluent-kafka>=2.4,<3",
    "fastavro>=1.9,<2",
    "prometheus-client>=0.20,<1",
    "pyarrow>=15,<27",  # Arrow inserts (runtime/chvalues.py); without it, Native inserts
    "pydantic>=2.11,<3",
    "typing-extensions>=4.12,<5",  # generated models import TypedDict from it
)
PYTHON_IMAGE = "python:3.12-slim"
# The service templates, by output file name inside the stream's package.
TEMPLATES = ("__init__.py", "__main__.py", "service.py", "Dockerfile", "requirements.txt")


class TableColumn(Protocol):
    """What the service needs of a ClickHouse column (the ClickHouse target's `Column`)."""

    @property
    def name(self) -> str: ...
    @property
    def field(self) -> str | None: ...
    @property
    def type(self) -> str: ...
    @property
    def insertable(self) -> bool: ...


@dataclass(frozen=True)
class ColumnPlan:
    """One column the service inserts; `field` is None for a lineage column.

    `default` is the field's Avro JSON default (None when it has none), which the
    runtime fills in for a validated row that leaves the field out.
    """

    name: str
    field: str | None
    type: str
    default: Any


@dataclass(frozen=True)
class DestinationPlan:
    name: str
    is_default: bool
    transform: str | None
    columns: tuple[ColumnPlan, ...]
    extra_fields: str = "error"  # a field a hook returns that the table lacks: error | ignore


@dataclass(frozen=True)
class HooksPlan:
    """Every `module:function` the service resolves at start-up, by role."""

    transform: str | None
    route: str | None
    consumers: tuple[str, ...]
    sync: str | None
    error_handler: str | None
    destinations: dict[str, str]  # fan-out destination → its transform

    @property
    def all(self) -> tuple[str, ...]:
        found = (self.transform, self.route, *self.consumers, self.sync, self.error_handler)
        return tuple(h for h in (*found, *self.destinations.values()) if h)


@dataclass(frozen=True)
class DeadLetterPlan:
    topic: str
    max_retries: int
    retry_delay_ms: int


@dataclass(frozen=True)
class MetricsPlan:
    enabled: bool
    metrics: tuple[str, ...]
    port: int


@dataclass(frozen=True)
class HealthPlan:
    enabled: bool
    interval_ms: int
    timeout_ms: int


@dataclass(frozen=True)
class DockerPlan:
    """The image: built from the project root, which holds the output and specs folders."""

    base_image: str
    output_dir: str
    specs_dir: str
    copy_specs: bool  # the hooks are the user's code in the specs folder


@dataclass(frozen=True)
class ServicePlan:
    stream: str
    package: str
    module: str  # what `python -m` runs
    topic: str
    format: str
    group_id: str
    database: str
    batch_size: int
    batch_timeout_ms: int
    hooks: HooksPlan
    dead_letter: DeadLetterPlan
    metrics: MetricsPlan
    health: HealthPlan
    registry_url: str | None
    destinations: tuple[DestinationPlan, ...]
    topics: tuple[TopicPlan, ...]  # what `setup` creates or brings up to date
    requirements: tuple[str, ...]
    docker: DockerPlan


def destination_plan(dest: Destination, columns: Sequence[TableColumn]) -> DestinationPlan:
    """`dest` with its insertable columns, in table order."""
    defaults = {f.name: f.default for f in dest.schema.fields if f.has_default}
    return DestinationPlan(
        name=dest.name,
        is_default=dest.is_default,
        transform=dest.transform,
        extra_fields=dest.options.extra_fields,
        columns=tuple(
            ColumnPlan(
                name=c.name,
                field=c.field,
                type=c.type,
                default=defaults.get(c.field) if c.field is not None else None,
            )
            for c in columns
            if c.insertable
        ),
    )


def hooks_plan(unit: StreamUnit) -> HooksPlan:
    spec = unit.stream.spec
    return HooksPlan(
        transform=spec.transform,
        route=spec.route,
        consumers=tuple(spec.consumers),
        sync=spec.sync,
        error_handler=spec.error_handler,
        destinations={d.name: d.transform for d in unit.stream.destinations if d.transform},
    )


def plan(
    unit: StreamUnit,
    diags: list[Diagnostic],
    columns: Mapping[str, Sequence[TableColumn]],
    topics_plan: TopicsPlan,
) -> ServicePlan:
    """The service of `unit`; `columns` are each destination's table columns, by name."""
    stream = unit.stream
    spec = stream.spec
    output = unit.config.output.strip("/") or "generated"
    hooks = hooks_plan(unit)
    return ServicePlan(
        stream=stream.name,
        package=stream.package,
        module=f"{output.replace('/', '.')}.{stream.package}",
        topic=stream.topic,
        format=spec.format,
        group_id=f"moosegen.{stream.package}",
        database=unit.config.database,
        batch_size=spec.batch.size,
        batch_timeout_ms=spec.batch.timeout,
        hooks=hooks,
        dead_letter=DeadLetterPlan(
            topic=stream.dead_letter_topic,
            max_retries=spec.dead_letter.max_retries,
            retry_delay_ms=spec.dead_letter.retry_delay,
        ),
        metrics=MetricsPlan(
            enabled=spec.monitoring.enabled,
            metrics=tuple(spec.monitoring.metrics),
            port=spec.monitoring.port,
        ),
        health=HealthPlan(
            enabled=spec.health_check.enabled,
            interval_ms=spec.health_check.interval,
            timeout_ms=spec.health_check.timeout,
        ),
        registry_url=unit.config.registry.url,
        destinations=tuple(destination_plan(d, columns[d.name]) for d in stream.destinations),
        topics=topics_plan.topics,
        requirements=RUNTIME_REQUIREMENTS,
        docker=DockerPlan(
            base_image=PYTHON_IMAGE,
            output_dir=output,
            specs_dir=stream.source.split("/", 1)[0] if "/" in stream.source else ".",
            copy_specs=bool(hooks.all),
        ),
    )


def render_jobs(service: ServicePlan, header: str) -> list[RenderJob]:
    context = {"header": header, "service": service}
    return [
        RenderJob(f"service/{name}.j2", f"{service.package}/{name}", context) for name in TEMPLATES
    ]
