"""The service target: its render context, its non-Python files, and the generated entry point."""

from __future__ import annotations

import ast
import dataclasses
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from moosegen import render
from moosegen.build import generate
from moosegen.targets import StreamUnit, clickhouse, service
from moosegen.targets.pydantic_source import WIDTH
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers import REPO


@pytest.fixture(scope="module")
def units() -> dict[str, StreamUnit]:
    result = generate(REPO / "specs")
    assert result.ok, [d.text() for d in result.diagnostics]
    return {u.stream.package: u for u in result.units}


@pytest.fixture(scope="module")
def events(units: dict[str, StreamUnit]) -> dict[str, Any]:
    return service.context(units["events"])


def _rendered(unit: StreamUnit, template: str) -> str:
    return render.render(render.environment(), template, service.context(unit))


# --------------------------------------------------------------------- destinations


def test_destinations_carry_the_clickhouse_targets_columns(
    units: dict[str, StreamUnit], events: dict[str, Any]
) -> None:
    unit = units["events"]
    assert [d["name"] for d in events["destinations"]] == ["events", "analytics_events"]
    for ctx, dest in zip(events["destinations"], unit.stream.destinations, strict=True):
        expected = [(c.name, c.field, c.type) for c in clickhouse.columns(unit, dest)]
        assert [(c["name"], c["field"], c["type"]) for c in ctx["columns"]] == expected


def test_default_destination_columns_types_defaults_and_lineage(events: dict[str, Any]) -> None:
    default, fan_out = events["destinations"]
    assert default["is_default"] is True and default["transform"] is None
    cols = {c["name"]: c for c in default["columns"]}
    assert cols["id"]["type"] == "UUID"
    assert cols["timestamp"]["type"] == "DateTime64(3, 'UTC')"
    assert cols["user_id"]["type"] == "LowCardinality(String)"  # the spec's column override
    assert cols["amount"]["type"] == "Nullable(Decimal(18, 4))"
    assert cols["data"]["type"] == "Map(String, String)"
    assert cols["event_type"]["type"].startswith("Enum8('click' = 1, ")
    assert cols["event_type"]["default"] == "click" and cols["data"]["default"] == {}
    assert cols["id"]["default"] is None
    lineage = [c for c in default["columns"] if c["field"] is None]
    assert [(c["name"], c["type"]) for c in lineage] == list(clickhouse.LINEAGE)
    assert fan_out["is_default"] is False
    assert fan_out["transform"] == "hooks.events:to_analytics"
    assert [c["name"] for c in fan_out["columns"]] == ["id", "timestamp", "user_id", "event_type"]
    assert all(c["field"] is not None for c in fan_out["columns"])  # no lineage there


def test_materialized_columns_are_not_inserted(units: dict[str, StreamUnit]) -> None:
    unit = units["events"]
    dest = unit.stream.destinations[0]
    options = dest.options.model_copy(
        update={
            "columns": {
                **dest.options.columns,
                "processed_by": type(dest.options.columns["data"])(materialized="'x'"),
            }
        }
    )
    changed = dataclasses.replace(dest, options=options)
    names = [c["name"] for c in service.destination_columns(unit, changed)]
    assert "processed_by" not in names and "amount" in names


# --------------------------------------------------------------------- hooks, DLQ, timings


def test_hooks_are_module_function_strings(events: dict[str, Any]) -> None:
    assert events["transform"] == "hooks.events:enrich"
    assert events["route"] == "hooks.events:route"
    assert events["consumers"] == ("hooks.events:notify",)
    assert events["sync"] is None
    assert events["error_handler"] == "hooks.events:on_error"
    assert events["hooks"]["destinations"] == {"analytics_events": "hooks.events:to_analytics"}
    assert events["py"]["consumers"] == '("hooks.events:notify",)'
    assert events["py"]["sync"] == "None"


def test_cqrs_hooks(units: dict[str, StreamUnit]) -> None:
    commands = service.context(units["commands"])
    assert commands["sync"] == "hooks.cqrs:sync_command"
    queries = service.context(units["queries"])
    assert queries["consumers"] == ("hooks.cqrs:observe_query",)
    assert queries["copy_specs"] is True
    assert service.context(units["page_views"])["copy_specs"] is False


def test_dead_letter_topic_defaults_to_topic_dash_dlq(units: dict[str, StreamUnit]) -> None:
    unit = units["domain_events"]
    assert unit.stream.spec.dead_letter.topic is None
    assert service.context(unit)["dead_letter_topic"] == "domain_events-dlq"
    spec = unit.stream.spec
    renamed = spec.model_copy(update={"topic": spec.topic.model_copy(update={"name": "prod.de"})})
    moved = dataclasses.replace(unit, stream=dataclasses.replace(unit.stream, spec=renamed))
    ctx = service.context(moved)
    assert ctx["topic"] == "prod.de" and ctx["dead_letter_topic"] == "prod.de-dlq"
    assert ctx["dead_letter_py"]["topic"] == '"prod.de-dlq"'


def test_explicit_dead_letter_topic_and_retries(events: dict[str, Any]) -> None:
    assert events["dead_letter_topic"] == "events-dlq"
    assert events["max_retries"] == 3
    assert events["retry_delay_ms"] == 5000  # "5s"


def test_batch_monitoring_and_health_values_in_ms(events: dict[str, Any]) -> None:
    assert events["batch_size"] == 10000
    assert events["batch_timeout_ms"] == 5000  # "5s"
    assert events["metrics_enabled"] is True
    assert events["metrics"] == ("throughput", "latency", "error-rate", "lag")
    assert events["metrics_port"] == 9464
    assert events["health_enabled"] is True
    assert events["health_interval_ms"] == 30_000  # "30s"
    assert events["health_timeout_ms"] == 10_000  # "10s"
    assert events["group_id"] == "moosegen.events"


# --------------------------------------------------------------------- Python literals


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -3,
        1.5,
        "plain",
        'it\'s "quoted"',
        "ÿ\x00A",
        {},
        {"n": 3, "s": ["a", "b"]},
        ("one",),
        (),
        "Enum8(" + ", ".join(f"'symbol_{i}' = {i}" for i in range(1, 30)) + ")",
        {f"key_{i}": {"nested": list(range(i))} for i in range(8)},
    ],
)
def test_py_value_is_the_value_and_fits_the_width(value: Any) -> None:
    for indent, used in ((0, 0), (4, 1), (5, 12)):
        src = service.py_value(value, indent, used)
        assert ast.literal_eval(src) == value
        lines = src.split("\n")
        assert indent * 4 + used + len(lines[0]) <= WIDTH or len(lines) > 1
        assert all(len(line) <= WIDTH for line in lines[1:])


def test_long_types_are_split_after_a_space(events: dict[str, Any]) -> None:
    source = service.py_value("Enum8(" + ", ".join(f"'s{i}' = {i}" for i in range(40)) + ")", 5, 1)
    pieces = re.findall(r'^\s*"(.*)"$', source, re.M)
    assert len(pieces) > 1 and all(p.endswith(" ") for p in pieces[:-1])


# --------------------------------------------------------------------- Dockerfile, requirements


def test_requirements_are_published_packages_with_ranges(units: dict[str, StreamUnit]) -> None:
    text = _rendered(units["events"], "service/requirements.txt.j2")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == list(service.RUNTIME_REQUIREMENTS)
    for line in lines:
        req = Requirement(line)
        assert "moosegen" not in req.name.lower(), line
        assert req.url is None, f"{line}: a published package, not a URL"
        ops = {s.operator for s in req.specifier}
        assert ops == {"=="} or {">=", "<"} <= ops, f"{line}: pin it or give a range"
        installed = importlib.metadata.version(req.name)
        assert req.specifier.contains(installed), f"{line} excludes the tested {installed}"


def _third_party_imports(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "__future__"}


def test_requirements_cover_what_the_generated_code_imports() -> None:
    required = {canonicalize_name(Requirement(r).name) for r in service.RUNTIME_REQUIREMENTS}
    # Installed with pydantic at the exact version it pins.
    implied = {"pydantic_core"}
    dists = importlib.metadata.packages_distributions()
    for module in sorted(_third_party_imports(REPO / "generated") - implied):
        assert module != "moosegen", "generated code must not import moosegen"
        names = {canonicalize_name(d) for d in dists.get(module, [module])}
        assert names & required, f"{module} ({names}) is missing from the requirements"


def test_dockerfile_installs_only_the_requirements(units: dict[str, StreamUnit]) -> None:
    text = _rendered(units["events"], "service/Dockerfile.j2")
    assert text.startswith("# Code generated by moosegen from specs/events.yaml. DO NOT EDIT.\n")
    runs = [line for line in text.splitlines() if line.startswith("RUN ")]
    assert runs == ["RUN pip install --no-cache-dir -r /app/requirements.txt"]
    assert "moosegen" not in text.split("\n", 1)[1].replace("moosegen.", "")
    assert f"FROM {service.PYTHON_IMAGE}\n" in text
    assert "COPY generated/events/requirements.txt /app/requirements.txt\n" in text
    assert "COPY specs/ /app/specs/\n" in text  # the hooks
    assert 'ENTRYPOINT ["python", "-m", "generated.events"]\n' in text
    assert "EXPOSE 9464\n" in text and "USER nobody\n" in text
    no_hooks = _rendered(units["page_views"], "service/Dockerfile.j2")
    assert "COPY specs/" not in no_hooks and "ENV PYTHONPATH=/app PYTHONUNBUFFERED=1\n" in no_hooks


# --------------------------------------------------------------------- the generated entry point


def _run_service(*args: str, block_moosegen: bool = False) -> subprocess.CompletedProcess[str]:
    """`python -m generated.events ...` from the repo root, without moosegen on the path."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(REPO / "specs")  # the hooks, as a deployment would place them
    if block_moosegen:
        code = (
            "import runpy, sys; sys.modules['moosegen'] = None; "
            f"sys.argv = ['generated.events', *{list(args)!r}]; "
            "runpy.run_module('generated.events', run_name='__main__', alter_sys=True)"
        )
        cmd = [sys.executable, "-c", code]
    else:
        cmd = [sys.executable, "-m", "generated.events", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_generated_service_help() -> None:
    proc = _run_service("--help")
    assert proc.returncode == 0, proc.stderr
    assert "python -m generated.events" in proc.stdout
    assert "--bootstrap-servers" in proc.stdout and "--clickhouse" in proc.stdout


def test_generated_service_setup_help() -> None:
    proc = _run_service("setup", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "{run,setup}" in proc.stdout


def test_generated_service_runs_without_moosegen() -> None:
    proc = _run_service("--help", block_moosegen=True)
    assert proc.returncode == 0, proc.stderr
    assert "--hooks-path" in proc.stdout
