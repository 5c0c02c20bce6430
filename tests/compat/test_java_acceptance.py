"""Schemas Avro Java parses (and Confluent's registry registers) that moosegen once
refused: a `.Name` alias (the null namespace) and a union default of a later branch.
`can_read` answers them, and its answers are Java's."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Oracle, java_verdict
from moosegen.compat import can_read

INNER = {"type": "enum", "name": "InnerEnum", "symbols": ["A", "B"]}
ALIASED = {
    "type": "enum",
    "name": "E",
    "namespace": "x",
    "aliases": [".InnerEnum"],
    "symbols": ["A", "B"],
}
BARE = {"type": "record", "name": "R", "fields": [{"name": "id", "type": "int"}]}


def with_field(field: dict[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": "R", "fields": [{"name": "id", "type": "int"}, field]}


LATER_NULL_STRING = with_field({"name": "s", "type": ["null", "string"], "default": "null"})
LATER_INT_NULL = with_field({"name": "n", "type": ["int", "null"], "default": None})
NAMESPACED = {**INNER, "namespace": "x"}
# (reader, writer, can_read); Java's full name of the alias `.InnerEnum` keeps the dot,
# so it matches no writer name
PAIRS = [
    (ALIASED, INNER, False),
    (ALIASED, NAMESPACED, False),
    ({**ALIASED, "aliases": ["InnerEnum"]}, NAMESPACED, True),
    (INNER, ALIASED, False),
    (LATER_NULL_STRING, BARE, True),
    (BARE, LATER_NULL_STRING, True),
    (LATER_INT_NULL, BARE, True),
    (LATER_NULL_STRING, LATER_NULL_STRING, True),
]


@pytest.mark.parametrize(("reader", "writer", "expected"), PAIRS)
def test_can_read_answers(reader: Any, writer: Any, expected: bool) -> None:
    assert can_read(reader, writer) is expected


def test_answers_are_avro_javas(avro_oracle: Oracle) -> None:
    lines = avro_oracle([(r, w) for r, w, _ in PAIRS])
    verdicts = [java_verdict(line)[0] for line in lines]
    assert verdicts == ["COMPATIBLE" if ok else "INCOMPATIBLE" for _, _, ok in PAIRS]
