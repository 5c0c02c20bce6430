"""Replays recorded Schema Registry REST exchanges from a local http.server.

Confluent's own registry and Karapace are not on the reachable package registries, so
these replay exchanges shaped as the Confluent REST API documents them; tests/registry
runs against a live Apicurio Registry (scripts/schema-registry) for the rest.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Exchanges = Mapping[tuple[str, str], tuple[int, Any]]


def _not_found(path: str) -> tuple[int, Any]:
    """Confluent's answers for what was not recorded: an unknown subject, or any path."""
    match = re.fullmatch(r"/subjects/([^/?]+)/versions", path)
    if match:
        return 404, {"error_code": 40401, "message": f"Subject '{match.group(1)}' not found."}
    return 404, {"error_code": 404, "message": "HTTP 404 Not Found"}


@contextmanager
def serve_exchanges(exchanges: Exchanges) -> Iterator[tuple[str, list[Any]]]:
    """Yield (base URL, requests seen); unrecorded requests get Confluent's 404 answers."""
    seen: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            seen.append((method, self.path, self.headers.get("Authorization"),
                         self.headers.get("Content-Type"), body))
            status, payload = exchanges.get((method, self.path)) or _not_found(self.path)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._answer("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._answer("POST")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
