"""The service target: its render context, its non-Python files, and the generated entry point."""

from __future__ import annotations

import ast
import dataclasses
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from moosegen import pyformat, render
from moosegen.build import generate
from moosegen.targets import StreamUnit, clickhouse, service, topics
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers import REPO


@pytest.fixture(scope="module")
def units() -> dict[str, StreamUnit]:
    result = generate(REPO / "specs")
    assert result.ok, [d.text() for d in result.diagnostics]
    return {u.stream.package: u for u in result.units}


def _plan(unit: StreamUnit) -> service.ServicePlan:
    columns = {d.name: clickhouse.columns(unit, d) for d in unit.stream.destinations}
    return service.plan(unit, [], columns, topics.plan(unit))


@pytest.fixture(scope="module")
def events(units: dict[str, StreamUnit]) -> service.ServicePlan:
    return _plan(units["events"])


def _rendered(unit: StreamUnit, template: str) -> str:
    context = {"header": unit.header, "service": _plan(unit)}
    return render.render(render.environment(), template, context)


# --------------------------------------------------------------------- destinations


def test_destinations_carry_the_clickhouse_targets_columns(
    units: dict[str, StreamUnit], events: service.ServicePlan
) -> None:
    unit = units["events"]
    assert [d.name for d in events.destinations] == ["events", "analytics_events"]
    for plan, dest in zip(events.destinations, unit.stream.destinations, strict=True):
        expected = [(c.name, c.field, c.type) for c in clickhouse.columns(unit, dest)]
        assert [(c.name, c.field, c.type) for c in plan.columns] == expected


def test_default_destination_columns_types_defaults_and_lineage(
    events: service.ServicePlan,
) -> None:
    default, fan_out = events.destinations
    assert default.is_default is True and default.transform is None
    cols = {c.name: c for c in default.columns}
    assert cols["id"].type == "UUID"
    assert cols["timestamp"].type == "DateTime64(3, 'UTC')"
    assert cols["user_id"].type == "LowCardinality(String)"  # the spec's column override
    assert cols["amount"].type == "Nullable(Decimal(18, 4))"
    assert cols["data"].type == "Map(String, String)"
    assert cols["event_type"].type.startswith("Enum8('click' = 1, ")
    assert cols["event_type"].default == "click" and cols["data"].default == {}
    assert cols["id"].default is None
    lineage = [c for c in default.columns if c.field is None]
    assert [(c.name, c.type) for c in lineage] == list(clickhouse.LINEAGE)
    assert fan_out.is_default is False
    assert fan_out.transform == "hooks.events:to_analytics"
    assert [c.name for c in fan_out.columns] == ["id", "timestamp", "user_id", "event_type"]
    assert all(c.field is not None for c in fan_out.columns)  # no lineage there


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
    plan = service.destination_plan(changed, clickhouse.columns(unit, changed))
    names = [c.name for c in plan.columns]
    assert "processed_by" not in names and "amount" in names


def test_the_plan_takes_the_columns_it_is_given(units: dict[str, StreamUnit]) -> None:
    """The service never asks the ClickHouse target itself: a caller's columns are used."""
    unit = units["page_views"]
    column = clickhouse.Column("only", "user_id", "String")
    hidden = clickhouse.Column("not_inserted", None, "String", insertable=False)
    columns = {d.name: [column, hidden] for d in unit.stream.destinations}
    plan = service.plan(unit, [], columns, topics.plan(unit))
    assert [[(c.name, c.field) for c in d.columns] for d in plan.destinations] == [
        [("only", "user_id")]
    ]


# --------------------------------------------------------------------- hooks, DLQ, timings


def test_hooks_are_module_function_strings(events: service.ServicePlan) -> None:
    hooks = events.hooks
    assert hooks.transform == "hooks.events:enrich"
    assert hooks.route == "hooks.events:route"
    assert hooks.consumers == ("hooks.events:notify",)
    assert hooks.sync is None
    assert hooks.error_handler == "hooks.events:on_error"
    assert hooks.destinations == {"analytics_events": "hooks.events:to_analytics"}


def test_cqrs_hooks(units: dict[str, StreamUnit]) -> None:
    commands = _plan(units["commands"])
    assert commands.hooks.sync == "hooks.cqrs:sync_command"
    queries = _plan(units["queries"])
    assert queries.hooks.consumers == ("hooks.cqrs:observe_query",)
    assert queries.docker.copy_specs is True
    assert _plan(units["page_views"]).docker.copy_specs is False


def test_dead_letter_topic_defaults_to_topic_dash_dlq(units: dict[str, StreamUnit]) -> None:
    unit = units["domain_events"]
    assert unit.stream.spec.dead_letter.topic is None
    assert _plan(unit).dead_letter.topic == "domain_events-dlq"
    spec = unit.stream.spec
    renamed = spec.model_copy(update={"topic": spec.topic.model_copy(update={"name": "prod.de"})})
    moved = dataclasses.replace(unit, stream=dataclasses.replace(unit.stream, spec=renamed))
    plan = _plan(moved)
    assert plan.topic == "prod.de" and plan.dead_letter.topic == "prod.de-dlq"
    assert [t.name for t in plan.topics] == ["prod.de", "prod.de-dlq"]
    _, config = _literal(_config_call(_config_source(moved)))
    assert [t[1]["name"] for t in config["topics"]] == ["prod.de", "prod.de-dlq"]


def test_explicit_dead_letter_topic_and_retries(events: service.ServicePlan) -> None:
    assert events.dead_letter == service.DeadLetterPlan("events-dlq", 3, 5000)  # "5s"


def test_batch_monitoring_and_health_values_in_ms(events: service.ServicePlan) -> None:
    assert events.batch_size == 10000
    assert events.batch_timeout_ms == 5000  # "5s"
    assert events.metrics == service.MetricsPlan(
        True, ("throughput", "latency", "error-rate", "lag"), 9464
    )
    assert events.health == service.HealthPlan(True, 30_000, 10_000)  # "30s", "10s"
    assert events.group_id == "moosegen.events"


def test_the_service_embeds_the_topics_plan(units: dict[str, StreamUnit]) -> None:
    unit = units["events"]
    plan = topics.plan(unit)
    assert _plan(unit).topics == plan.topics
    assert plan.topic.config["max.message.bytes"] == "1048576"


# --------------------------------------------------------------------- the rendered config


def _config_source(unit: StreamUnit) -> str:
    text = _rendered(unit, "service/service.py.j2")
    return pyformat.format_python({"service.py": text})["service.py"]


def _config_call(source: str) -> ast.Call:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "CONFIG":
            assert isinstance(node.value, ast.Call)
            return node.value
    raise AssertionError("no CONFIG in service.py")


def _literal(node: ast.expr) -> Any:
    """A config object's source back as plain values: calls become (name, {keyword: value})."""
    if isinstance(node, ast.Call):
        assert not node.args, f"{ast.unparse(node)}: keyword arguments only"
        kwargs = {k.arg: _literal(k.value) for k in node.keywords}
        return (ast.unparse(node.func), kwargs)
    if isinstance(node, ast.Tuple):
        return tuple(_literal(e) for e in node.elts)
    if isinstance(node, (ast.Name, ast.BinOp)):
        return ast.unparse(node)
    return ast.literal_eval(node)


@pytest.mark.parametrize("stream", ["events", "page_views", "domain_events", "commands"])
def test_the_rendered_config_is_the_plan(units: dict[str, StreamUnit], stream: str) -> None:
    unit = units[stream]
    plan = _plan(unit)
    name, config = _literal(_config_call(_config_source(unit)))
    assert name == "ServiceConfig"
    assert config["stream"] == plan.stream and config["topic"] == plan.topic
    assert config["consumers"] == plan.hooks.consumers
    assert config["metrics"] == plan.metrics.metrics
    assert config["dead_letter"] == ("DeadLetterConfig", dataclasses.asdict(plan.dead_letter))
    assert config["destinations"] == tuple(
        (
            "DestinationConfig",
            {
                "name": d.name,
                "is_default": d.is_default,
                "transform": d.transform,
                "columns": tuple(("ColumnConfig", dataclasses.asdict(c)) for c in d.columns),
            },
        )
        for d in plan.destinations
    )
    assert config["topics"] == tuple(("TopicConfig", dataclasses.asdict(t)) for t in plan.topics)


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
def test_pyrepr_writes_the_value(value: Any) -> None:
    source = render.python_literal(value)
    assert ast.literal_eval(source) == value
    assert type(ast.literal_eval(source)) is type(value)


@pytest.mark.parametrize("value", [float("nan"), b"bytes", object(), {1.5, 2.5}])
def test_pyrepr_refuses_what_is_no_literal(value: Any) -> None:
    with pytest.raises(TypeError, match="no Python literal"):
        render.python_literal(value)


def test_long_strings_fit_the_line_after_formatting(units: dict[str, StreamUnit]) -> None:
    long_type = "Enum8(" + ", ".join(f"'s{i}' = {i}" for i in range(40)) + ")"
    unit = units["events"]
    plan = _plan(unit)
    dest = plan.destinations[0]
    column = dataclasses.replace(dest.columns[0], type=long_type)
    wide = dataclasses.replace(plan, destinations=(dataclasses.replace(dest, columns=(column,)),))
    text = render.render(
        render.environment(), "service/service.py.j2", {"header": unit.header, "service": wide}
    )
    source = pyformat.format_python({"service.py": text})["service.py"]
    assert max(len(line) for line in source.splitlines()) <= 100
    name, config = _literal(_config_call(source))
    assert config["destinations"][0][1]["columns"][0][1]["type"] == long_type


# --------------------------------------------------------------------- Dockerfile, requirements


def test_requirements_are_published_packages_with_ranges(units: dict[str, StreamUnit]) -> None:
    text = _rendered(units["events"], "service/requirements.txt.j2")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert tuple(lines) == service.RUNTIME_REQUIREMENTS
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


def test_the_generated_config_carries_its_topics() -> None:
    """`setup` and the message size limit read the embedded topics, not topics.json."""
    code = (
        "import sys; sys.modules['moosegen'] = None; "
        "from generated.events.service import CONFIG as C; "
        "print(C.message_limit, [(t.name, t.partitions, t.config['cleanup.policy']) "
        "for t in C.topics])"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "1048576 [('events', 6, 'delete'), ('events-dlq', 6, 'delete')]\n"
