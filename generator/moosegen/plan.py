"""One plan per stream, computed once: what every target decided, before any text.

`plan_stream` runs each target's planner exactly once, in dependency order (the
service reads the ClickHouse plan's columns and the topics plan; no target calls
another), and `render_jobs` turns the finished plan into template jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

from moosegen.diagnostics import Diagnostic
from moosegen.targets import (
    RenderJob,
    StreamUnit,
    clickhouse,
    pydantic,
    pydantic_jsonschema,
    service,
    topics,
)
from moosegen.targets.clickhouse_plan import ClickHousePlan
from moosegen.targets.pydantic_jsonschema import JsonSchemaModelsPlan
from moosegen.targets.pydantic_plan import ModelsPlan
from moosegen.targets.service import ServicePlan
from moosegen.targets.topics import TopicsPlan


@dataclass(frozen=True)
class StreamPlan:
    unit: StreamUnit  # the stream, the project config, every schema version (parsed once)
    models: ModelsPlan | JsonSchemaModelsPlan  # a JSON Schema stream's: datamodel-code-generator's
    clickhouse: ClickHousePlan
    topics: TopicsPlan
    service: ServicePlan

    @property
    def header(self) -> str:
        return self.unit.header


def plan_stream(unit: StreamUnit, diags: list[Diagnostic]) -> StreamPlan:
    tables = clickhouse.plan(unit, diags)
    topics_plan = topics.plan(unit)
    columns = {t.name: t.columns for t in tables.tables}
    return StreamPlan(
        unit=unit,
        models=(
            pydantic_jsonschema.plan(unit, diags)
            if unit.stream.json_schema is not None
            else pydantic.plan(unit, diags)
        ),
        clickhouse=tables,
        topics=topics_plan,
        service=service.plan(unit, diags, columns, topics_plan),
    )


def render_jobs(plan: StreamPlan) -> list[RenderJob]:
    header = plan.header
    package = plan.unit.stream.package
    models = (
        pydantic_jsonschema.render_jobs(plan.models, package, header)
        if isinstance(plan.models, JsonSchemaModelsPlan)
        else pydantic.render_jobs(plan.models, package, header)
    )
    return [
        *models,
        *(clickhouse.render_jobs(plan.clickhouse, header) if plan.clickhouse.tables else []),
        *topics.render_jobs(plan.topics, package, header),
        *service.render_jobs(plan.service, header),
    ]
