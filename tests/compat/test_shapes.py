"""Structural shapes: the checker's shortcut for reader/writer pairs of one shape."""

from __future__ import annotations

import json
from typing import Any

from moosegen.compat import load_schema, reader_writer_findings
from moosegen.compat.shapes import plain_fields, shape
from moosegen.schema.ir import Record


def record(*fields: dict[str, Any], name: str = "R", **extra: Any) -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "ns",
                       "fields": list(fields), **extra})


def test_what_resolution_ignores_does_not_change_the_shape() -> None:
    plain = load_schema(record({"name": "a", "type": "int"}))
    dressed = load_schema(record(
        {"name": "a", "type": {"type": "int", "logicalType": "date"}, "doc": "d", "default": 1},
        doc="x", aliases=["Old"]))
    assert shape(plain) is not None and shape(plain) == shape(dressed)


def test_what_resolution_reads_changes_the_shape() -> None:
    base = shape(load_schema(record({"name": "a", "type": "int"})))
    for other in (record({"name": "a", "type": "long"}),
                  record({"name": "b", "type": "int"}),
                  record({"name": "a", "type": "int"}, name="S"),
                  record({"name": "a", "type": "int", "aliases": ["z"]}),
                  record({"name": "a", "type": ["int"]})):
        assert shape(load_schema(other)) != base, other
    enum = '{"type": "enum", "name": "E", "symbols": ["A", "B"]}'
    assert shape(load_schema(enum)) != shape(load_schema(enum.replace('"B"', '"C"')))
    fixed = '{"type": "fixed", "name": "F", "size": 4}'
    assert shape(load_schema(fixed)) != shape(load_schema(fixed.replace("4", "5")))


def test_a_field_alias_naming_a_field_leaves_no_shape_and_no_shortcut() -> None:
    # Java reports a reader field matching two writer fields even against itself.
    schema = load_schema(record({"name": "a", "type": "int"},
                                {"name": "b", "type": "int", "aliases": ["a"]}))
    assert shape(schema) is None
    assert [f.code for f in reader_writer_findings(schema, schema)] == ["FIELD_AMBIGUOUS_ALIAS"]


def test_recursive_types_have_no_shape_and_are_still_checked() -> None:
    linked = record({"name": "v", "type": "int"}, {"name": "next", "type": ["null", "ns.R"]})
    assert shape(load_schema(linked)) is None
    narrowed = linked.replace('"int"', '"long"')
    assert [f.code for f in reader_writer_findings(linked, narrowed)] == ["TYPE_NARROWED"]
    assert reader_writer_findings(narrowed, linked) == ()


def test_plain_fields_skip_aliased_and_shapeless_fields() -> None:
    schema = load_schema(record({"name": "a", "type": "int"},
                                {"name": "b", "type": "int", "aliases": ["c"]},
                                {"name": "next", "type": ["null", "ns.R"]}))
    assert isinstance(schema, Record)
    assert plain_fields(schema) == frozenset({("a", "int")})


def test_findings_beside_shared_fields_keep_their_paths() -> None:
    common = [{"name": f"f{i}", "type": {"type": "array", "items": "string"}} for i in range(5)]
    reader = record(*common, {"name": "x", "type": "int"})
    writer = record(*common, {"name": "x", "type": "string"})
    found = reader_writer_findings(reader, writer)
    assert [(f.code, f.reader_path, f.writer_path) for f in found] == [
        ("TYPE_MISMATCH", "/fields/5/type", "/fields/5/type")]
