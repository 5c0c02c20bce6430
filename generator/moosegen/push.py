"""`moosegen registry push`: the local schema history into a live Schema Registry.

Each stream's versions (`specs/registry/<subject>/vN.avsc`) are registered in order under
the subject `<topic>-value`, after the subject's compatibility level is set from the spec,
so the registry checks every version as moosegen did. The ids the registry answers are
recorded beside the local history (see compat.history). A version already there is only
looked up: pushing twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from moosegen.build import compat_findings, is_current
from moosegen.compat.history import (
    LocalRegistry,
    RegisteredVersion,
    RegistryError,
    SchemaRegistryClient,
)
from moosegen.diagnostics import Diagnostic
from moosegen.runtime.registry import RegistryRefused
from moosegen.spec.load import LoadedStream, Project


@dataclass
class PushResult:
    changes: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def registry_subject(stream: LoadedStream) -> str:
    """Confluent's default subject naming (TopicNameStrategy): the topic and "-value"."""
    return f"{stream.topic}-value"


def push(project: Project, local: LocalRegistry, client: SchemaRegistryClient) -> PushResult:
    """Register every stream's versions; RegistryError when the registry cannot answer."""
    result = PushResult()
    ids: dict[str, dict[int, int]] = {}
    try:
        _push_streams(project, local, client, result, ids)
    finally:  # what was registered before an outage is recorded too
        result.changes += local.record_registry_ids(client.url, ids)
    return result


def _push_streams(
    project: Project,
    local: LocalRegistry,
    client: SchemaRegistryClient,
    result: PushResult,
    ids: dict[str, dict[int, int]],
) -> None:
    for stream in sorted(project.streams, key=lambda s: s.subject):
        versions = local.versions(stream.subject)
        if not versions or not is_current(stream, versions[-1]):
            result.diagnostics.append(
                _at_schema(
                    stream,
                    "warning",
                    "REGISTRY_UNBUILT",
                    f"the schema of {stream.subject} is not registered locally yet; "
                    "run `moosegen build` first (only built versions are pushed)",
                )
            )
        if versions:
            mode = stream.spec.compatibility or project.config.compatibility
            ids[stream.subject] = {}
            _push_stream(stream, versions, mode, client, result, ids[stream.subject])


def _push_stream(
    stream: LoadedStream,
    versions: list[RegisteredVersion],
    mode: str,
    client: SchemaRegistryClient,
    result: PushResult,
    ids: dict[int, int],
) -> None:
    """Push one stream's versions in order, filling `ids` (local version -> registry id)."""
    subject = registry_subject(stream)
    if client.compatibility(subject) != mode:
        client.set_compatibility(subject, mode)
        result.changes.append(f"set compatibility of {subject} to {mode}")
    for version in versions:
        found = client.lookup(subject, version.schema_json, version.schema_type)
        if found is None:
            try:
                found = client.register(subject, version.schema_json, version.schema_type)
            except RegistryError as exc:
                if not (isinstance(exc.problem, RegistryRefused) and exc.problem.incompatible):
                    raise
                result.diagnostics += _refused(stream, version, mode, client, exc)
                break  # later versions would be checked against a history it lacks
            result.changes.append(f"registered {subject} v{version.version} (id {found})")
        ids[version.version] = found


def unpushed(
    project: Project, local: LocalRegistry, client: SchemaRegistryClient
) -> list[Diagnostic]:
    """A warning for every stream with local versions the registry does not have."""
    out = []
    for stream in sorted(project.streams, key=lambda s: s.subject):
        live = {v.fingerprint for v in client.versions(registry_subject(stream))}
        missing = [v.version for v in local.versions(stream.subject) if v.fingerprint not in live]
        if missing:
            numbers = ", ".join(f"v{n}" for n in missing)
            out.append(
                _at_schema(
                    stream,
                    "warning",
                    "REGISTRY_NOT_PUSHED",
                    f"{numbers} of {stream.subject} not in {client.url} as "
                    f"{registry_subject(stream)}; run `moosegen registry push`",
                )
            )
    return out


def _refused(
    stream: LoadedStream,
    version: RegisteredVersion,
    mode: str,
    client: SchemaRegistryClient,
    exc: RegistryError,
) -> list[Diagnostic]:
    """The registry's 409, at the schema's location, with moosegen's own located findings
    against the registry's history of the subject."""
    live = client.versions(registry_subject(stream))
    current = is_current(stream, version)
    findings = compat_findings(stream, live, mode, None if current else version)
    verdict = (
        "moosegen's own check agrees" if findings else "moosegen's own check finds it compatible"
    )
    summary = Diagnostic(
        stream.schema_smap.path if current else version.path or stream.schema_smap.path,
        *(stream.schema_smap.pos(()) if current else (1, 1)),
        "error",
        "REGISTRY_INCOMPATIBLE",
        f"{client.url} refused v{version.version} of {stream.subject} as "
        f"{registry_subject(stream)} ({mode}; {verdict}): {exc}",
        "REGISTRY",
    )
    return [summary, *findings]


def _at_schema(stream: LoadedStream, severity: str, code: str, message: str) -> Diagnostic:
    return stream.schema_smap.diag((), code, message, severity=severity, category="REGISTRY")
