# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Column-oriented blocks: plain validated rows → one list per insertable column."""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .config import ColumnConfig

Converter = Callable[[Any], Any]


def _optional(module: str, name: str) -> Any:
    """A function of a sibling runtime module that another target may not have shipped."""
    try:
        return getattr(importlib.import_module(f"{__package__}.{module}"), name)
    except (ImportError, AttributeError):
        return None


# The value conversions of the ClickHouse target, when it ships them.
_external_converter = _optional("chvalues", "column_converter")


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _deep_plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _deep_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_deep_plain(v) for v in value)
    return value


def converter_for(ch_type: str) -> Converter | None:
    """The per-value conversion a column needs before clickhouse-connect sees it (None: none)."""
    if _external_converter is not None:
        conv: Converter | None = _external_converter(ch_type)
        return conv
    inner = ch_type
    for wrapper in ("LowCardinality(", "Nullable("):
        if inner.startswith(wrapper):
            inner = inner[len(wrapper) : -1]
    if inner.startswith("Enum"):
        return _enum_value
    if inner.startswith(("Array(", "Map(", "Tuple(", "Variant(")):
        return _deep_plain
    return None


@dataclass(frozen=True)
class RowSource:
    """Where a row came from: the lineage of one source message."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int


class ColumnBuilder:
    """Builds the column lists of one destination; conversions are chosen once, per column."""

    def __init__(self, columns: Sequence[ColumnConfig]) -> None:
        self.columns = list(columns)
        self.names = [c.name for c in self.columns]
        self.converters = [converter_for(c.type) for c in self.columns]

    def build(
        self, rows: Sequence[dict[str, Any]], sources: Sequence[RowSource]
    ) -> list[list[Any]]:
        data: list[list[Any]] = []
        for column, conv in zip(self.columns, self.converters, strict=True):
            field = column.field
            if field is None:
                values = self._lineage(column.name, sources)
            else:
                default = column.default
                if isinstance(default, (dict, list)):
                    values = [
                        row[field] if field in row else type(default)(default) for row in rows
                    ]
                else:
                    values = [row.get(field, default) for row in rows]
            if conv is not None:
                values = [None if v is None else conv(v) for v in values]
            data.append(values)
        return data

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
