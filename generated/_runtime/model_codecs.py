# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""The codecs and producer of one generated model, so `models.py` only names its schemas.

A generated module binds its public functions (`decode_avro`, `encode_json`, ...) to
the methods of its one `ModelCodec`; its `Producer` picks the wire format from `FORMAT`.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Generic

from fastavro import parse_schema
from fastavro.schema import to_parsing_canonical_form
from pydantic import BaseModel

from .avro_codec import Codec, M, TypedProducer


def canonical_form(schema_json: str) -> str:
    """Avro Parsing Canonical Form, as fastavro computes it (the generator uses the same)."""
    return str(to_parsing_canonical_form(parse_schema(json.loads(schema_json), named_schemas={})))


class ModelCodec(Codec, Generic[M]):
    """`Codec` typed for the stream's model `M`, plus the JSON wire form."""

    def encode_json(self, model: BaseModel) -> bytes:
        """The model's JSON form (field names as in the schema), the JSON wire format."""
        return model.model_dump_json(by_alias=True).encode("utf-8")

    def encode_avro(self, value: M) -> bytes:
        return super().encode_avro(value)

    def encode_single_object(self, value: M) -> bytes:
        """Avro single-object encoding (C3 01, fingerprint, body)."""
        return super().encode_single_object(value)

    def encode_confluent(self, value: M, schema_id: int | None = None) -> bytes:
        """Confluent wire format (0, big-endian schema id, body); the current id by default."""
        return super().encode_confluent(value, schema_id)


class ModelProducer(TypedProducer[M]):
    """A `TypedProducer` that serializes with the model's codec in the stream's `FORMAT`:
    JSON, or Avro (Confluent framing when a schema id is given, else single-object)."""

    CODEC: ClassVar[ModelCodec[Any]]

    def serialize(self, record: M) -> bytes:
        if self.FORMAT == "json":
            return self.CODEC.encode_json(record)
        if self.schema_id is not None:
            return self.CODEC.encode_confluent(record, self.schema_id)
        return self.CODEC.encode_single_object(record)
