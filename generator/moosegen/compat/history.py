"""Schema history stores: the local registry folder, a git ref, a Schema Registry.

The local registry is committed next to the specs:

    <specs>/registry/index.json
        {"<subject>": [{"version": N, "id": ID, "fingerprint": "<hex>"}, ...], ...}
    <specs>/registry/<subject>/v<N>.avsc
        the full normalized schema (2-space JSON, trailing newline)
    <specs>/registry/<subject>/v<N>.schema.json
        a JSON Schema stream's version (its entry says `"schema_type": "JSON"`): the
        document as written, re-indented; its fingerprint is the first 16 hex digits of
        the SHA-256 of its canonical JSON (sorted keys, no spaces)

It is append-only state: a version file is never rewritten, ids are project-wide
and stable (max existing + 1), and a new version is planned only when the
normalized form differs from the latest registered one.

`moosegen registry push` adds, per version, the ids a live Schema Registry gave it:
`"registry_ids": {"<registry URL>": ID}`. The local `id` never changes; `build` frames
with the ids of the project's `registry.url` when every version has one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from moosegen.diagnostics import Diagnostic
from moosegen.runtime.registry import (
    NOT_REGISTERED,
    RegistryProblem,
    RegistryRefused,
    SchemaRegistry,
)
from moosegen.schema import canonical
from moosegen.schema.ir import AvroType, Record

INDEX = "index.json"
_VERSION_FILE = re.compile(r"v([1-9][0-9]*)\.avsc\Z")
_SUBJECT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*\Z")


class RegistryError(Exception):
    """The history cannot be read or written as asked; `problem`: a live registry's answer."""

    def __init__(self, message: str, problem: RegistryProblem | None = None) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class RegisteredVersion:
    subject: str
    version: int
    id: int
    fingerprint: str
    schema_json: str
    path: str | None = None
    registry_ids: Mapping[str, int] = field(default_factory=dict)
    schema_type: str = "AVRO"  # or "JSON": a JSON Schema

    @cached_property
    def parsed(self) -> AvroType:
        """The schema as IR, parsed once however many stages read this version."""
        from moosegen.compat import load_schema

        return load_schema(self.schema_json, self.path or "<registry>")


@dataclass(frozen=True)
class PlannedVersion:
    subject: str
    version: int
    id: int
    fingerprint: str
    schema_json: str
    path: str
    schema_type: str = "AVRO"


def json_schema_text(text: str) -> str:
    """The stored form of a JSON Schema: 2-space JSON in the author's key order."""
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def json_schema_fingerprint(text: str) -> str:
    canonical_json = json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical_json.encode("utf-8")).hexdigest()[:16]


def _file_name(version: int, schema_type: str) -> str:
    return f"v{version}.schema.json" if schema_type == "JSON" else f"v{version}.avsc"


def schema_text(node: AvroType) -> str:
    """The stored form of a schema: the full normalized JSON, indented, newline-terminated."""
    return json.dumps(canonical.to_json(node), indent=2, ensure_ascii=False) + "\n"


_FINGERPRINT = re.compile(r"[0-9a-f]{16}\Z")
_ENTRY_KEYS = {"version", "id", "fingerprint"}


def validate_registry(specs_dir: Path) -> list[Diagnostic]:
    """Located REGISTRY_INVALID errors for every malformed file of `<specs>/registry`.

    Run before anything reads or writes the registry, so that later reads can trust
    its shape, and a registry that is (or holds) a symlink out of the specs folder is
    refused before a version is written through it.
    """
    root = specs_dir / "registry"
    if not os.path.lexists(root):
        return []
    diags: list[Diagnostic] = []
    specs_real = os.path.realpath(specs_dir)

    def refuse(path: Path, message: str, line: int = 1, col: int = 1) -> None:
        diags.append(Diagnostic(_shown(path), line, col, "error", "REGISTRY_INVALID", message))

    def escapes(path: Path) -> bool:
        real = os.path.realpath(path)
        return os.path.commonpath([real, specs_real]) != specs_real

    if escapes(root):
        refuse(root, "the registry folder is a symlink that leaves the specs folder")
        return diags
    if not root.is_dir():
        refuse(root, "the registry must be a folder")
        return diags
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            entry = Path(dirpath, name)
            if entry.is_symlink() and escapes(entry):
                refuse(entry, "a symlink that leaves the specs folder")
    if diags:
        return diags
    index_path = root / INDEX
    # subject -> (version, fingerprint, schema type)
    entries: dict[str, list[tuple[int, str | None, str]]] = {}
    if os.path.lexists(index_path):
        _check_index(index_path, entries, diags)
    for subject_dir in sorted(root.iterdir()):
        if subject_dir.name == INDEX or not subject_dir.is_dir():
            continue
        if not _SUBJECT.match(subject_dir.name) or ".." in subject_dir.name:
            refuse(subject_dir, f"invalid subject folder name {subject_dir.name!r}")
            continue
        if subject_dir.name not in entries:
            entries[subject_dir.name] = [
                (int(m.group(1)), None, "AVRO")
                for p in sorted(subject_dir.iterdir())
                if (m := _VERSION_FILE.match(p.name))
            ]
    for subject, versions in sorted(entries.items()):
        for version, fingerprint, schema_type in versions:
            path = root / subject / _file_name(version, schema_type)
            if schema_type == "JSON":
                _check_json_version_file(path, fingerprint, diags)
            else:
                _check_version_file(path, fingerprint, diags)
    return diags


def _shown(path: Path) -> str:
    try:
        return str(Path(os.path.abspath(path)).relative_to(os.getcwd()))
    except ValueError:
        return str(path)


def _check_index(
    path: Path, entries: dict[str, list[tuple[int, str | None, str]]], diags: list[Diagnostic]
) -> None:
    from moosegen.sourcemap import LoadError, load_json
    from moosegen.spec.files import SourceFileError, read_text

    shown = _shown(path)
    try:
        data, smap = load_json(read_text(path, shown), shown)
    except (LoadError, SourceFileError) as exc:
        diags.append(replace(exc.diagnostic, code="REGISTRY_INVALID"))
        return

    def refuse(where: tuple[str | int, ...], message: str) -> None:
        diags.append(smap.diag(where, "REGISTRY_INVALID", message))

    if not isinstance(data, dict):
        refuse((), f"{INDEX} must be an object of subjects")
        return
    ids: dict[int, tuple[str | int, ...]] = {}
    for subject, versions in data.items():
        if not _SUBJECT.match(subject) or ".." in subject:
            diags.append(
                smap.diag((subject,), "REGISTRY_INVALID", f"invalid subject {subject!r}", key=True)
            )
            continue
        if not isinstance(versions, list):
            refuse((subject,), "a subject must list its versions")
            continue
        good: list[tuple[int, str | None, str]] = []
        for i, entry in enumerate(versions):
            where: tuple[str | int, ...] = (subject, i)
            if not isinstance(entry, dict) or not _ENTRY_KEYS <= set(entry) <= _ENTRY_KEYS | {
                "registry_ids",
                "schema_type",
            }:
                refuse(
                    where,
                    "a version entry has 'version', 'id', 'fingerprint' (and 'registry_ids', "
                    "'schema_type')",
                )
                break
            schema_type = entry.get("schema_type", "AVRO")
            if schema_type not in ("AVRO", "JSON"):
                refuse((*where, "schema_type"), "'schema_type' is AVRO or JSON")
                break
            pushed = entry.get("registry_ids", {})
            if not isinstance(pushed, dict) or not all(_positive_int(v) for v in pushed.values()):
                refuse((*where, "registry_ids"), "'registry_ids' maps registry URLs to schema ids")
                break
            number, schema_id, fingerprint = entry["version"], entry["id"], entry["fingerprint"]
            if not _positive_int(number) or number != i + 1:
                refuse((*where, "version"), f"expected version {i + 1}, got {number!r}")
            elif not _positive_int(schema_id):
                refuse((*where, "id"), f"a schema id must be a positive integer, not {schema_id!r}")
            elif schema_id in ids:
                line, col = smap.pos(ids[schema_id])
                refuse((*where, "id"), f"schema id {schema_id} is already used at {line}:{col}")
            elif not isinstance(fingerprint, str) or not _FINGERPRINT.match(fingerprint):
                refuse((*where, "fingerprint"), f"not a 16-digit hex fingerprint: {fingerprint!r}")
            else:
                ids[schema_id] = (*where, "id")
                good.append((number, fingerprint, schema_type))
                continue
            break  # later versions of this subject cannot be trusted either
        else:
            entries[subject] = good


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**31


def _check_version_file(path: Path, fingerprint: str | None, diags: list[Diagnostic]) -> None:
    from moosegen.schema.parse import SchemaSet
    from moosegen.sourcemap import LoadError, load_json
    from moosegen.spec.files import SourceFileError, read_text
    from moosegen.spec.text import text_problems

    shown = _shown(path)
    if not os.path.lexists(path):
        diags.append(
            Diagnostic(
                _shown(path.parent.parent / INDEX),
                1,
                1,
                "error",
                "REGISTRY_INVALID",
                f"lists {path.parent.name} v{path.stem[1:]} but {shown} is missing",
            )
        )
        return
    try:
        data, smap = load_json(read_text(path, shown), shown)
    except (SourceFileError, LoadError) as exc:
        diags.append(replace(exc.diagnostic, code="REGISTRY_INVALID"))
        return
    schemas = SchemaSet()
    schemas.register(data, smap)
    node = schemas.build(data, smap)
    found = text_problems(data, smap) + [d for d in schemas.diagnostics if d.severity == "error"]
    if not found and not isinstance(node, Record):
        found = [smap.diag((), "NOT_A_RECORD", "a registered schema must be an Avro record")]
    if found or node is None:
        diags.extend(
            replace(d, code="REGISTRY_INVALID", message=f"{d.code}: {d.message}", category="SPEC")
            for d in found
        )
        return
    if fingerprint is not None and canonical.fingerprint(node) != fingerprint:
        diags.append(
            Diagnostic(
                shown,
                1,
                1,
                "error",
                "REGISTRY_INVALID",
                f"the schema's fingerprint {canonical.fingerprint(node)} is not the "
                f"{fingerprint} of {INDEX}",
            )
        )


def _check_json_version_file(path: Path, fingerprint: str | None, diags: list[Diagnostic]) -> None:
    """A registered JSON Schema version: there, JSON, with the fingerprint of the index."""
    from moosegen.sourcemap import LoadError, load_json
    from moosegen.spec.files import SourceFileError, read_text

    shown = _shown(path)
    try:
        text = read_text(path, shown)
        load_json(text, shown)
    except (SourceFileError, LoadError) as exc:
        diags.append(replace(exc.diagnostic, code="REGISTRY_INVALID"))
        return
    found = json_schema_fingerprint(text)
    if fingerprint is not None and found != fingerprint:
        message = f"the schema's fingerprint {found} is not the {fingerprint} of {INDEX}"
        diags.append(Diagnostic(shown, 1, 1, "error", "REGISTRY_INVALID", message))


def _check_subject(subject: str) -> None:
    if not _SUBJECT.match(subject) or ".." in subject:
        raise RegistryError(f"invalid subject name {subject!r}")


class _LayoutReader:
    """Reads the registry layout through `_read(rel)`/`_list(rel)`; rel is relative to registry/."""

    def _read(self, rel: str) -> str | None:
        raise NotImplementedError

    def _list(self, rel: str) -> list[str]:
        raise NotImplementedError

    def _where(self, rel: str) -> str:
        raise NotImplementedError

    def index(self) -> dict[str, list[dict[str, Any]]]:
        text = self._read(INDEX)
        if text is None:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RegistryError(f"{self._where(INDEX)}: invalid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise RegistryError(f"{self._where(INDEX)}: expected an object of subjects")
        return data

    def subjects(self) -> list[str]:
        return sorted(self.index())

    def versions(self, subject: str) -> list[RegisteredVersion]:
        """Every registered version of `subject`, oldest first."""
        _check_subject(subject)
        entries = self.index().get(subject)
        if entries is None:  # no index entry: fall back to the files themselves
            numbers = sorted(
                int(m.group(1)) for name in self._list(subject) if (m := _VERSION_FILE.match(name))
            )
            entries = [{"version": n, "id": 0, "fingerprint": ""} for n in numbers]
        out = []
        for entry in sorted(entries, key=lambda e: e["version"]):
            schema_type = str(entry.get("schema_type", "AVRO"))
            rel = f"{subject}/{_file_name(int(entry['version']), schema_type)}"
            text = self._read(rel)
            if text is None:
                raise RegistryError(f"{self._where(rel)}: listed in {INDEX} but missing")
            out.append(
                RegisteredVersion(
                    subject,
                    int(entry["version"]),
                    int(entry["id"]),
                    str(entry["fingerprint"]),
                    text,
                    self._where(rel),
                    dict(entry.get("registry_ids") or {}),
                    schema_type,
                )
            )
        return out

    def latest(self, subject: str) -> RegisteredVersion | None:
        versions = self.versions(subject)
        return versions[-1] if versions else None


class LocalRegistry(_LayoutReader):
    """The registry folder under a specs directory."""

    def __init__(self, specs_dir: str | os.PathLike[str]) -> None:
        self.specs_dir = Path(specs_dir)
        self.root = self.specs_dir / "registry"
        # Read once per instance (and so parsed once, see RegisteredVersion.parsed);
        # every write below forgets it.
        self._versions: dict[str, list[RegisteredVersion]] = {}

    def versions(self, subject: str) -> list[RegisteredVersion]:
        if subject not in self._versions:
            self._versions[subject] = super().versions(subject)
        return list(self._versions[subject])

    def _read(self, rel: str) -> str | None:
        path = self.root / rel
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def _list(self, rel: str) -> list[str]:
        path = self.root / rel
        return sorted(p.name for p in path.iterdir()) if path.is_dir() else []

    def _where(self, rel: str) -> str:
        return str(self.root / rel)

    def plan(self, subject: str, node: AvroType) -> PlannedVersion | None:
        """The next version of `subject` for `node`, or None when it is already the latest."""
        _check_subject(subject)
        latest = self.latest(subject)
        if latest is not None:
            if canonical.normalized_form(latest.parsed) == canonical.normalized_form(node):
                return None
        ids = [int(e["id"]) for entries in self.index().values() for e in entries]
        version = latest.version + 1 if latest else 1
        return PlannedVersion(
            subject,
            version,
            max(ids, default=0) + 1,
            canonical.fingerprint(node),
            schema_text(node),
            str(self.root / subject / f"v{version}.avsc"),
        )

    def plan_json(self, subject: str, text: str) -> PlannedVersion | None:
        """The next version of `subject` for the JSON Schema `text` (None: unchanged)."""
        _check_subject(subject)
        latest = self.latest(subject)
        fingerprint = json_schema_fingerprint(text)
        if latest is not None and latest.schema_type == "JSON":
            if json_schema_fingerprint(latest.schema_json) == fingerprint:
                return None
        ids = [int(e["id"]) for entries in self.index().values() for e in entries]
        version = latest.version + 1 if latest else 1
        return PlannedVersion(
            subject,
            version,
            max(ids, default=0) + 1,
            fingerprint,
            json_schema_text(text),
            str(self.root / subject / _file_name(version, "JSON")),
            "JSON",
        )

    def write(self, planned: PlannedVersion) -> RegisteredVersion:
        """Append `planned`; refuses to overwrite a version or reuse an id (a stale plan)."""
        index = self.index()
        entries = index.setdefault(planned.subject, [])
        path = self.root / planned.subject / _file_name(planned.version, planned.schema_type)
        if path.exists() or any(e["version"] == planned.version for e in entries):
            raise RegistryError(
                f"{path}: version {planned.version} of {planned.subject!r} is "
                "already registered; the registry is append-only"
            )
        expected = max((e["version"] for e in entries), default=0) + 1
        if planned.version != expected:
            raise RegistryError(
                f"{planned.subject!r}: next version is {expected}, "
                f"not {planned.version} (stale plan)"
            )
        if any(int(e["id"]) == planned.id for es in index.values() for e in es):
            raise RegistryError(f"schema id {planned.id} is already taken (stale plan)")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8", newline="\n") as fh:
            fh.write(planned.schema_json)
        entry: dict[str, Any] = {
            "version": planned.version,
            "id": planned.id,
            "fingerprint": planned.fingerprint,
        }
        if planned.schema_type != "AVRO":
            entry["schema_type"] = planned.schema_type
        entries.append(entry)
        self._write_index(index)
        return RegisteredVersion(
            planned.subject,
            planned.version,
            planned.id,
            planned.fingerprint,
            planned.schema_json,
            str(path),
            schema_type=planned.schema_type,
        )

    def record_registry_ids(self, url: str, ids: Mapping[str, Mapping[int, int]]) -> list[str]:
        """Record `ids` (subject -> version -> id) as the ids of the registry at `url`;
        returns what changed (an id of another run of that registry is replaced)."""
        index = self.index()
        changed = []
        for subject, by_version in sorted(ids.items()):
            for entry in index.get(subject, []):
                new = by_version.get(int(entry["version"]))
                if new is None:
                    continue
                recorded = entry.setdefault("registry_ids", {})
                old = recorded.get(url)
                if old != new:
                    recorded[url] = new
                    was = "" if old is None else f" (was {old})"
                    changed.append(f"recorded id {new}{was} of {subject} v{entry['version']}")
        if changed:
            self._write_index(index)
        return changed

    def _write_index(self, index: dict[str, list[dict[str, Any]]]) -> None:
        self._versions.clear()
        tmp = self.root / (INDEX + ".tmp")
        tmp.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.root / INDEX)


class GitRefHistory(_LayoutReader):
    """The registry as committed at a git ref, read with `git show`/`git ls-tree` (no checkout).

    Works in a shallow clone as long as `ref` itself has been fetched.
    """

    def __init__(
        self, repo_dir: str | os.PathLike[str], ref: str, specs_rel: str = "specs"
    ) -> None:
        self.repo_dir = Path(repo_dir)
        self.ref = ref
        self.base = PurePosixPath(specs_rel.strip("/") or ".") / "registry"
        commit = self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if commit is None:
            raise RegistryError(f"git ref {ref!r} is not known in {repo_dir} (fetch it first)")
        self.commit = commit.strip()

    def _git(self, *args: str) -> str | None:
        proc = subprocess.run(
            ["git", "-C", str(self.repo_dir), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
        )
        return proc.stdout if proc.returncode == 0 else None

    def _read(self, rel: str) -> str | None:
        return self._git("show", f"{self.commit}:{self.base / rel}")

    def _list(self, rel: str) -> list[str]:
        out = self._git("ls-tree", "--name-only", f"{self.commit}:{self.base / rel}")
        return sorted(out.split()) if out else []

    def _where(self, rel: str) -> str:
        return f"{self.ref}:{self.base / rel}"


class SchemaRegistryClient:
    """A Confluent-compatible Schema Registry over its REST API (urllib only).

    Basic auth comes from SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD. Every
    failure is a RegistryError whose `problem` tells an unavailable registry (unreachable,
    refused credentials, 5xx) from a definite answer (unknown subject, incompatible).
    """

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.http = SchemaRegistry(
            self.url,
            username=os.environ.get("SCHEMA_REGISTRY_USERNAME"),
            password=os.environ.get("SCHEMA_REGISTRY_PASSWORD"),
            timeout=timeout,
        )

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return self.http.request(method, path, body)
        except RegistryProblem as exc:
            raise RegistryError(str(exc), exc) from None

    def _q(self, subject: str) -> str:
        return self.http.quote(subject)

    def subjects(self) -> list[str]:
        return sorted(self._request("GET", "/subjects"))

    def version_numbers(self, subject: str) -> list[int]:
        return sorted(self._request("GET", f"/subjects/{self._q(subject)}/versions"))

    def version(self, subject: str, version: int | str) -> RegisteredVersion:
        data = self._request("GET", f"/subjects/{self._q(subject)}/versions/{version}")
        schema_type = str(data.get("schemaType", "AVRO"))
        if schema_type not in ("AVRO", "JSON"):
            raise RegistryError(f"{subject} v{data.get('version')}: a {schema_type} schema")
        text = data["schema"]
        return RegisteredVersion(
            subject,
            int(data["version"]),
            int(data["id"]),
            json_schema_fingerprint(text) if schema_type == "JSON" else _fingerprint_or_empty(text),
            text,
            f"{self.url}/subjects/{subject}/versions/{data['version']}",
            schema_type=schema_type,
        )

    def versions(self, subject: str) -> list[RegisteredVersion]:
        try:
            numbers = self.version_numbers(subject)
        except RegistryError as exc:
            if _not_registered(exc):  # no such subject: no history yet
                return []
            raise
        return [self.version(subject, n) for n in numbers]

    def latest(self, subject: str) -> RegisteredVersion | None:
        versions = self.versions(subject)
        return versions[-1] if versions else None

    def test_compatibility(
        self, subject: str, schema_json: str, version: int | str = "latest"
    ) -> tuple[bool, list[str]]:
        """The registry's own verdict (POST /compatibility/...), with its messages
        (Confluent: `messages`; Apicurio: one `reason`)."""
        data = self._request(
            "POST",
            f"/compatibility/subjects/{self._q(subject)}/versions/{version}?verbose=true",
            {"schema": schema_json},
        )
        messages = data.get("messages") or ([data["reason"]] if data.get("reason") else [])
        return bool(data.get("is_compatible")), [str(m) for m in messages]

    def compatibility(self, subject: str) -> str | None:
        """The subject's own compatibility level; None when it has none (or no subject).

        Confluent answers 40408 for a subject without its own level, Apicurio 40401 for an
        unknown subject and its global default (NONE) for a known one.
        """
        try:
            data = self._request("GET", f"/config/{self._q(subject)}")
        except RegistryError as exc:
            if _not_registered(exc) or (exc.problem and exc.problem.error_code == 40408):
                return None
            raise
        level = data.get("compatibilityLevel") or data.get("compatibility")
        return str(level) if level else None

    def set_compatibility(self, subject: str, mode: str) -> None:
        self._request("PUT", f"/config/{self._q(subject)}", {"compatibility": mode})

    def lookup(self, subject: str, schema_json: str, schema_type: str = "AVRO") -> int | None:
        """The id of `schema_json` under `subject`; None when it is not one of its versions."""
        try:
            return self.http.lookup(subject, schema_json, schema_type)
        except RegistryProblem as exc:
            raise RegistryError(str(exc), exc) from None

    def register(self, subject: str, schema_json: str, schema_type: str = "AVRO") -> int:
        try:
            return self.http.register(subject, schema_json, schema_type)
        except RegistryProblem as exc:
            raise RegistryError(str(exc), exc) from None


def _not_registered(exc: RegistryError) -> bool:
    problem = exc.problem
    return isinstance(problem, RegistryRefused) and problem.error_code in NOT_REGISTERED


def _fingerprint_or_empty(text: str) -> str:
    from moosegen.compat import SchemaError, load_schema

    try:
        return canonical.fingerprint(load_schema(text))
    except SchemaError:
        return ""
