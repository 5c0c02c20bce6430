# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""A replayed block is checked against the table before it relies on deduplication.

A block re-formed from a committed plan may have been inserted by the attempt that
planned it. Its insert tokens are the same, so ClickHouse drops a second copy, but only
as long as the deduplication record matches a part that exists. On a plain MergeTree
the record is appended to the table's deduplication log before the part is committed:
when ClickHouse itself dies between the two (with chdb, the engine runs in the service
process, so a SIGKILL of the service is such a crash), the log keeps a record of a
part that never landed, and the replayed insert is dropped as a duplicate of nothing.

So before a fixed block is stored, each destination with lineage columns is asked
whether any row of the block's range is there:

    SELECT count() FROM t WHERE _partition = p AND _offset >= start AND _offset < end

None: whatever an earlier attempt did left no rows, and the block is inserted under
tokens of its own (`replay-<mark>`), new on every such attempt (an orphan record may
exist for the last one too) and committed in the block's plan before the insert, so a
crash after it leaves a plan whose tokens are those of the rows that landed. All of them
(as many as the block routes there): the block is not inserted there again — the log
can miss the other way too, a part that landed without its record (SIGKILL soaks stored
whole blocks twice under the same token). Some: a bisected block's halves landed in
part, and the tokens the plan records (the first attempt's, or the last mark committed)
deduplicate those. A destination without lineage cannot be asked; it relies on the log.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .chvalues import quote_identifier
from .config import DestinationConfig
from .planning import Block

LINEAGE = frozenset({"_partition", "_offset"})
MAX_PLAN_BYTES = 4000  # Kafka's offset.metadata.max.bytes is 4096 by default


def checkable(destination: DestinationConfig) -> bool:
    """Can the rows of a block's range be found in this destination's table?"""
    return LINEAGE <= {c.name for c in destination.columns}


def statement(
    database: str, destination: DestinationConfig, block: Block
) -> tuple[str, dict[str, Any]]:
    """The count of the block's rows in the destination (lineage columns only)."""
    table = f"{quote_identifier(database)}.{quote_identifier(destination.name)}"
    where = "_partition = %(p)s AND _offset >= %(lo)s AND _offset < %(hi)s"
    params: dict[str, Any] = {"p": block.partition, "lo": block.start, "hi": block.end}
    if "_topic" in {c.name for c in destination.columns}:
        where += " AND _topic = %(t)s"
        params["t"] = block.topic
    return f"SELECT count() FROM {table} WHERE {where}", params


def checked(
    block: Block,
    destinations: list[DestinationConfig],
    database: str,
    count: Callable[[str, dict[str, Any]], int],
    expected: dict[str, int] | None = None,
) -> tuple[Block, frozenset[str]]:
    """(`block` with a new token mark for every checkable destination holding none of its
    rows, the destinations holding all of them: `expected` rows each, when known).

    The others keep the tokens of the attempt its plan records. `count` runs a statement
    (and waits out ClickHouse being unreachable; -1: refused, nothing is decided). A plan
    too large for Kafka's offset metadata with new marks keeps its tokens."""
    marks = dict(block.marks)
    landed: set[str] = set()
    for d in destinations:
        want = None if expected is None else expected.get(d.name, 0)
        if not checkable(d) or want == 0:
            continue  # cannot be asked, or nothing to store there
        found = count(*statement(database, d, block))
        if found == 0:
            marks[d.name] = uuid.uuid4().hex[:16]
        elif want is not None and found >= want:
            landed.add(d.name)
    new = replace(block, marks=tuple(sorted(marks.items())))
    if new.marks == block.marks or len(new.plan_metadata.encode()) > MAX_PLAN_BYTES:
        return block, frozenset(landed)
    return new, frozenset(landed)
