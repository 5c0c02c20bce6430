# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""The consumer's group membership and extra settings, from flags and environment.

Static membership (`group.instance.id`) lets a restarted instance take its partitions
back at once instead of after the dead member's session timeout. The id must be unique
among the group's live members: `auto` derives one from the host name, the stream and
the metrics port, so that two instances on one host (which cannot share a port) never
share an id by accident, while a restart on the same host and port gets the same one.
"""

from __future__ import annotations

import re
import socket

AUTO = "auto"
_INSTANCE_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,249}\Z")  # Kafka's rule for the id
_DURATION_RE = re.compile(r"(\d+)\s*(ms|s)?\Z")
# Settings that carry secrets come from the environment only (see cli.py).
_SECRET_RE = re.compile(r"(password|secret|\.key\.pem|sasl\.jaas|oauthbearer\.config)", re.I)


class SettingError(ValueError):
    """A flag or environment value that cannot be used; the message says which and why."""


def instance_id(value: str, stream: str, port: int) -> str:
    """The `group.instance.id` for `value`: '' (dynamic membership), `auto`, or an id."""
    if value != AUTO:
        if value and not _INSTANCE_ID_RE.match(value):
            raise SettingError(
                f"instance id {value!r}: use 1 to 249 of the characters A-Z a-z 0-9 . _ -"
            )
        return value
    host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname()) or "host"
    return f"{host}.{stream}.{port}"[:249]


def milliseconds(value: str, what: str) -> int:
    """'45000', '45000ms' or '45s' as milliseconds."""
    m = _DURATION_RE.match(value.strip())
    if m is None:
        raise SettingError(f"{what} {value!r}: expected milliseconds, or a number with ms or s")
    return int(m.group(1)) * (1000 if m.group(2) == "s" else 1)


def consumer_settings(entries: list[str], origin: str, secrets_allowed: bool) -> dict[str, str]:
    """`key=value` entries as librdkafka consumer settings; a secret is refused unless it
    comes from the environment."""
    settings: dict[str, str] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SettingError(f"{origin} {entry!r}: expected key=value")
        if not secrets_allowed and _SECRET_RE.search(key):
            raise SettingError(
                f"{origin} {key}: secrets are read from the environment only "
                "(MOOSEGEN_CONSUMER_CONFIG, KAFKA_SASL_PASSWORD, ...), never from flags"
            )
        settings[key] = value.strip()
    return settings


def split_env_entries(text: str) -> list[str]:
    """MOOSEGEN_CONSUMER_CONFIG: `key=value` entries separated by ';' or new lines (a
    value may hold commas, e.g. partition.assignment.strategy)."""
    return [e for e in re.split(r"[;\n]", text) if e.strip()]
