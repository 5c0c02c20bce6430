# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Per-partition buffers that cut batches into blocks, honouring pending plans."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .planning import Block, Marks


class MessageLike(Protocol):
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def value(self) -> Any: ...
    def key(self) -> Any: ...
    def headers(self) -> Any: ...
    def timestamp(self) -> tuple[int, int]: ...
    def topic(self) -> str | None: ...


@dataclass
class _Partition:
    messages: list[Any] = field(default_factory=list)
    pending: tuple[int, int] | None = None  # a planned, not yet stored block [start, end)
    marks: Marks = ()  # the token marks of its plan
    held_until: float | None = None  # a record awaits its retry: cut nothing before then


class Batcher:
    """Buffers consumed messages per partition and cuts them into blocks.

    A partition with a pending plan (read back from the committed metadata) is
    cut only when its block [start, end) is complete, and exactly at `end`;
    other partitions are cut at whatever was buffered. A held partition (a record
    of it awaits a retry) is not cut at all until the runner releases it.
    """

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self._parts: dict[int, _Partition] = {}

    def assign(self, partition: int, pending: tuple[int, int] | None, marks: Marks = ()) -> None:
        self._parts[partition] = _Partition(pending=pending, marks=marks if pending else ())

    def revoke(self, partition: int) -> None:
        self._parts.pop(partition, None)

    @property
    def partitions(self) -> list[int]:
        return sorted(self._parts)

    def pending(self, partition: int) -> tuple[int, int] | None:
        part = self._parts.get(partition)
        return part.pending if part else None

    def hold(
        self,
        partition: int,
        messages: list[Any],
        until: float,
        pending: tuple[int, int] | None = None,
        marks: Marks = (),
    ) -> None:
        """Put `messages` (the partition's oldest) back in front and cut nothing before `until`.

        `pending` fixes the range the next block must have (a block whose plan is
        committed keeps its range, so its deduplication tokens stay the same).
        """
        part = self._parts.get(partition)
        if part is None:
            return  # revoked meanwhile: the new owner replays from the committed offset
        part.messages = list(messages) + part.messages
        part.held_until = max(until, part.held_until or until)
        if pending is not None:
            part.pending, part.marks = pending, marks

    def requeue(self, partition: int, messages: list[Any]) -> None:
        """Put back `messages` that were cut but not stored, in offset order (a held
        partition: its held records come before them, later messages after)."""
        part = self._parts.get(partition)
        if part is None:
            return  # revoked meanwhile: the new owner replays from the committed offset
        merged = {m.offset(): m for m in messages}
        merged.update((m.offset(), m) for m in part.messages)
        part.messages = [merged[o] for o in sorted(merged)]

    def release(self, partition: int) -> None:
        part = self._parts.get(partition)
        if part is not None:
            part.held_until = None

    def held(self) -> dict[int, float]:
        """Held partitions and when each may be cut again."""
        return {
            p: part.held_until for p, part in self._parts.items() if part.held_until is not None
        }

    def waiting(self) -> bool:
        """Are messages buffered in a partition that is not held (a batch has begun)?"""
        return any(part.messages and part.held_until is None for part in self._parts.values())

    def add(self, messages: Iterable[Any]) -> int:
        added = 0
        for msg in messages:
            part = self._parts.setdefault(msg.partition(), _Partition())
            part.messages.append(msg)
            added += 1
        return added

    def buffered(self) -> int:
        return sum(len(p.messages) for p in self._parts.values())

    def ready(self) -> tuple[int, int]:
        """(messages buffered in partitions that are not held, how many such partitions
        have any): what a batch being gathered holds so far."""
        parts = [p for p in self._parts.values() if p.messages and p.held_until is None]
        return sum(len(p.messages) for p in parts), len(parts)

    def cut(
        self, positions: dict[int, int] | None = None, most: int | None = None
    ) -> list[tuple[Block, list[Any]]]:
        """Blocks ready to process, in partition order; the rest stays buffered.

        `positions` (the consumer's next offset per partition) completes a pending
        block whose last offsets were not messages (compaction, transaction markers).
        A block holds at most `most` messages (a pending block: exactly its range).
        """
        blocks: list[tuple[Block, list[Any]]] = []
        for p in sorted(self._parts):
            part = self._parts[p]
            if not part.messages or part.held_until is not None:
                continue
            if part.pending is not None:
                start, end = part.pending
                last = part.messages[-1].offset()
                position = (positions or {}).get(p, -1)
                if last < end - 1 and position < end:
                    continue  # the planned block is not complete yet
                taken = [m for m in part.messages if m.offset() < end]
                part.messages = [m for m in part.messages if m.offset() >= end]
                marks, part.pending, part.marks = part.marks, None, ()
                if taken:
                    blocks.append((Block(self.topic, p, start, end, True, marks), taken))
                continue
            taken = part.messages if most is None else part.messages[:most]
            part.messages = part.messages[len(taken) :]
            blocks.append((Block(self.topic, p, taken[0].offset(), taken[-1].offset() + 1), taken))
        return blocks
