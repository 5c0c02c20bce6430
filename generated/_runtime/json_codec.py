# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""The JSON wire formats of a JSON Schema stream: plain JSON, and Confluent's JSON framing
(magic byte 0, a big-endian 4-byte registry schema id, then the JSON document).

A JSON document never starts with a NUL byte, so a consumer tells the two apart by the
first byte and accepts both on one topic.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Collection
from datetime import date
from typing import Annotated, Any, ClassVar, Generic
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, BeforeValidator

from .avro_codec import M, TypedProducer

CONFLUENT_MAGIC = b"\x00"


def _spelled(fmt: str, pattern: str) -> Callable[[Any], Any]:
    """Text must be spelled as JSON Schema's `format` says (pydantic alone would also take
    Unix times, "2026-01-02 03:04:05Z", UUIDs without dashes); values built in Python pass."""
    spelling = re.compile(pattern)

    def check(value: Any) -> Any:
        if isinstance(value, str) and not spelling.fullmatch(value):
            raise ValueError(f"not a JSON Schema {fmt!r} string")
        if isinstance(value, bytes | bytearray | int | float):
            raise ValueError(f"a {fmt!r} value is a string")
        return value

    return check


_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# The JSON Schema formats of datamodel-code-generator's fields, as the wire takes them.
DateTime = Annotated[
    AwareDatetime,
    BeforeValidator(
        _spelled(
            "date-time",
            _DATE + r"[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})",
        )
    ),
]
Date = Annotated[date, BeforeValidator(_spelled("date", _DATE))]
Uuid = Annotated[
    UUID,
    BeforeValidator(_spelled("uuid", r"[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")),
]


class UnknownJsonSchemaId(ValueError):
    """A Confluent-framed JSON message names a schema id this stream never registered."""


def unframe(data: bytes, known_ids: Collection[int]) -> bytes:
    """The JSON document of a plain or Confluent-framed message."""
    if not data.startswith(CONFLUENT_MAGIC):
        return data
    if len(data) < 5:
        raise ValueError("Confluent framing shorter than its 5-byte header")
    (schema_id,) = struct.unpack(">I", data[1:5])
    if schema_id not in known_ids:
        raise UnknownJsonSchemaId(f"schema id {schema_id} is not a version of this stream")
    return data[5:]


class JsonCodec(Generic[M]):
    """Encode and decode the stream's model `M` on the JSON wire formats."""

    def __init__(self, model: type[M], schema_id: int, known_ids: Collection[int]) -> None:
        self.model = model
        self.schema_id = schema_id
        self.known_ids = frozenset(known_ids)

    def encode_json(self, value: BaseModel) -> bytes:
        """The model's JSON form (field names as in the schema)."""
        return value.model_dump_json(by_alias=True).encode("utf-8")

    def encode_confluent_json(self, value: BaseModel, schema_id: int | None = None) -> bytes:
        """Confluent JSON framing with `schema_id` (the current id by default)."""
        header = CONFLUENT_MAGIC + struct.pack(
            ">I", self.schema_id if schema_id is None else schema_id
        )
        return header + self.encode_json(value)

    def decode_json(self, data: bytes) -> M:
        """A model from a plain or Confluent-framed JSON message."""
        return self.model.model_validate_json(unframe(data, self.known_ids))


class JsonProducer(TypedProducer[M]):
    """A `TypedProducer` of JSON: Confluent-framed when a schema id is given, else plain."""

    CODEC: ClassVar[JsonCodec[Any]]

    def serialize(self, record: M) -> bytes:
        if self.schema_id is not None:
            return self.CODEC.encode_confluent_json(record, self.schema_id)
        return self.CODEC.encode_json(record)
