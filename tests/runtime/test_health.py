"""The periodic health check (runtime/health.py) and the metric families (runtime/metrics.py),
driven directly: every state of /ready, a check slower than its timeout, a stalled consumer,
and the values the metrics report."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from prometheus_client import generate_latest

from moosegen.runtime.config import METRIC_FAMILIES
from moosegen.runtime.health import (
    Health,
    HealthChecker,
    Stalled,
    clickhouse_probe,
    progress_probe,
)
from moosegen.runtime.metrics import Metrics


def ready_health() -> Health:
    health = Health(interval_s=60, timeout_s=1)
    health.kafka_ok = health.clickhouse_ok = True
    health.progress()
    return health


def ok(timeout: float) -> None:
    pass


def fails(timeout: float) -> None:
    raise ConnectionRefusedError("connection refused")


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    value = metrics.registry.get_sample_value(name, {"stream": "s", **labels})
    return value


def test_all_checks_pass_and_ready() -> None:
    health, metrics = ready_health(), Metrics("s")
    checker = HealthChecker(health, metrics, {"kafka": ok, "clickhouse": ok}, 60, 1)
    results = checker.run_once()
    assert sorted((r.name, r.ok) for r in results) == [("clickhouse", True), ("kafka", True)]
    assert health.ready() == (True, "ready")
    assert sample(metrics, "moosegen_health_check_duration_seconds_count", check="kafka") == 1
    assert sample(metrics, "moosegen_health_check_up", check="kafka") == 1
    assert sample(metrics, "moosegen_health_check_failures_total", check="kafka") is None


def test_a_failing_check_makes_not_ready_and_counts_a_failure() -> None:
    health, metrics = ready_health(), Metrics("s")
    checker = HealthChecker(health, metrics, {"kafka": ok, "clickhouse": fails}, 60, 1)
    checker.run_once()
    checker.run_once()
    ready, why = health.ready()
    assert not ready
    assert why == "clickhouse check failed: connection refused"
    assert sample(metrics, "moosegen_health_check_failures_total", check="clickhouse") == 2
    assert sample(metrics, "moosegen_health_check_up", check="clickhouse") == 0
    assert sample(metrics, "moosegen_health_check_up", check="kafka") == 1
    # the next run passes: /ready follows the last result
    checker.probes["clickhouse"] = ok
    checker.run_once()
    assert health.ready() == (True, "ready")


def test_a_check_slower_than_its_timeout_fails_and_is_not_started_twice() -> None:
    health, metrics = ready_health(), Metrics("s")
    release = threading.Event()
    calls: list[float] = []

    def hangs(timeout: float) -> None:
        calls.append(timeout)
        release.wait(30)

    checker = HealthChecker(health, metrics, {"clickhouse": hangs}, 60, 0.2)
    try:
        first = checker.run_once()
        assert [(r.ok, r.detail) for r in first] == [(False, "timed out after 0.2s")]
        assert first[0].duration_s == 0.2
        second = checker.run_once()  # the first call still hangs: not started again
        assert [(r.ok, r.detail) for r in second] == [(False, "still running")]
        assert calls == [0.2]
        assert health.ready()[0] is False
        assert sample(metrics, "moosegen_health_check_failures_total", check="clickhouse") == 2
        assert sample(metrics, "moosegen_health_check_duration_seconds_sum",
                      check="clickhouse") == pytest.approx(0.4)
    finally:
        release.set()
        checker.stop()


def test_progress_waiting_with_stores_is_healthy() -> None:
    health = ready_health()
    probe = progress_probe(health, lambda timeout: 5, stall_after_s=0.2)
    probe(1)
    time.sleep(0.3)
    health.stored()  # a block was stored meanwhile
    probe(1)


def test_progress_stalled_consumer_fails() -> None:
    health = ready_health()
    waiting = [0]
    probe = progress_probe(health, lambda timeout: waiting[0], stall_after_s=0.2)
    probe(1)  # nothing waits
    time.sleep(0.3)
    waiting[0] = 3
    probe(1)  # waiting is first seen now: the bound starts here, not at the last store
    time.sleep(0.3)
    with pytest.raises(Stalled, match="3 messages waiting, nothing stored for"):
        probe(1)
    waiting[0] = 0  # caught up: healthy again, and the bound restarts next time
    probe(1)
    waiting[0] = 1
    probe(1)


def test_stalled_consumer_through_the_checker() -> None:
    health, metrics = ready_health(), Metrics("s")
    probe = progress_probe(health, lambda timeout: 7, stall_after_s=0.1)
    checker = HealthChecker(health, metrics, {"progress": probe}, 60, 1)
    checker.run_once()
    assert health.ready() == (True, "ready")
    time.sleep(0.2)
    checker.run_once()
    ready, why = health.ready()
    assert not ready and why.startswith("progress check failed: 7 messages waiting")


def test_the_loop_signals_still_count() -> None:
    health = ready_health()
    health.clickhouse_ok = False  # an insert is backing off
    assert health.ready() == (False, "clickhouse not reachable")


def test_checker_thread_runs_periodically_and_stops() -> None:
    health, metrics = ready_health(), Metrics("s")
    runs: list[int] = []
    checker = HealthChecker(health, metrics, {"kafka": lambda t: runs.append(1)}, 0.05, 1)
    checker.start()
    deadline = time.monotonic() + 10
    while len(runs) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    checker.stop()
    assert len(runs) >= 3
    assert checker.thread is not None and not checker.thread.is_alive()


def test_clickhouse_probe_runs_select_1() -> None:
    queries: list[str] = []

    class Client:
        def query(self, sql: str) -> Any:
            queries.append(sql)

    clickhouse_probe(lambda: Client())(1)
    assert queries == ["SELECT 1"]


class Msg:
    def __init__(self, ts_ms: int) -> None:
        self.ts_ms = ts_ms

    def timestamp(self) -> tuple[int, int]:
        return (1 if self.ts_ms else 0, self.ts_ms)


def test_latency_is_observed_per_stored_message() -> None:
    metrics = Metrics("s")
    now_ms = int(time.time() * 1000)
    msgs = [Msg(now_ms - 2000) for _ in range(4)] + [Msg(0)]  # the last has no timestamp
    metrics.stored(msgs, skip={id(msgs[0])})  # msgs[0] was dead-lettered
    count = sample(metrics, "moosegen_end_to_end_latency_seconds_count")
    assert count == 3
    assert sample(metrics, "moosegen_end_to_end_latency_seconds_bucket", le="1.0") == 0
    assert sample(metrics, "moosegen_end_to_end_latency_seconds_bucket", le="2.5") == 3
    assert sample(metrics, "moosegen_end_to_end_latency_seconds_bucket", le="+Inf") == 3
    total = sample(metrics, "moosegen_end_to_end_latency_seconds_sum")
    assert total is not None and 6.0 <= total < 6.5


def test_bulk_histogram_counts_each_value_in_the_first_bucket_that_holds_it() -> None:
    from prometheus_client import CollectorRegistry

    from moosegen.runtime.metrics import BulkHistogram

    bounds = (0.5, 1, 2.5)
    hist = BulkHistogram("h", "doc", {}, bounds, CollectorRegistry())
    values = [0.0, 0.5, 0.5000001, 1.0, 2.4, 2.5, 2.6, 100.0, 0.2]
    hist.observe_many(values)
    hist.observe_many([1.0])
    # le semantics: a value on a bound counts there; the rest go to +Inf.
    assert hist.counts == [3, 3, 2, 2]
    assert hist.count == 10
    assert abs(hist.sum - (sum(values) + 1.0)) < 1e-9
    hist.observe_many([])
    assert hist.count == 10


def test_selected_families_only_are_served() -> None:
    metrics = Metrics("s", ("throughput", "error-rate"))
    metrics.messages.inc(3)
    metrics.errors.labels("s", "decode").inc()
    metrics.lag.labels("s", "0").set(5)
    metrics.dead_lettered.labels("s", "invalid").inc()
    text = generate_latest(metrics.registry).decode()
    assert 'moosegen_messages_total{stream="s"} 3.0' in text
    assert 'moosegen_errors_total{stage="decode",stream="s"} 1.0' in text
    for absent in ("moosegen_consumer_lag", "moosegen_dead_lettered_total",
                   "moosegen_end_to_end_latency_seconds", "moosegen_batch_size"):
        assert absent not in text
    assert "moosegen_health_check_duration_seconds" in text  # the checks' own, always


def test_every_family_by_default() -> None:
    text = generate_latest(Metrics("s").registry).decode()
    assert METRIC_FAMILIES == ("throughput", "latency", "error-rate", "lag", "dead-letter",
                               "batch-size")
    for name in ("moosegen_messages_total", "moosegen_end_to_end_latency_seconds",
                 "moosegen_insert_latency_seconds", "moosegen_batch_size",
                 "moosegen_partitions_held"):
        assert name in text


def test_a_block_stored_after_a_failed_run_supersedes_it() -> None:
    """A stored block proves Kafka, ClickHouse and progress: a recovery shows at once."""
    health, metrics = ready_health(), Metrics("s")
    checker = HealthChecker(health, metrics, {"clickhouse": fails}, 60, 1)
    checker.run_once()
    assert health.ready()[0] is False
    health.stored()
    assert health.ready() == (True, "ready")
    checker.run_once()  # failing again after that store: not ready again
    assert health.ready() == (False, "clickhouse check failed: connection refused")
