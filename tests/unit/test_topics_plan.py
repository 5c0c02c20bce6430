"""The topics plan: what `topics apply`, the service's `setup` and `topics.json` all carry."""

from __future__ import annotations

import json

from moosegen.build import generate, load_units
from moosegen.runtime import topics as kafka_topics
from moosegen.targets import topics

from tests.helpers import REPO


def test_the_exported_topics_json_is_the_plan() -> None:
    loaded = load_units(REPO / "specs")
    result = generate(REPO / "specs")
    assert loaded.units and result.ok
    for unit in loaded.units:
        plan = topics.plan(unit)
        exported = json.loads(result.files[f"{unit.stream.package}/{topics.TOPICS_FILE}"])
        assert kafka_topics.parse_topics(exported) == [
            kafka_topics.TopicConfig(t.name, t.partitions, t.replication_factor, t.config)
            for t in plan.topics
        ]


def test_the_dead_letter_topic_is_never_compacted() -> None:
    units = {u.stream.package: u for u in load_units(REPO / "specs").units}
    plan = topics.plan(units["domain_events"])
    assert plan.topic.config["cleanup.policy"] == "compact"
    assert plan.dead_letter.config["cleanup.policy"] == "delete"
    assert plan.dead_letter.name == "domain_events-dlq"
    assert list(plan.topic.config) == sorted(plan.topic.config)


def test_load_units_stops_at_spec_errors() -> None:
    loaded = load_units(REPO / "tests" / "errors" / "bad_compression" / "specs")
    assert loaded.units == [] and any(d.severity == "error" for d in loaded.diagnostics)
