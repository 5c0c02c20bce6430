"""A build plans each stream once: every target's planner runs once per stream, called by
the plan stage alone, and every registered schema version is parsed once."""

from __future__ import annotations

import sys
from collections import Counter
from types import FrameType
from typing import Any

from moosegen.build import generate
from moosegen.compat.history import LocalRegistry

from tests.helpers import REPO

PLANNERS = {
    "moosegen.targets.pydantic",
    "moosegen.targets.pydantic_jsonschema",  # the models of JSON Schema streams
    "moosegen.targets.clickhouse",
    "moosegen.targets.topics",
    "moosegen.targets.service",
}


def test_each_target_plans_each_stream_once_and_versions_parse_once() -> None:
    calls: Counter[tuple[str, str]] = Counter()
    callers: set[tuple[str, str]] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        name = frame.f_code.co_name
        if module in PLANNERS and name == "plan":
            calls[(module, name)] += 1
            assert frame.f_back is not None
            callers.add((frame.f_back.f_globals.get("__name__", ""), frame.f_back.f_code.co_name))
        elif module == "moosegen.compat" and name == "load_schema":
            # Registered versions are the texts read from the registry folder.
            schema, path = frame.f_locals.get("schema"), str(frame.f_locals.get("path"))
            if isinstance(schema, str) and "/registry/" in path:
                calls[("registry text", "parsed")] += 1

    sys.setprofile(profile)
    try:
        result = generate(REPO / "specs")
    finally:
        sys.setprofile(None)
    assert result.ok, [d.text() for d in result.diagnostics]
    streams = len(result.plans)
    registry = LocalRegistry(REPO / "specs")
    # Avro versions; a JSON Schema stream's versions are read by the JSON Schema engine.
    versions = sum(
        1
        for p in result.plans
        for v in registry.versions(p.unit.stream.subject)
        if v.schema_type != "JSON"
    )
    specs = [p for p in (REPO / "specs").glob("*.yaml") if p.name != "moosegen.yaml"]
    assert streams == len(specs) >= 7 and versions > streams  # page_views has three versions
    json_streams = sum(1 for p in result.plans if p.unit.stream.json_schema is not None)
    models = {"moosegen.targets.pydantic": streams - json_streams}
    models["moosegen.targets.pydantic_jsonschema"] = json_streams
    assert json_streams == 1  # the example's orders stream
    assert {k: v for k, v in calls.items() if k[1] == "plan"} == {
        (module, "plan"): models.get(module, streams) for module in PLANNERS
    }
    assert callers == {("moosegen.plan", "plan_stream")}
    assert calls[("registry text", "parsed")] == versions
