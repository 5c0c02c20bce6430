"""Durations (`7d`, `5m`, `250ms`, `forever`) and sizes (`1MiB`, `500kB`)."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w)\Z")
_DURATION_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_SIZE = re.compile(r"(\d+)\s*(B|kB|KB|KiB|MB|MiB|GB|GiB)?\Z")
_SIZE_BYTES = {
    None: 1,
    "B": 1,
    "kB": 1000,
    "KB": 1000,
    "KiB": 1024,
    "MB": 10**6,
    "MiB": 2**20,
    "GB": 10**9,
    "GiB": 2**30,
}


def parse_duration_ms(value: object, *, allow_forever: bool = False) -> int:
    """Milliseconds for a duration string; `forever` is -1 where allowed (Kafka's convention)."""
    if isinstance(value, str):
        if value == "forever":
            if allow_forever:
                return -1
            raise ValueError("'forever' is not allowed here")
        m = _DURATION.match(value.strip())
        if m:
            return int(m.group(1)) * _DURATION_MS[m.group(2)]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        raise ValueError(f"duration {value} needs a unit, like {value}s or {value}ms")
    raise ValueError(
        f"invalid duration {value!r}: use a number and a unit (ms, s, m, h, d, w), like 30s or 7d"
        + (", or 'forever'" if allow_forever else "")
    )


def parse_size_bytes(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and (m := _SIZE.match(value.strip())):
        return int(m.group(1)) * _SIZE_BYTES[m.group(2)]
    raise ValueError(f"invalid size {value!r}: use bytes or a unit (kB, KiB, MB, MiB, GB, GiB)")
