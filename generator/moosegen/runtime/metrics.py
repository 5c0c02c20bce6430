# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Prometheus metrics and the /metrics, /health, /ready HTTP endpoints (one server)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
SIZE_BUCKETS = (1, 10, 100, 500, 1000, 5000, 10_000, 50_000, 100_000, 1_000_000)


class Metrics:
    def __init__(self, stream: str) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "moosegen_messages_total", "Source messages consumed", ["stream"], registry=r
        ).labels(stream)
        self.rows = Counter(
            "moosegen_rows_inserted_total",
            "Rows stored per destination",
            ["stream", "destination"],
            registry=r,
        )
        self.errors = Counter(
            "moosegen_errors_total", "Failures by stage", ["stream", "stage"], registry=r
        )
        self.dead_lettered = Counter(
            "moosegen_dead_lettered_total",
            "Messages written to the dead-letter topic",
            ["stream", "error_type"],
            registry=r,
        )
        self.retries = Counter(
            "moosegen_retries_total",
            "Failures scheduled for another attempt, by stage",
            ["stream", "stage"],
            registry=r,
        )
        self.held = Gauge(
            "moosegen_partitions_held",
            "Partitions paused while one of their records awaits a retry",
            ["stream"],
            registry=r,
        ).labels(stream)
        self.dropped = Counter(
            "moosegen_dropped_total",
            "Messages dropped by the error handler",
            ["stream"],
            registry=r,
        ).labels(stream)
        self.latency = Histogram(
            "moosegen_end_to_end_latency_seconds",
            "Message timestamp to stored",
            ["stream"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        ).labels(stream)
        self.insert_latency = Histogram(
            "moosegen_insert_latency_seconds",
            "Duration of one block insert",
            ["stream", "destination"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "moosegen_batch_size",
            "Messages per batch",
            ["stream"],
            buckets=SIZE_BUCKETS,
            registry=r,
        ).labels(stream)
        self.lag = Gauge(
            "moosegen_consumer_lag",
            "High watermark minus position",
            ["stream", "partition"],
            registry=r,
        )
        self.stream = stream


class Health:
    """Liveness and readiness as seen by the consume loop."""

    def __init__(self, interval_s: float, timeout_s: float) -> None:
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.started = time.monotonic()
        self.last_progress = 0.0
        self.kafka_ok = False
        self.clickhouse_ok = False
        self.lock = threading.Lock()

    def progress(self) -> None:
        self.last_progress = time.monotonic()

    def ready(self) -> tuple[bool, str]:
        if not self.kafka_ok:
            return False, "kafka not connected"
        if not self.clickhouse_ok:
            return False, "clickhouse not reachable"
        if time.monotonic() - self.last_progress > self.interval_s + self.timeout_s:
            return False, "no progress"
        return True, "ready"


def serve(
    port: int, metrics: Metrics | None, health: Health, host: str = "0.0.0.0"
) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            if path == "/metrics" and metrics is not None:
                self._send(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
            elif path == "/health":
                self._send(200, b"ok\n", "text/plain")
            elif path == "/ready":
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
