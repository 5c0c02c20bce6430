# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Liveness, readiness and the periodic health check (`health_check.interval` / `timeout`).

Every interval, three checks run side by side, each in its own thread: `kafka` (topic
metadata), `clickhouse` (`SELECT 1`) and `progress` (messages wait in an assigned,
not held partition, yet nothing was stored for longer than the stall bound). A check
that raises, or has not answered within the timeout, fails; a check still running
from the previous interval is not started again and fails too. `/ready` answers 503
while the last run of any check failed (or the consume loop itself sees an outage).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .metrics import Metrics

log = logging.getLogger("moosegen.runtime.health")

# A check: given its timeout in seconds, return normally when healthy, raise otherwise.
Probe = Callable[[float], None]


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    duration_s: float
    started: float = 0.0  # time.monotonic() when the run began


class Stalled(Exception):
    """Messages are waiting but nothing has been stored for longer than the bound."""


class Health:
    """What the consume loop reports (connections, heartbeat, last store) and the last
    result of every periodic check."""

    def __init__(self, interval_s: float, timeout_s: float) -> None:
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.started = time.monotonic()
        self.last_progress = 0.0
        self.stored_at = time.monotonic()
        self.kafka_ok = False
        self.clickhouse_ok = False
        self.results: dict[str, CheckResult] = {}
        self.lock = threading.Lock()

    def progress(self) -> None:
        """The consume loop's heartbeat."""
        self.last_progress = time.monotonic()

    def stored(self) -> None:
        """A block's end was committed (stored or dead-lettered)."""
        self.stored_at = time.monotonic()

    def record(self, results: Iterable[CheckResult]) -> None:
        with self.lock:
            self.results = {r.name: r for r in results}

    def ready(self) -> tuple[bool, str]:
        if not self.kafka_ok:
            return False, "kafka not connected"
        if not self.clickhouse_ok:
            return False, "clickhouse not reachable"
        if time.monotonic() - self.last_progress > self.interval_s + self.timeout_s:
            return False, "no progress"
        with self.lock:
            # A block stored after a failed run began is newer evidence: it proves Kafka,
            # ClickHouse and progress (so a recovery shows at once, not an interval later).
            failed = [r for r in self.results.values() if not r.ok and r.started >= self.stored_at]
        if failed:
            return False, "; ".join(f"{r.name} check failed: {r.detail}" for r in failed)
        return True, "ready"


class LazyHandle:
    """A client made on first use, for the checks only: a check never calls into the consume
    loop's own Kafka consumer (a call from another thread can block until the loop polls
    again, which a stalled loop never does) nor overlaps queries on its ClickHouse session."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make
        self.handle: Any = None
        self.lock = threading.Lock()

    def __call__(self) -> Any:
        with self.lock:
            if self.handle is None:
                self.handle = self.make()
            return self.handle

    def close(self) -> None:
        with self.lock:
            handle, self.handle = self.handle, None
        if handle is not None and hasattr(handle, "close"):
            handle.close()


class HealthChecker:
    """Runs the probes every `interval_s` (the first run at once) in a daemon thread."""

    def __init__(
        self,
        health: Health,
        metrics: Metrics,
        probes: dict[str, Probe],
        interval_s: float,
        timeout_s: float,
        handles: Iterable[LazyHandle] = (),
    ) -> None:
        self.health = health
        self.handles = list(handles)
        self.metrics = metrics
        self.probes = probes
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.running: dict[str, threading.Thread] = {}
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, name="moosegen-health", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop checking; waits (bounded) for checks in flight, which use the consumer."""
        self.stopping.set()
        deadline = time.monotonic() + self.timeout_s + 1
        threads = [t for t in [self.thread, *self.running.values()] if t is not None]
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if not any(t.is_alive() for t in threads):  # else a call in flight still uses them
            for handle in self.handles:
                handle.close()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                self.run_once()
            except Exception as exc:  # noqa: BLE001 - a broken check must not end checking
                log.error("health check error: %s", exc, extra={"event": "health_error"})
            self.stopping.wait(self.interval_s)

    def run_once(self) -> list[CheckResult]:
        boxes: dict[str, dict[str, Any]] = {}
        skipped: list[CheckResult] = []
        for name, probe in self.probes.items():
            previous = self.running.get(name)
            if previous is not None and previous.is_alive():
                skipped.append(CheckResult(name, False, "still running", self.timeout_s))
                continue
            box: dict[str, Any] = {}
            t = threading.Thread(
                target=self._call, args=(probe, box), name=f"moosegen-check-{name}", daemon=True
            )
            boxes[name] = box
            self.running[name] = t
            t.start()
        started = time.monotonic()
        deadline = started + self.timeout_s
        results = [dataclasses.replace(r, started=started) for r in skipped]
        for name, box in boxes.items():
            t = self.running[name]
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive() or "duration" not in box:
                detail = f"timed out after {self.timeout_s:g}s"
                results.append(CheckResult(name, False, detail, self.timeout_s, started))
            elif box["error"] is not None:
                results.append(CheckResult(name, False, box["error"], box["duration"], started))
            else:
                results.append(CheckResult(name, True, "ok", box["duration"], started))
        self._observe(results)
        self.health.record(results)
        return results

    def _call(self, probe: Probe, box: dict[str, Any]) -> None:
        started = time.perf_counter()
        error: str | None = None
        try:
            probe(self.timeout_s)
        except Exception as exc:  # noqa: BLE001 - any failure is the check's verdict
            error = str(exc) or type(exc).__name__
        box["error"] = error
        box["duration"] = time.perf_counter() - started

    def _observe(self, results: list[CheckResult]) -> None:
        m, stream = self.metrics, self.metrics.stream
        for r in results:
            m.check_duration.labels(stream, r.name).observe(r.duration_s)
            m.check_up.labels(stream, r.name).set(1 if r.ok else 0)
            if not r.ok:
                m.check_failures.labels(stream, r.name).inc()
                log.warning(
                    "health check %s failed: %s",
                    r.name,
                    r.detail,
                    extra={"event": "health_check_failed", "check": r.name},
                )


def kafka_probe(consumer: Callable[[], Any], topic: str) -> Probe:
    """Topic metadata from the brokers, through the Kafka client `consumer()` returns."""

    def check(timeout: float) -> None:
        md = consumer().list_topics(topic, timeout=timeout)
        found = md.topics.get(topic)
        if found is None or found.error is not None:
            raise RuntimeError(f"topic {topic!r}: {getattr(found, 'error', 'not found')}")

    return check


def clickhouse_probe(client: Callable[[], Any]) -> Probe:
    """`SELECT 1` through the client `client()` returns (connected on first use)."""

    def check(timeout: float) -> None:
        client().query("SELECT 1")

    return check


def kafka_waiting(
    consumer: Callable[[], Any], topic: str, partitions: Callable[[], list[int]]
) -> Callable[[float], int]:
    """Messages waiting in `partitions()`: high watermark minus the group's committed offset,
    read through `consumer()` (a client of the same group that never joins it)."""

    def waiting(timeout: float) -> int:
        from confluent_kafka import TopicPartition

        tps = [TopicPartition(topic, p) for p in partitions()]
        if not tps:
            return 0
        total = 0
        c = consumer()
        for tp in c.committed(tps, timeout=timeout):
            low, high = c.get_watermark_offsets(tp, timeout=timeout, cached=False)
            committed = tp.offset if tp.offset >= 0 else low
            total += max(0, high - committed)
        return total

    return waiting


def progress_probe(health: Health, waiting: Callable[[float], int], stall_after_s: float) -> Probe:
    """Fails when messages have been waiting, with nothing stored, for over `stall_after_s`
    (counted from the later of the last store and the first check that saw them wait)."""
    seen: dict[str, float] = {}

    def check(timeout: float) -> None:
        n = waiting(timeout)
        now = time.monotonic()
        if n <= 0:
            seen.clear()
            return
        since = max(health.stored_at, seen.setdefault("waiting", now))
        if now - since > stall_after_s:
            raise Stalled(
                f"{n} messages waiting, nothing stored for {now - since:.0f}s "
                f"(bound {stall_after_s:g}s)"
            )

    return check
