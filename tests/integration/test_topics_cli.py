"""`moosegen topics apply` on the example project, against the real broker."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from moosegen.runtime.topics import describe_topic_configs

from tests.helpers import REPO, moosegen

pytestmark = pytest.mark.kafka


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The example specs under a fresh namespace, so every run gets its own topics."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "specs", root / "specs", ignore=shutil.ignore_patterns("__pycache__"))
    config = root / "specs" / "moosegen.yaml"
    config.write_text(config.read_text() + f"namespace: t{uuid.uuid4().hex[:8]}\n")
    events = root / "specs" / "events.yaml"
    events.write_text(events.read_text().replace("topic: events-dlq, ", ""))
    assert moosegen("build", "specs", cwd=root).returncode == 0
    return root


def generated_topics(root: Path) -> dict[str, dict[str, object]]:
    return {
        t["name"]: t
        for path in sorted((root / "generated").glob("*/topics.json"))
        for t in json.loads(path.read_text())["topics"]
    }


def test_apply_creates_every_topic_with_the_generated_configs(
    project: Path, kafka_bootstrap: str
) -> None:
    wanted = generated_topics(project)
    streams = [p for p in (project / "specs").glob("*.yaml") if p.name != "moosegen.yaml"]
    assert len(wanted) == 2 * len(streams)
    first = moosegen(
        "topics", "apply", "specs", "--bootstrap-servers", kafka_bootstrap, cwd=project
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("+ create topic") == len(wanted)
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    metadata = admin.list_topics(timeout=30)
    described = describe_topic_configs(admin, sorted(wanted))
    for name, topic in wanted.items():
        assert len(metadata.topics[name].partitions) == topic["partitions"]
        config = topic["config"]
        assert isinstance(config, dict)
        for key, value in config.items():
            assert described[name][key] == value, (name, key)
    again = moosegen(
        "topics", "apply", "specs", "--bootstrap-servers", kafka_bootstrap, cwd=project
    )
    assert again.returncode == 0
    assert again.stdout == ""
    assert "no changes" in again.stderr

    queries = project / "specs" / "queries.yaml"
    queries.write_text(
        queries.read_text().replace("partitions: 3, retention: 3d", "partitions: 4, retention: 1d")
    )
    dry = moosegen(
        "topics", "apply", "specs", "--bootstrap-servers", kafka_bootstrap, "--dry-run", cwd=project
    )
    assert "retention.ms 259200000 -> 86400000" in dry.stdout
    changed = moosegen(
        "topics", "apply", "specs", "--bootstrap-servers", kafka_bootstrap, cwd=project
    )
    assert changed.returncode == 0, changed.stderr
    name = next(n for n in wanted if n.endswith(".queries"))
    assert describe_topic_configs(admin, [name])[name]["retention.ms"] == "86400000"
    assert len(admin.list_topics(timeout=30).topics[name].partitions) == 4

    queries.write_text(queries.read_text().replace("partitions: 4", "partitions: 2"))
    refused = moosegen(
        "topics", "apply", "specs", "--bootstrap-servers", kafka_bootstrap, cwd=project
    )
    assert refused.returncode == 1
    assert "partitions" in refused.stderr and name in refused.stderr


def test_replication_above_broker_count_is_refused(project: Path, kafka_bootstrap: str) -> None:
    commands = project / "specs" / "commands.yaml"
    commands.write_text(
        commands.read_text().replace("partitions: 3,", "partitions: 3, replication_factor: 3,")
    )
    result = moosegen(
        "topics", "apply", "specs", "--bootstrap-servers", kafka_bootstrap, cwd=project
    )
    assert result.returncode == 1
    assert "replication factor 3" in result.stderr or "replication_factor" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_bootstrap_is_a_usage_error(project: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    result = moosegen("topics", "apply", "specs", cwd=project, env=env)
    assert result.returncode == 2
    assert "KAFKA_BOOTSTRAP_SERVERS" in result.stderr


def test_service_setup_applies_topics_and_migrations_idempotently(
    project: Path, kafka_bootstrap: str, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": f"{project}{os.pathsep}{os.environ['PYTHONPATH']}"}
    command = [
        sys.executable,
        "-m",
        "generated.queries",
        "setup",
        "--bootstrap-servers",
        kafka_bootstrap,
        "--clickhouse",
        f"chdb://{tmp_path / 'ch'}",
    ]
    first = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("+ create topic") == 2
    assert "migrations applied: 0001_create" in first.stdout
    second = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    assert second.returncode == 0, second.stderr
    assert "topics: no changes" in second.stdout
    assert "migrations applied: none" in second.stdout
