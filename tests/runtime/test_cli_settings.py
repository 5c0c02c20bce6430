"""Flags and environment of the service CLI: static membership, session timeout, extra
consumer settings (secrets from the environment only), the worker timeout."""

from __future__ import annotations

import socket

import pytest
from moosegen.runtime import cli
from moosegen.runtime.config import DeadLetterConfig, ServiceConfig
from moosegen.runtime.runner import Runner

from tests.runtime import events_models

BASE = ServiceConfig(stream="events", topic="events", models=events_models, destinations=(),
                     dead_letter=DeadLetterConfig("dlq"), metrics_port=9464)
ENV = ("MOOSEGEN_INSTANCE_ID", "MOOSEGEN_SESSION_TIMEOUT_MS", "MOOSEGEN_CONSUMER_CONFIG",
       "MOOSEGEN_WORKER_TIMEOUT", "MOOSEGEN_METRICS_PORT")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli.logs, "configure", lambda level: None)


def parse(*argv: str) -> ServiceConfig:
    return cli.parse(BASE, ["run", *argv])[1]


def test_dynamic_membership_by_default() -> None:
    cfg = parse()
    assert (cfg.instance_id, cfg.session_timeout_ms, cfg.consumer_config) == ("", 0, {})
    assert cfg.worker_timeout_s == 30.0


def test_instance_id_flag_env_and_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse("--instance-id", "pod-7.events").instance_id == "pod-7.events"
    monkeypatch.setenv("MOOSEGEN_INSTANCE_ID", "from-env")
    assert parse().instance_id == "from-env"
    assert parse("--instance-id", "flag-wins").instance_id == "flag-wins"
    # auto: host, stream and metrics port — two instances on one host differ by port
    monkeypatch.setattr(socket, "gethostname", lambda: "web 1")
    a = parse("--instance-id", "auto")
    b = parse("--instance-id", "auto", "--metrics-port", "9465")
    assert (a.instance_id, b.instance_id) == ("web-1.events.9464", "web-1.events.9465")


def test_bad_instance_id_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse("--instance-id", "has space")
    assert exc.value.code == 2
    assert "instance id 'has space'" in capsys.readouterr().err


def test_session_timeout_units(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse("--session-timeout", "45s").session_timeout_ms == 45_000
    monkeypatch.setenv("MOOSEGEN_SESSION_TIMEOUT_MS", "6000")
    assert parse().session_timeout_ms == 6000
    with pytest.raises(SystemExit):
        parse("--session-timeout", "soon")


def test_consumer_config_from_env_then_flags(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MOOSEGEN_CONSUMER_CONFIG",
                       "partition.assignment.strategy=range,roundrobin; fetch.min.bytes=1\n"
                       "sasl.password=from-env")
    cfg = parse("--consumer-config", "fetch.min.bytes=1024",
                "--consumer-config", "heartbeat.interval.ms=500")
    assert cfg.consumer_config == {"partition.assignment.strategy": "range,roundrobin",
                                   "fetch.min.bytes": "1024", "heartbeat.interval.ms": "500",
                                   "sasl.password": "from-env"}
    with pytest.raises(SystemExit):
        parse("--consumer-config", "sasl.password=hunter2")
    assert "secrets are read from the environment only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse("--consumer-config", "no-equals-sign")


def test_consumer_receives_membership_and_extra_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import confluent_kafka

    seen: list[dict[str, object]] = []

    class Recorder:
        def __init__(self, conf: dict[str, object]) -> None:
            seen.append(conf)

    monkeypatch.setattr(confluent_kafka, "Consumer", Recorder)
    cfg = parse("--instance-id", "i-1", "--session-timeout", "45000",
                "--consumer-config", "session.timeout.ms=50000",
                "--worker-timeout", "5")
    r = Runner(cfg, producer=object(), client=object())
    r.connect()
    conf = seen[0]
    assert conf["group.instance.id"] == "i-1"
    assert conf["session.timeout.ms"] == "50000"  # an explicit consumer setting wins
    assert cfg.worker_timeout_s == 5.0
