# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Prometheus metrics and the /metrics, /health, /ready HTTP endpoints (one server).

`monitoring.metrics` selects the families served; the others are still counted (the
runner never branches on them) but in a registry nobody serves.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from operator import methodcaller
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .config import METRIC_FAMILIES

if TYPE_CHECKING:
    from .health import Health

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_TIMESTAMP = methodcaller("timestamp")
SIZE_BUCKETS = (1, 10, 100, 500, 1000, 5000, 10_000, 50_000, 100_000, 1_000_000)


class BulkHistogram:
    """A one-series histogram fed a whole block of observations at once: one lock and
    one pass, so observing every message's latency stays cheap on the hot path."""

    def __init__(
        self,
        name: str,
        doc: str,
        labels: dict[str, str],
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ) -> None:
        self.name, self.doc, self.labels = name, doc, labels
        self.upper = [float(b) for b in buckets] + [float("inf")]
        self.counts = [0] * len(self.upper)
        self.sum = 0.0
        self.lock = threading.Lock()
        registry.register(self)

    def observe_many(self, values: Iterable[float]) -> None:
        """Counts per bucket from the sorted values (C-level sort and bisect, no Python
        step per value); a value on a bound counts in that bucket (Prometheus `le`)."""
        ordered = sorted(values)
        below = [bisect_right(ordered, le) for le in self.upper]
        below[-1] = len(ordered)  # NaN sorts anywhere; the +Inf bucket holds every value
        counts = [n - m for n, m in zip(below, [0, *below[:-1]], strict=True)]
        total = sum(ordered)
        with self.lock:
            self.counts = [a + b for a, b in zip(self.counts, counts, strict=True)]
            self.sum += total

    @property
    def count(self) -> int:
        return sum(self.counts)

    def collect(self) -> Iterator[Metric]:
        with self.lock:
            counts, total = list(self.counts), self.sum
        family = HistogramMetricFamily(self.name, self.doc, labels=list(self.labels))
        cumulative, buckets = 0, []
        for le, n in zip(self.upper, counts, strict=True):
            cumulative += n
            buckets.append((_le(le), float(cumulative)))
        family.add_metric(list(self.labels.values()), buckets, total)
        yield family


def _le(bound: float) -> str:
    """A bucket bound as Prometheus' own histograms write it (`0.5`, `1.0`, `+Inf`)."""
    return "+Inf" if bound == float("inf") else repr(bound)


class Metrics:
    def __init__(self, stream: str, families: Sequence[str] = METRIC_FAMILIES) -> None:
        self.registry = CollectorRegistry()
        unserved = CollectorRegistry()
        selected = set(families)

        def reg(family: str) -> CollectorRegistry:
            return self.registry if family in selected else unserved

        self.messages = Counter(
            "moosegen_messages_total",
            "Source messages consumed",
            ["stream"],
            registry=reg("throughput"),
        ).labels(stream)
        self.rows = Counter(
            "moosegen_rows_inserted_total",
            "Rows stored per destination",
            ["stream", "destination"],
            registry=reg("throughput"),
        )
        self.deletes = Counter(
            "moosegen_tombstone_deletes_total",
            "Keys deleted by tombstones of a compacted topic, per destination",
            ["stream", "destination"],
            registry=reg("throughput"),
        )
        self.errors = Counter(
            "moosegen_errors_total",
            "Failures by stage",
            ["stream", "stage"],
            registry=reg("error-rate"),
        )
        self.retries = Counter(
            "moosegen_retries_total",
            "Failures scheduled for another attempt, by stage",
            ["stream", "stage"],
            registry=reg("error-rate"),
        )
        self.dropped = Counter(
            "moosegen_dropped_total",
            "Messages dropped by the error handler",
            ["stream"],
            registry=reg("error-rate"),
        ).labels(stream)
        self.dead_lettered = Counter(
            "moosegen_dead_lettered_total",
            "Messages written to the dead-letter topic",
            ["stream", "error_type"],
            registry=reg("dead-letter"),
        )
        self.latency = BulkHistogram(
            "moosegen_end_to_end_latency_seconds",
            "Source message timestamp to stored, per message",
            {"stream": stream},
            LATENCY_BUCKETS,
            reg("latency"),
        )
        self.insert_latency = Histogram(
            "moosegen_insert_latency_seconds",
            "Duration of one block insert",
            ["stream", "destination"],
            buckets=LATENCY_BUCKETS,
            registry=reg("latency"),
        )
        self.batch_size = Histogram(
            "moosegen_batch_size",
            "Messages per batch",
            ["stream"],
            buckets=SIZE_BUCKETS,
            registry=reg("batch-size"),
        ).labels(stream)
        self.held = Gauge(
            "moosegen_partitions_held",
            "Partitions paused while one of their records awaits a retry",
            ["stream"],
            registry=reg("batch-size"),
        ).labels(stream)
        self.lag = Gauge(
            "moosegen_consumer_lag",
            "High watermark minus position",
            ["stream", "partition"],
            registry=reg("lag"),
        )
        # The periodic health checks' own metrics: always served with /metrics.
        self.check_duration = Histogram(
            "moosegen_health_check_duration_seconds",
            "Duration of one health check (a timed-out check counts its timeout)",
            ["stream", "check"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.check_failures = Counter(
            "moosegen_health_check_failures_total",
            "Failed (or timed-out) health checks",
            ["stream", "check"],
            registry=self.registry,
        )
        self.check_up = Gauge(
            "moosegen_health_check_up",
            "1 when the last run of the check passed, else 0",
            ["stream", "check"],
            registry=self.registry,
        )
        self.stream = stream

    def stored(self, msgs: Sequence[Any], skip: set[int]) -> None:
        """Observe the end-to-end latency of every stored source message (`skip`: ids of
        messages not stored, e.g. dead-lettered); messages without a timestamp are not."""
        now_ms = time.time() * 1000
        kept = [m for m in msgs if id(m) not in skip] if skip else msgs
        latencies = [
            max(0.0, now_ms - ts) / 1000 for kind, ts in map(_TIMESTAMP, kept) if kind and ts > 0
        ]
        if latencies:
            self.latency.observe_many(latencies)


def serve(
    port: int, metrics: Metrics | None, health: Health | None, host: str = "0.0.0.0"
) -> ThreadingHTTPServer:
    """Serve /metrics (when `metrics`) and /health, /ready (when `health`); else 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            if path == "/metrics" and metrics is not None:
                self._send(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
            elif path == "/health" and health is not None:
                self._send(200, b"ok\n", "text/plain")
            elif path == "/ready" and health is not None:
                ok, why = health.ready()
                self._send(200 if ok else 503, why.encode() + b"\n", "text/plain")
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="moosegen-http", daemon=True).start()
    return server
