"""What each ClickHouse mapping warning promises is what the column conversion does."""

from __future__ import annotations

import enum
import json

from clickhouse_connect.datatypes.dynamic import TypedVariant
from moosegen.runtime.chvalues import (
    column_converter,
    column_values_converter,
    text_column_converter,
)


class Kind(str, enum.Enum):
    A = "A"
    B = "B"


def test_none_in_a_non_nullable_composite_is_its_empty_value() -> None:
    # CH_NULLABLE_COMPOSITE: ["null", record/array/map] stored non-Nullable
    tuple_type = "Tuple(`max` Int32, `burst` Nullable(Int32), `tags` Array(String))"
    for ch_type, empty in [
        ("Array(Int32)", []),
        ("Map(String, Int64)", {}),
        (tuple_type, (0, None, [])),
        (f"Array({tuple_type})", []),
    ]:
        conv = column_values_converter(ch_type)
        assert conv is not None
        assert conv([None]) == [empty], ch_type
    nested = column_values_converter(f"Array({tuple_type})")
    assert nested is not None
    assert nested([[None, {"max": 1, "burst": 2, "tags": None}]]) == [[(0, None, []), (1, 2, [])]]


def test_recursive_records_below_the_cut_are_json_text() -> None:
    # CH_RECURSIVE_RECORD: the record is a String column (or element) holding JSON
    node = {"value": 1, "next": {"value": 2, "next": None}, "raw": b"\xff"}
    conv = column_values_converter("Tuple(`value` Int64, `next` Nullable(String))")
    assert conv is not None
    ((value, text),) = conv([{"value": 0, "next": node}])
    assert value == 0 and json.loads(text) == {**node, "raw": "/w=="}
    children = column_values_converter("Array(String)")
    assert children is not None
    assert children([[{"label": "x", "children": []}, "plain"]]) == [
        ['{"label":"x","children":[]}', "plain"]
    ]
    assert children([["a", "b"]]) == [["a", "b"]]


def test_variant_members_are_matched_by_their_own_type() -> None:
    conv = column_converter("Variant(Enum8('A' = 1, 'B' = 2), Array(Enum8('A' = 1, 'B' = 2)))")
    assert conv is not None
    single, many = conv(Kind.A), conv([Kind.A, "B"])
    assert isinstance(single, TypedVariant) and single.value == "A"
    assert isinstance(many, TypedVariant) and many.value == ["A", "B"]
    assert many.type_name.startswith("Array(")
    records = column_converter("Variant(Tuple(`a` Int32), Tuple(`a` Int32, `b` String))")
    assert records is not None
    wide = records({"a": 1, "b": "x"})
    assert wide.value == (1, "x") and "`b`" in wide.type_name
    assert records({"a": 1}).value == (1,)


def test_text_and_bytes_mixed_in_one_string_column_become_bytes() -> None:
    conv = text_column_converter("Nullable(String)")
    assert conv is not None and column_values_converter("String") is None
    assert conv(["a", "b"]) == ["a", "b"]
    assert conv(["é", b"\xff", None]) == ["é".encode(), b"\xff", None]
    assert conv([None, {"a": b"\x00"}]) == [None, '{"a":"AA=="}']
    variant = column_converter("Variant(String, Int64)")
    assert variant is not None
    assert variant("é").value == "é".encode() and variant(b"\xff").value == b"\xff"
