# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Offsets planning: one block per (destination, source partition, offset range).

Before a block is inserted, its start offset is committed with the planned range
in the commit metadata; after it is stored, the end offset is committed without
metadata. A restart (or the new owner after a rebalance) reads the committed
offset and metadata back and re-forms exactly the same block, so the insert
deduplication token — derived from the range alone — matches the first attempt.
A replay that has to insert under tokens of their own (see replays.py) commits the plan
again with its marks first, so the attempt after it re-forms those tokens in turn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

PLAN_VERSION = 1


@dataclass(frozen=True, order=True)
class Block:
    """Offsets [start, end) of one source partition."""

    topic: str
    partition: int
    start: int
    end: int
    # The range was read back from a committed plan (or a plan already committed for
    # it): it must be stored as it is, never cut shorter, or its tokens would change.
    fixed: bool = field(default=False, compare=False)
    # (destination, mark): a replayed block none of whose rows are in that destination is
    # inserted there under tokens of its own (see replays.py).
    marks: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # sorted

    def token(self, destination: str, part: str = "") -> str:
        base = f"moosegen:{self.topic}:{self.partition}:{self.start}-{self.end}:{destination}"
        mark = dict(self.marks).get(destination)
        if mark:
            base = f"{base}:replay-{mark}"
        return f"{base}:{part}" if part else base

    @property
    def plan_metadata(self) -> str:
        return encode_plan(self.end, self.marks)


Marks = tuple[tuple[str, str], ...]


def encode_plan(end: int, marks: Marks = ()) -> str:
    doc: dict[str, object] = {"moosegen": PLAN_VERSION, "end": end}
    if marks:
        doc["marks"] = dict(marks)
    return json.dumps(doc, separators=(",", ":"))


def _plan_doc(metadata: str | bytes | None) -> dict[str, object]:
    """A committed offset's metadata as one of our plans ({} when it is not one)."""
    if not metadata:
        return {}
    if isinstance(metadata, bytes):
        metadata = metadata.decode("utf-8", "replace")
    try:
        data = json.loads(metadata)
    except ValueError:
        return {}
    ours = isinstance(data, dict) and data.get("moosegen") == PLAN_VERSION
    return data if ours else {}


def decode_marks(metadata: str | bytes | None) -> Marks:
    """The token marks a committed plan carries (none: the range's own tokens)."""
    marks = _plan_doc(metadata).get("marks")
    if not isinstance(marks, dict):
        return ()
    return tuple(sorted((k, v) for k, v in marks.items() if isinstance(v, str) and v))


def decode_plan(metadata: str | bytes | None, committed: int) -> int | None:
    """The planned end offset of a pending block, or None when nothing is pending."""
    end = _plan_doc(metadata).get("end")
    if not isinstance(end, int) or isinstance(end, bool) or committed < 0 or end <= committed:
        return None
    return end
