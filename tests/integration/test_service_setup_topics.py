"""A generated service's `setup` creates its topics from the settings embedded in its
configuration (topics.json is only the exported, reviewable copy)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from moosegen.runtime.topics import describe_topic_configs

from tests.helpers import REPO, moosegen

pytestmark = pytest.mark.kafka


def _setup(root: Path, bootstrap: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(root / "specs")  # the hooks; the service needs no moosegen
    args = ["setup", "--bootstrap-servers", bootstrap, "--clickhouse", f"chdb://{root}/chdb"]
    return subprocess.run(
        [sys.executable, "-m", "generated.domain_events", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_setup_applies_the_embedded_topics(tmp_path: Path, kafka_bootstrap: str) -> None:
    root = tmp_path / "project"
    shutil.copytree(REPO / "specs", root / "specs", ignore=shutil.ignore_patterns("__pycache__"))
    config = root / "specs" / "moosegen.yaml"
    config.write_text(config.read_text() + f"namespace: s{uuid.uuid4().hex[:8]}\n")
    assert moosegen("build", "specs", cwd=root).returncode == 0
    exported = root / "generated" / "domain_events" / "topics.json"
    wanted = {t["name"]: t for t in json.loads(exported.read_text())["topics"]}
    exported.unlink()  # setup must not need it

    first = _setup(root, kafka_bootstrap)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("+ create topic") == 2
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    metadata = admin.list_topics(timeout=30)
    described = describe_topic_configs(admin, sorted(wanted))
    for name, topic in wanted.items():
        assert len(metadata.topics[name].partitions) == topic["partitions"]
        for key, value in topic["config"].items():
            assert described[name][key] == value, (name, key)

    again = _setup(root, kafka_bootstrap)
    assert again.returncode == 0, again.stderr
    assert "topics: no changes" in again.stdout
