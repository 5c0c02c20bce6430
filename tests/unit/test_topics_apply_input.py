"""topics_apply without a broker: input validation, change text, client settings."""

from __future__ import annotations

import subprocess
import sys

import pytest
from moosegen.runtime import topics as ta


def test_parse_topics_reads_the_topics_json_shape() -> None:
    doc = {
        "topics": [
            {
                "name": "events",
                "partitions": 6,
                "replication_factor": 3,
                "config": {"retention.ms": "604800000", "min.insync.replicas": 2},
            }
        ]
    }
    assert ta.parse_topics(doc) == [
        ta.TopicConfig("events", 6, 3, {"retention.ms": "604800000", "min.insync.replicas": "2"})
    ]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({}, "expected an object with a 'topics' list"),
        ({"topics": [{"partitions": 1, "replication_factor": 1}]}, "'name' must be"),
        ({"topics": [{"name": "a", "partitions": 0, "replication_factor": 1}]}, "'partitions'"),
        ({"topics": [{"name": "a", "partitions": 1, "replication_factor": True}]}, "replication"),
        (
            {"topics": [{"name": "a", "partitions": 1, "replication_factor": 1, "config": []}]},
            "config",
        ),
        (
            {"topics": [{"name": "a", "partitions": 1, "replication_factor": 1}] * 2},
            "topic a is listed twice",
        ),
    ],
)
def test_parse_topics_rejects_bad_input(doc: dict, message: str) -> None:
    with pytest.raises(ta.TopicsApplyError, match=message):
        ta.parse_topics(doc)


def test_change_lines() -> None:
    topic = ta.TopicConfig("events", 6, 3, {"retention.ms": "604800000", "compression.type": "lz4"})
    assert ta.CreateTopic(topic).describe() == (
        "+ create topic events (partitions=6, replication_factor=3, "
        "retention.ms=604800000, compression.type=lz4)"
    )
    assert ta.SetConfig("events", "retention.ms", "604800000", "86400000").describe() == (
        "~ events: retention.ms 604800000 -> 86400000"
    )
    assert ta.SetConfig("events", "x.y", None, "1").describe() == "~ events: x.y (unset) -> 1"
    assert ta.AddPartitions("events", 3, 6).describe() == "~ events: partitions 3 -> 6"


def test_client_config_from_env() -> None:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": "b1:9092,b2:9092",
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": "svc",
        "KAFKA_SASL_PASSWORD": "secret",
        "KAFKA_SSL_CA_LOCATION": "/etc/ca.pem",
        "KAFKA_UNRELATED": "x",
    }
    assert ta.client_config_from_env(env) == {
        "bootstrap.servers": "b1:9092,b2:9092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "svc",
        "sasl.password": "secret",
        "ssl.ca.location": "/etc/ca.pem",
    }
    assert ta.client_config_from_env({"KAFKA_SASL_USERNAME": ""}) == {}


def test_apply_without_bootstrap_is_a_clear_error() -> None:
    with pytest.raises(ta.TopicsApplyError, match="KAFKA_BOOTSTRAP_SERVERS"):
        ta.apply(None, [], client_config={})


def test_importing_the_module_does_not_import_confluent_kafka() -> None:
    code = "import sys, moosegen.runtime.topics; print('confluent_kafka' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
