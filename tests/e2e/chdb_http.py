"""A minimal ClickHouse HTTP front for one chdb folder, so that several service processes
can store into one engine (chdb locks its folder for one process).

Test scaffolding, not a server: one request at a time, loopback only. It speaks what
clickhouse-connect's HTTP client sends: queries (their own FORMAT clause answers), inserts
with their data in the body (plain or chunked, lz4/zstd/gzip), `insert_*`/`async_insert`
settings, `param_*` query parameters and the `database` from the URL, errors as HTTP 500
with "Code: N" like a server.

Run: python chdb_http.py <chdb folder> <port>
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

INSERT_RE = re.compile(rb"\s*(INSERT\s.*?)\s+FORMAT\s+(\w+)[ \t]*\r?\n", re.S | re.I)
PASSED_SETTINGS = re.compile(r"^(insert_|async_insert|input_format_|date_time_input_format)")


def _decompress(data: bytes, encoding: str) -> bytes:
    if encoding in ("", "identity"):
        return data
    if encoding == "lz4":
        import lz4.frame

        return bytes(lz4.frame.decompress(data))
    if encoding == "zstd":
        import zstandard

        return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(data))
    if encoding == "gzip":
        import gzip

        return gzip.decompress(data)
    raise ValueError(f"unsupported Content-Encoding {encoding}")


def make_handler(conn: Any, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    out += self.rfile.read(size)
                    self.rfile.readline()
                data = bytes(out)
            else:
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return _decompress(data, self.headers.get("Content-Encoding", "").lower())

        def _reply(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            for k, v in {"Content-Type": "application/octet-stream",
                         "X-ClickHouse-Timezone": "UTC", **(headers or {})}.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            url = urllib.parse.urlparse(self.path)
            if url.path in ("/ping", "/"):
                params = dict(urllib.parse.parse_qsl(url.query))
                if "query" not in params:
                    self._reply(200, b"Ok.\n")
                    return
            self.do_POST()

        def do_POST(self) -> None:  # noqa: N802
            url = urllib.parse.urlparse(self.path)
            params = dict(urllib.parse.parse_qsl(url.query))
            body = self._body() if self.command == "POST" else b""
            query = params.get("query", "").encode()
            full = query + b"\n" + body if query and body else query or body
            settings = {k: v for k, v in params.items() if PASSED_SETTINGS.match(k)}
            bound = {k[len("param_"):]: v for k, v in params.items() if k.startswith("param_")}
            database = params.get("database", "default").replace("`", "")
            try:
                with lock:
                    conn.query(f"USE `{database}`")  # the engine's one session: per request
                    out = self._run(full, settings, bound)
                self._reply(200, out, {"X-ClickHouse-Summary": json.dumps(
                    {"read_rows": "0", "written_rows": "0"})})
            except Exception as exc:  # noqa: BLE001 - answered like a server would
                text = str(exc)
                code = re.search(r"Code:\s*(\d+)", text)
                self._reply(500, text.encode(),
                            {"X-ClickHouse-Exception-Code": code.group(1) if code else "1000"})

        def _run(self, full: bytes, settings: dict[str, str], bound: dict[str, str]) -> bytes:
            m = INSERT_RE.match(full)
            if m and full[m.end():]:
                with tempfile.NamedTemporaryFile(suffix=".data", delete=False) as fh:
                    fh.write(full[m.end():])
                try:
                    clause = ", ".join(f"{k} = '{v}'" for k, v in settings.items()
                                       if re.fullmatch(r"\w+", k) and "'" not in v)
                    sql = (f"{m.group(1).decode()} FROM INFILE '{fh.name}'"
                           f"{' SETTINGS ' + clause if clause else ''}"
                           f" FORMAT {m.group(2).decode()}")
                    conn.query(sql, "TabSeparated")
                finally:
                    os.unlink(fh.name)
                return b""
            res = conn.query(full.decode(), "TabSeparated", params=bound or None)
            return res.bytes() or b""

    return Handler


def main() -> None:
    import chdb

    folder, port = sys.argv[1], int(sys.argv[2])
    conn = chdb.connect(folder)
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(conn, threading.Lock()))
    server.serve_forever()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChdbFront:
    """The front over `folder` in a child process, on a port that stays the same across
    `stop()` and `start()` (a ClickHouse that goes away and comes back)."""

    def __init__(self, tmp: Path, folder: Path) -> None:
        self.tmp, self.folder, self.port = tmp, folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}/default"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.tmp / "chdb_http.log", "a") as log:
            self.proc = subprocess.Popen([sys.executable, __file__, str(self.folder),
                                          str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ping", timeout=2):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("the chdb HTTP front did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextlib.contextmanager
def serve_chdb(tmp: Path, folder: Path) -> Iterator[str]:
    """Run the front over `folder` in a child process; yields its URL (http://.../default)."""
    front = ChdbFront(tmp, folder)
    try:
        front.start()
        yield front.url
    finally:
        front.stop()


def http_query(url: str, sql: str) -> list[list[Any]]:
    """Rows of a query through the front (JSONCompact)."""
    req = urllib.request.Request(url.rsplit("/", 1)[0] + "/", data=f"{sql} FORMAT JSONCompact"
                                 .encode(), method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        rows: list[list[Any]] = json.loads(r.read())["data"]
    return rows


if __name__ == "__main__":
    main()
