# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Column-oriented blocks: plain validated rows → one list per insertable column."""

from __future__ import annotations

import gc
import importlib
import operator
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from .chvalues import arrow_column_converter, column_values_converter, text_column_converter
from .config import ColumnConfig


def _datetime64_precision(ch_type: str) -> int | None:
    """p of a `DateTime64(p[, tz])` column type, else None."""
    if not ch_type.startswith("DateTime64("):
        return None
    digits = ch_type[len("DateTime64(") :].split(",")[0].split(")")[0].strip()
    return int(digits) if digits.isdigit() else None


class RowSource(NamedTuple):
    """Where a row came from: the lineage of one source message (one per row: a tuple,
    built several times faster than a frozen dataclass)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int


class Lineage:
    """The lineage of a block's rows, column by column, read from its messages in bulk.

    What `ColumnBuilder.build` takes instead of one `RowSource` per row: each lineage
    column is made only when the destination has it, with C-level maps over the
    messages (confluent-kafka's accessors) and no per-row tuple; a single topic or
    partition becomes one repeated value.
    """

    __slots__ = ("_given", "msgs")

    def __init__(self, msgs: Sequence[Any]) -> None:
        self.msgs = msgs
        self._given: dict[str, list[Any]] | None = None

    @classmethod
    def of(cls, topic: str, partition: int, offsets: list[int], stamps: list[int]) -> Lineage:
        """The lineage of one partition's messages given as their offsets and timestamps."""
        lineage = cls(())
        n = len(offsets)
        lineage._given = {
            "_topic": [topic] * n,
            "_partition": [partition] * n,
            "_offset": offsets,
            "_timestamp_ms": stamps,
        }
        return lineage

    def __len__(self) -> int:
        return len(self._given["_offset"]) if self._given is not None else len(self.msgs)

    def _same(self, method: str) -> list[Any]:
        values = list(map(operator.methodcaller(method), self.msgs))
        if values and values.count(values[0]) == len(values):
            return [values[0]] * len(values)
        return values

    def column(self, name: str) -> list[Any]:
        if self._given is not None:
            if name not in self._given:
                raise ValueError(f"unknown lineage column {name!r}")
            return list(self._given[name])
        if name == "_topic":
            return self._same("topic")
        if name == "_partition":
            return self._same("partition")
        if name == "_offset":
            return list(map(operator.methodcaller("offset"), self.msgs))
        if name == "_timestamp_ms":
            stamps = map(operator.methodcaller("timestamp"), self.msgs)
            return list(map(operator.itemgetter(1), stamps))
        raise ValueError(f"unknown lineage column {name!r}")


class ColumnBuilder:
    """Builds the column lists of one destination; conversions are chosen once, per column."""

    def __init__(self, columns: Sequence[ColumnConfig]) -> None:
        self.columns = list(columns)
        self.names = [c.name for c in self.columns]
        self.types = [c.type for c in self.columns]
        self.converters = [
            column_values_converter(c.type) or text_column_converter(c.type) for c in self.columns
        ]
        self._getters = [
            operator.itemgetter(c.field) if c.field is not None else None for c in self.columns
        ]
        # The table's column types as ClickHouse describes them, fetched once per table and
        # passed to every insert (so no DESCRIBE per block); dropped after a failed insert.
        self._insert_types: dict[tuple[str, str | None], Any] = {}
        # Arrow: one converter per column when every column has one (else None: Native).
        arrow = [arrow_column_converter(c.type) for c in self.columns]
        self.arrow: list[Callable[[list[Any]], Any]] | None = (
            [a for a in arrow if a is not None] if all(a is not None for a in arrow) else None
        )

    def build(
        self, rows: Sequence[dict[str, Any]], sources: Sequence[RowSource] | Lineage
    ) -> list[list[Any]]:
        enabled = gc.isenabled()  # no collections while the columns are made (see pipeline)
        gc.disable()
        try:
            return self._build(rows, sources)
        finally:
            if enabled:
                gc.enable()

    def _build(
        self, rows: Sequence[dict[str, Any]], sources: Sequence[RowSource] | Lineage
    ) -> list[list[Any]]:
        data: list[list[Any]] = []
        for column, conv, getter in zip(self.columns, self.converters, self._getters, strict=True):
            field = column.field
            values: list[Any]
            if field is None or getter is None:
                ticks = _datetime64_precision(column.type) if column.name == "_timestamp" else None
                if ticks is not None and ticks <= 3:  # int ticks: what the converter makes
                    if isinstance(sources, Lineage):
                        stamps = sources.column("_timestamp_ms")
                    else:
                        stamps = [s.timestamp_ms for s in sources]
                    if ticks < 3:
                        scale = 10 ** (3 - ticks)
                        stamps = [ms // scale for ms in stamps]
                    data.append(stamps)
                    continue
                if isinstance(sources, Lineage):
                    if column.name == "_timestamp":
                        stamps = sources.column("_timestamp_ms")
                        values = self._lineage(
                            column.name, [RowSource("", 0, 0, ms) for ms in stamps]
                        )
                    else:
                        values = sources.column(column.name)
                else:
                    values = self._lineage(column.name, sources)
            else:
                try:
                    values = list(map(getter, rows))
                except KeyError:  # a defaulted (NotRequired) field left out of some rows
                    default = column.default
                    if isinstance(default, (dict, list)):
                        values = [
                            row[field] if field in row else type(default)(default) for row in rows
                        ]
                    else:
                        values = [row.get(field, default) for row in rows]
            if conv is not None:
                values = conv(values)
            data.append(values)
        return data

    def insert_types(self, client: Any, table: str, database: str | None = None) -> Any:
        """The table's column types for `client.insert(column_types=...)`, described once."""
        key = (table, database)
        types = self._insert_types.get(key)
        if types is None:
            context = client.create_insert_context(table, self.names, database)
            types = self._insert_types[key] = list(context.column_types)
        return types

    def insert(
        self,
        client: Any,
        table: str,
        data: list[list[Any]],
        database: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        """Insert one built block: as an Arrow table when every column maps to Arrow
        (about 3x cheaper than clickhouse-connect's Native serialization, whose UUID and
        Decimal writers loop in Python), else column-oriented through `client.insert`.
        A block whose values Arrow refuses goes the Native way, which says why."""
        table_arrow = self.to_arrow(data)
        if table_arrow is not None:
            client.insert_arrow(table, table_arrow, database=database, settings=settings)
            return
        client.insert(
            table,
            data=data,
            column_names=self.names,
            database=database,
            column_types=self.insert_types(client, table, database),
            column_oriented=True,
            settings=settings,
        )

    def to_arrow(self, data: list[list[Any]]) -> Any:
        """The block as a `pyarrow.Table` (None: a column has no Arrow form, or a value
        was refused)."""
        if self.arrow is None:
            return None
        pyarrow: Any = importlib.import_module("pyarrow")
        try:
            arrays = [conv(values) for conv, values in zip(self.arrow, data, strict=True)]
        except (TypeError, ValueError, ArithmeticError, NotImplementedError):
            return None  # pyarrow's ArrowTypeError / ArrowInvalid are among these
        return pyarrow.Table.from_arrays(arrays, names=self.names)

    def forget_insert_types(self) -> None:
        """Describe the tables again before the next insert (after a failed one)."""
        self._insert_types.clear()

    @staticmethod
    def _lineage(name: str, sources: Sequence[RowSource]) -> list[Any]:
        if name == "_topic":
            return [s.topic for s in sources]
        if name == "_partition":
            return [s.partition for s in sources]
        if name == "_offset":
            return [s.offset for s in sources]
        if name == "_timestamp":
            import datetime as _dt

            utc = _dt.timezone.utc
            return [_dt.datetime.fromtimestamp(s.timestamp_ms / 1000, utc) for s in sources]
        raise ValueError(f"unknown lineage column {name!r}")
