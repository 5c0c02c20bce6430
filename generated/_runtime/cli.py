# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""`python -m generated.<stream> run|setup`: flags first, then environment, then defaults.

Secrets (CLICKHOUSE_PASSWORD, KAFKA_SASL_PASSWORD, ...) are read from the
environment only, never from flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence

from . import lifecycle, logs
from .config import ServiceConfig
from .hooks import HookError
from .membership import (
    SettingError,
    consumer_settings,
    instance_id,
    milliseconds,
    split_env_entries,
)

log = logging.getLogger("moosegen.runtime.cli")


def parse(config: ServiceConfig, argv: Sequence[str] | None) -> tuple[str, ServiceConfig]:
    ap = argparse.ArgumentParser(
        prog=f"python -m generated.{config.stream}",
        description=f"consumer service of stream {config.stream!r}",
    )
    ap.add_argument("command", choices=["run", "setup"], nargs="?", default="run")
    ap.add_argument("--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    ap.add_argument(
        "--clickhouse",
        default=os.environ.get("CLICKHOUSE_URL"),
        help="http(s)://host:port/db or chdb:///path (default: local chdb folder)",
    )
    ap.add_argument("--group-id", default=os.environ.get("MOOSEGEN_GROUP_ID"))
    ap.add_argument("--metrics-port", type=int, default=_env_int("MOOSEGEN_METRICS_PORT"))
    ap.add_argument("--registry-url", default=os.environ.get("SCHEMA_REGISTRY_URL"))
    ap.add_argument(
        "--hooks-path",
        action="append",
        default=[],
        help="folder to put on sys.path before resolving hooks (repeatable)",
    )
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--batch-timeout-ms", type=int, default=None)
    ap.add_argument(
        "--idle-exit",
        type=float,
        default=None,
        help="exit after this many seconds without messages (0: never)",
    )
    ap.add_argument(
        "--max-message-bytes",
        type=int,
        default=_env_int("MOOSEGEN_MAX_MESSAGE_BYTES"),
        help="dead-letter larger source messages (default: the topic's max.message.bytes, "
        "else 8 MiB)",
    )
    ap.add_argument(
        "--max-backoff",
        type=float,
        default=None,
        help="longest wait, in seconds, between retries of an unreachable Kafka or ClickHouse",
    )
    ap.add_argument(
        "--workers",
        type=int,
        default=_env_int("MOOSEGEN_WORKERS"),
        help="processes that decode/validate/build blocks of the plain path beside this one "
        "(1: all in process; default min(2, CPUs))",
    )
    ap.add_argument(
        "--worker-timeout",
        type=float,
        default=_env_float("MOOSEGEN_WORKER_TIMEOUT"),
        help="seconds (plus 1 ms a record) after which a block the workers have not "
        "prepared is prepared in process and the workers replaced (default 30)",
    )
    ap.add_argument(
        "--instance-id",
        default=os.environ.get("MOOSEGEN_INSTANCE_ID", ""),
        help="static group membership: this instance's group.instance.id, unique in the "
        "group ('auto': <host>.<stream>.<metrics port>); a restart with the same id gets "
        "its partitions back at once (default: dynamic membership)",
    )
    ap.add_argument(
        "--session-timeout",
        default=os.environ.get("MOOSEGEN_SESSION_TIMEOUT_MS"),
        help="consumer session timeout (ms, or e.g. 45s): how long the group waits for a "
        "silent member before moving its partitions",
    )
    ap.add_argument(
        "--consumer-config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any librdkafka consumer setting (repeatable; also MOOSEGEN_CONSUMER_CONFIG, "
        "entries separated by ';'); secrets only from the environment",
    )
    ap.add_argument(
        "--stall-after",
        type=float,
        default=_env_float("MOOSEGEN_STALL_AFTER"),
        help="seconds messages may wait with nothing stored before the progress health "
        "check fails (default: health_check.interval plus batch.timeout)",
    )
    ap.add_argument(
        "--rejoin-after",
        type=float,
        default=_env_float("MOOSEGEN_REJOIN_AFTER"),
        help="seconds the consumer may be out of its group (no partitions, no member id) "
        "before it is made anew (default 30; 0 = never)",
    )
    ap.add_argument("--log-level", default=os.environ.get("MOOSEGEN_LOG_LEVEL", "INFO"))
    args = ap.parse_args(argv)
    changes: dict[str, object] = {}
    if args.bootstrap_servers:
        changes["bootstrap_servers"] = args.bootstrap_servers
    if args.clickhouse:
        changes["clickhouse_url"] = args.clickhouse
    if args.group_id:
        changes["group_id"] = args.group_id
    if args.metrics_port is not None:
        changes["metrics_port"] = args.metrics_port
    if args.registry_url:
        changes["registry_url"] = args.registry_url
    if args.batch_size:
        changes["batch_size"] = args.batch_size
    if args.batch_timeout_ms:
        changes["batch_timeout_ms"] = args.batch_timeout_ms
    if args.max_message_bytes:
        changes["max_message_bytes"] = args.max_message_bytes
    if args.max_backoff:
        changes["max_backoff_s"] = args.max_backoff
    if args.workers is not None:
        changes["workers"] = max(1, args.workers)
    if args.idle_exit is not None:
        changes["idle_exit_s"] = args.idle_exit
    if args.stall_after is not None:
        changes["stall_after_ms"] = int(args.stall_after * 1000)
    if args.rejoin_after is not None:
        changes["rejoin_after_s"] = max(0.0, args.rejoin_after)
    if args.worker_timeout is not None:
        changes["worker_timeout_s"] = args.worker_timeout
    try:
        port = args.metrics_port if args.metrics_port is not None else config.metrics_port
        changes["instance_id"] = instance_id(args.instance_id, config.stream, port)
        if args.session_timeout:
            changes["session_timeout_ms"] = milliseconds(args.session_timeout, "session timeout")
        consumer = dict(config.consumer_config)
        env_entries = split_env_entries(os.environ.get("MOOSEGEN_CONSUMER_CONFIG", ""))
        consumer.update(consumer_settings(env_entries, "MOOSEGEN_CONSUMER_CONFIG", True))
        consumer.update(consumer_settings(args.consumer_config, "--consumer-config", False))
        changes["consumer_config"] = consumer
    except SettingError as exc:
        ap.error(str(exc))
    kafka: dict[str, str] = dict(config.kafka_config)
    for env, key in (
        ("KAFKA_SECURITY_PROTOCOL", "security.protocol"),
        ("KAFKA_SASL_MECHANISM", "sasl.mechanisms"),
        ("KAFKA_SASL_USERNAME", "sasl.username"),
        ("KAFKA_SASL_PASSWORD", "sasl.password"),
    ):
        if os.environ.get(env):
            kafka[key] = os.environ[env]
    changes["kafka_config"] = kafka
    for folder in reversed(args.hooks_path):
        sys.path.insert(0, os.path.abspath(folder))
    logs.configure(args.log_level)
    return args.command, dataclasses.replace(config, **changes)  # type: ignore[arg-type]


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


def _env_float(name: str) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else None


def main(config: ServiceConfig, argv: Sequence[str] | None = None) -> int:
    lifecycle.install()  # before anything slow, so an early SIGTERM is a clean stop too
    command, cfg = parse(config, argv)
    if command == "setup":
        from .runner import connect_clickhouse
        from .setup import apply_sql_folder, apply_topics
        from .topics import TopicsApplyError

        if cfg.topics:
            try:
                changes = apply_topics(cfg.bootstrap_servers, cfg.topics, dict(cfg.kafka_config))
            except TopicsApplyError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            print("\n".join(changes) if changes else "topics: no changes")
        if cfg.migrations_dir is not None and cfg.migrations_dir.is_dir():
            client = connect_clickhouse(cfg.clickhouse_url, cfg.database)
            applied = apply_sql_folder(client, cfg.migrations_dir, cfg.stream, cfg.database)
            print(f"migrations applied: {', '.join(applied) or 'none'}")
        return 0
    from .runner import Runner

    try:
        runner = Runner(cfg)
    except HookError as exc:
        log.error("%s", exc, extra={"event": "hook_error"})
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return runner.run()
