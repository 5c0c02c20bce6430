# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""A Confluent-compatible Schema Registry, as producers and services use it (stdlib only).

- `SchemaRegistry.from_env()`: SCHEMA_REGISTRY_URL, with basic auth from
  SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD; None when no URL is set.
- `schema_id_for(subject, schema)`: the registry's id of one schema of a subject (what a
  producer writes in the Confluent frame), cached.
- `schema(id)`: the writer schema of an id, fetched once and cached.
- `WriterResolver`: decodes Confluent-framed messages, learning unknown writer ids.

Errors: `RegistryUnavailable` when the registry cannot answer now (unreachable, 5xx,
refused credentials): the message is not at fault and must be kept. `RegistryRefused`
for a definite answer about the data (an id or a schema the registry does not know, an
incompatible schema). Both carry the HTTP status and Confluent `error_code`.

Registries differ (Confluent, Apicurio's ccompat API, Karapace): a subject or schema
that is not there is 40401 or 40403 depending on the server and the call, so both are
read as "not registered". Apicurio stores the schema text as given and compares texts
byte for byte, so every schema is sent in one form, `wire_text` (compact JSON).
"""

from __future__ import annotations

import base64
import json
import os
import struct
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Protocol

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
NOT_REGISTERED = {40401, 40403}  # subject not found | schema not found (server-dependent)
AUTH_STATUSES = {401, 403}
CONFLUENT_MAGIC = b"\x00"


class RegistryProblem(Exception):
    """A registry call that failed: `status` (HTTP, 0 without an answer) and `error_code`."""

    def __init__(self, message: str, status: int = 0, error_code: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class RegistryUnavailable(RegistryProblem):
    """The registry cannot answer now: retry later, the data is not at fault."""


class RegistryRefused(RegistryProblem):
    """The registry answered: it does not know the id or schema, or it refuses it."""

    @property
    def not_registered(self) -> bool:
        return self.status == 404 and self.error_code in NOT_REGISTERED

    @property
    def incompatible(self) -> bool:
        return self.status == 409


def wire_text(schema_json: str) -> str:
    """The one text sent for a schema: compact JSON, key order kept."""
    return json.dumps(json.loads(schema_json), separators=(",", ":"), ensure_ascii=False)


def _body(schema_json: str, schema_type: str) -> dict[str, str]:
    """A registration body; Avro, the registries' default type, goes without `schemaType`."""
    body = {"schema": wire_text(schema_json)}
    if schema_type != "AVRO":
        body["schemaType"] = schema_type
    return body


class SchemaRegistry:
    """The REST calls moosegen makes, with per-process caches of the answers."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._auth = (
            "Basic " + base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            if username
            else None
        )
        self._schemas: dict[int, str] = {}
        self._ids: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, url: str | None = None) -> SchemaRegistry | None:
        url = url or os.environ.get("SCHEMA_REGISTRY_URL")
        if not url:
            return None
        return cls(
            url,
            username=os.environ.get("SCHEMA_REGISTRY_USERNAME"),
            password=os.environ.get("SCHEMA_REGISTRY_PASSWORD"),
        )

    # -- transport ---------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None) -> Any:
        """One call; the decoded JSON answer, or RegistryUnavailable / RegistryRefused."""
        headers = {"Accept": f"{CONTENT_TYPE}, application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = CONTENT_TYPE
        if self._auth:
            headers["Authorization"] = self._auth
        where = f"{method} {self.url}{path}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise _http_problem(where, exc) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RegistryUnavailable(f"{where}: registry unreachable: {reason}") from None

    @staticmethod
    def quote(subject: str) -> str:
        return urllib.parse.quote(subject, safe="")

    # -- schemas and ids ---------------------------------------------------
    def schema(self, schema_id: int) -> str:
        """The schema text of a registry id (cached: ids are immutable)."""
        with self._lock:
            cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        answer = self.request("GET", f"/schemas/ids/{schema_id}")
        if answer.get("schemaType", "AVRO") != "AVRO":
            raise RegistryRefused(f"schema id {schema_id} is not an Avro schema", 200)
        text = str(answer["schema"])
        with self._lock:
            self._schemas[schema_id] = text
        return text

    def lookup(self, subject: str, schema_json: str, schema_type: str = "AVRO") -> int | None:
        """The id of `schema_json` under `subject`, or None when it is not registered there."""
        try:
            answer = self.request(
                "POST", f"/subjects/{self.quote(subject)}", _body(schema_json, schema_type)
            )
        except RegistryRefused as exc:
            if exc.not_registered:
                return None
            raise
        return int(answer["id"])

    def register(self, subject: str, schema_json: str, schema_type: str = "AVRO") -> int:
        """Register `schema_json` as the next version of `subject` (its id if already there)."""
        answer = self.request(
            "POST", f"/subjects/{self.quote(subject)}/versions", _body(schema_json, schema_type)
        )
        return int(answer["id"])

    def schema_id_for(self, subject: str, schema_json: str, *, register: bool = False) -> int:
        """The id a producer frames `schema_json` with; registered first when `register`."""
        key = (subject, wire_text(schema_json))
        with self._lock:
            cached = self._ids.get(key)
        if cached is not None:
            return cached
        found = self.lookup(subject, schema_json)
        if found is None and register:
            found = self.register(subject, schema_json)
        if found is None:
            raise RegistryRefused(
                f"{self.url}: the schema is not registered under subject {subject!r} "
                "(run `moosegen registry push`, or let the producer register it)",
                404,
                40403,
            )
        with self._lock:
            self._ids[key] = found
        return found


def _http_problem(where: str, exc: urllib.error.HTTPError) -> RegistryProblem:
    try:
        detail = json.loads(exc.read().decode("utf-8"))
        code = int(detail.get("error_code") or 0)
        message = str(detail.get("message") or "")
    except (ValueError, AttributeError, TypeError):
        code, message = 0, ""
    text = f"{where}: HTTP {exc.code}" + (f", error {code}" if code else "")
    text += f": {message}" if message else ""
    if exc.code in AUTH_STATUSES:
        return RegistryUnavailable(text + " (check SCHEMA_REGISTRY_USERNAME/PASSWORD)", exc.code)
    if exc.code >= 500 or exc.code == 429:
        return RegistryUnavailable(text, exc.code, code)
    return RegistryRefused(text, exc.code, code)


class WriterCodec(Protocol):
    """What `WriterResolver` needs of an `avro_codec.Codec`."""

    writers: dict[int, Any]

    def register_writer(self, schema_id: int, schema_json: str) -> None: ...

    def decode_confluent(self, data: bytes) -> dict[str, Any]: ...


class WriterResolver:
    """Decodes Confluent-framed messages with the embedded versions, and with writer
    schemas fetched from the registry for the ids the generated module does not know.

    An unknown id is fetched once: the codec keeps it (ids are immutable in a registry).
    The embedded ids are trusted, so a build deployed against a registry should carry that
    registry's ids (`moosegen registry push`, then `build` with `registry.url` set).
    """

    def __init__(self, codec: WriterCodec, registry: SchemaRegistry) -> None:
        self.codec = codec
        self.registry = registry

    def decode_confluent(self, data: bytes) -> dict[str, Any]:
        if data[:1] == CONFLUENT_MAGIC and len(data) >= 5:
            (schema_id,) = struct.unpack(">I", data[1:5])
            if schema_id not in self.codec.writers:
                self.codec.register_writer(schema_id, self.registry.schema(schema_id))
        return self.codec.decode_confluent(data)
