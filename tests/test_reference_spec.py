"""The reference example of DESIGN.md §2, verbatim, is accepted with every field honoured;
user templates take precedence over the built-in ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from moosegen.build import generate

from tests.helpers import REPO, moosegen

REFERENCE = REPO / "tests" / "corpus" / "reference" / "specs"


def test_reference_example_builds_with_every_field(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(REFERENCE, specs)
    result = generate(specs)
    assert result.ok, [d.text() for d in result.diagnostics]
    assert result.project is not None
    (stream,) = result.project.streams
    spec = stream.spec
    assert (spec.version, spec.format, spec.compatibility, spec.key) == (
        1,
        "json",
        "BACKWARD",
        ["id"],
    )
    assert spec.topic.partitions == 6 and spec.topic.replication_factor == 3
    assert spec.topic.retention == 7 * 86_400_000
    assert (spec.topic.compression, spec.topic.cleanup_policy) == ("lz4", "delete")
    assert spec.topic.partition_key == ["user_id"]
    assert spec.topic.config == {"min.insync.replicas": "2"}
    assert spec.table is not False and spec.table.engine == "ReplacingMergeTree"
    assert spec.table.columns["user_id"].type == "LowCardinality(String)"
    assert [d.name for d in stream.destinations] == ["events", "analytics_events"]
    assert stream.destinations[1].schema.fullname == "com.example.events.AnalyticsEvent"
    assert (spec.transform, spec.route, spec.sync, spec.error_handler) == (
        "hooks.events:enrich",
        "hooks.events:route",
        "hooks.events:custom_sync",
        "hooks.events:on_error",
    )
    assert spec.consumers == ["hooks.events:notify"]
    assert (spec.dead_letter.topic, spec.dead_letter.max_retries, spec.dead_letter.retry_delay) == (
        "events-dlq",
        3,
        300_000,
    )
    assert (spec.batch.size, spec.batch.timeout) == (10_000, 5_000)
    assert spec.monitoring.port == 9464 and "lag" in spec.monitoring.metrics
    assert (spec.health_check.interval, spec.health_check.timeout) == (30_000, 10_000)
    topics = json.loads(result.files["events/topics.json"])["topics"]
    assert topics[0]["config"]["min.insync.replicas"] == "2"
    assert topics[0]["config"]["retention.ms"] == "604800000"


def test_user_templates_take_precedence(tmp_path: Path) -> None:
    templates = tmp_path / "templates" / "topics"
    templates.mkdir(parents=True)
    (templates / "topics.json.j2").write_text(
        '{"_generated": {{ header | json }}, "custom": true}\n'
    )
    out = tmp_path / "out"
    result = moosegen("build", "specs", "-o", str(out), "--templates", str(tmp_path / "templates"))
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "events" / "topics.json").read_text())["custom"] is True
    assert (out / "events" / "models.py").read_bytes() == (
        REPO / "generated/events/models.py"
    ).read_bytes()


def test_a_template_error_is_reported_not_raised(tmp_path: Path) -> None:
    templates = tmp_path / "templates" / "topics"
    templates.mkdir(parents=True)
    (templates / "topics.json.j2").write_text("{{ no_such_variable }}\n")
    result = moosegen(
        "build", "specs", "-o", str(tmp_path / "out"), "--templates", str(tmp_path / "templates")
    )
    assert result.returncode == 2
    assert "no_such_variable" in result.stderr and "Traceback" not in result.stderr
