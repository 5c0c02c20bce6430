"""The rule that makes a union ambiguous (JSON form `{branch: value}`) or tagged
(`Tagged(branch, value)` in the model), decided from the branch types alone."""

from __future__ import annotations

import pytest
from moosegen.compat import load_schema
from moosegen.schema.ir import UnionType
from moosegen.targets.pydantic_mapping import Types, class_names, shape_of

REC_A = {"type": "record", "name": "A", "fields": [{"name": "x", "type": "int"}]}
REC_B = {"type": "record", "name": "B", "fields": [{"name": "x", "type": "int"}]}
ENUM = {"type": "enum", "name": "E", "symbols": ["a"]}
FIXED = {"type": "fixed", "name": "F", "size": 4}
TS = {"type": "long", "logicalType": "timestamp-millis"}
UUID = {"type": "string", "logicalType": "uuid"}
T_MS = {"type": "int", "logicalType": "time-millis"}
T_US = {"type": "long", "logicalType": "time-micros"}
DEC = {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 1}
DEC_F = {"type": "fixed", "name": "D", "size": 4, "logicalType": "decimal", "precision": 4}

# union -> (ambiguous, tagged)
CASES = [
    (["null", "string"], (False, False)),
    (["null", REC_A], (False, False)),
    (["string", "long"], (False, False)),
    (["double", "boolean"], (False, False)),
    (["null", "string", "long", "boolean"], (False, False)),
    (["int", "long"], (True, True)),
    (["null", "float", "double"], (True, True)),
    (["int", "double"], (True, False)),
    (["string", ENUM], (True, False)),
    (["string", "bytes"], (True, False)),
    (["bytes", UUID], (True, False)),
    (["string", TS], (True, False)),
    ([REC_A, REC_B], (True, False)),
    ([REC_A, {"type": "map", "values": "int"}], (True, False)),
    (["bytes", FIXED], (True, True)),
    (["bytes", {"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"}], (True, True)),
    ([T_MS, T_US], (True, True)),
    ([DEC, DEC_F], (True, True)),
    (["int", TS], (False, False)),
    ([ENUM, {"type": "array", "items": "E"}], (False, False)),
]


def union_of(branches: list[object]) -> UnionType:
    record = load_schema(
        {"type": "record", "name": "R", "fields": [{"name": "u", "type": branches}]}
    )
    t = record.fields[0].type  # type: ignore[union-attr]
    assert isinstance(t, UnionType)
    return t


@pytest.mark.parametrize(("branches", "expected"), CASES)
def test_union_shape(branches: list[object], expected: tuple[bool, bool]) -> None:
    assert shape_of(union_of(branches)) == expected


def test_annotations_follow_the_shape() -> None:
    t = union_of(["null", "int", "long"])
    types = Types(class_names([]))
    assert types.annotation(t, "model") == (
        "Annotated[avro_codec.Tagged[avro_codec.Int | avro_codec.Long] | None, "
        'avro_codec.AvroUnion("int", "long", "null")]'
    )
    assert types.annotation(t, "dict") == (
        "Annotated[avro_codec.Int | avro_codec.Long | None, "
        'avro_codec.AvroUnion("int", "long", "null")]'
    )
    plain = union_of(["null", "string", "long"])
    assert (
        types.annotation(plain, "model", top=True) == "avro_codec.String | avro_codec.Long | None"
    )
