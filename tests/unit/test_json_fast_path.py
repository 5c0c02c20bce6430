"""The JSON loader's fast path (C decoder, positions located on first use) must agree
with the positioned scan: same value, same positions, same verdict on every text."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moosegen.schema.ir import Loc
from moosegen.sourcemap import LoadError, SourceMap, _scan_json, load_json

SETTINGS = settings(max_examples=300, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from('ab"\\{}[]:,\n\u00e9\U0001f600')),
    lambda kids: st.lists(kids, max_size=4)
    | st.dictionaries(st.text(alphabet="ab{[\"", max_size=3), kids, max_size=4),
    max_leaves=25,
)
layouts = st.sampled_from([{}, {"indent": 2}, {"separators": (",", ":")},
                           {"indent": "\t", "ensure_ascii": False}])


def scanned(text: str) -> tuple[Any, SourceMap]:
    smap = SourceMap("doc.json")
    return _scan_json(text, smap), smap


@SETTINGS
@given(value=json_values, layout=layouts)
def test_fast_value_and_positions_match_the_scan(value: Any, layout: dict[str, Any]) -> None:
    text = json.dumps(value, **layout)
    data, smap = load_json(text, "doc.json")
    expected, eager = scanned(text)
    assert smap.pending
    assert data == expected
    assert (smap.keys, smap.values) == (eager.keys, eager.values)
    assert not smap.pending


@SETTINGS
@given(value=json_values, at=st.integers(0, 10_000),
       edit=st.sampled_from(["", "{", "}", "[", ",", '"', "\\", ":", "NaN", " 1", "\x00"]),
       cut=st.integers(0, 2))
def test_every_text_gets_the_scans_verdict(value: Any, at: int, edit: str, cut: int) -> None:
    text = json.dumps(value)
    at %= len(text) + 1
    text = text[:at] + edit + text[at + cut:]
    try:
        expected, eager = scanned(text)
    except LoadError as scan_error:
        try:
            load_json(text, "doc.json")
        except LoadError as error:
            assert error.diagnostic == scan_error.diagnostic
        else:
            raise AssertionError(f"fast path accepted {text!r}: {scan_error}")
        return
    data, smap = load_json(text, "doc.json")
    assert data == expected
    assert smap.values == eager.values


def test_duplicate_keys_and_constants_fall_back_to_located_errors() -> None:
    for text, code, col in (('{"a": 1,\n "a": 2}', "JSON_DUPLICATE_KEY", 2),
                            ('{"a": "x:y",\n "a": {"b:": 1}}', "JSON_DUPLICATE_KEY", 2),
                            ('[{"a": [1]},\n {"b": 2, "b": 3}]', "JSON_DUPLICATE_KEY", 11),
                            ('[1,\n Infinity]', "JSON_SYNTAX", 2)):
        try:
            load_json(text, "doc.json")
        except LoadError as error:
            assert (error.diagnostic.code, error.diagnostic.line, error.diagnostic.col) == (
                code, 2, col)
        else:
            raise AssertionError(text)


def test_colons_in_strings_are_not_taken_for_keys() -> None:
    data, smap = load_json('{"doc": "a: b", "x": {"y": "::"}}', "doc.json")
    assert data == {"doc": "a: b", "x": {"y": "::"}} and smap.pending


def test_deferred_locations_read_like_plain_ones() -> None:
    from moosegen.compat import load_schema

    text = '{"type": "record", "name": "R",\n "fields": [\n  {"name": "a", "type": "int"}]}'
    record = load_schema(text, "r.avsc")
    loc = record.fields[0].loc  # type: ignore[union-attr]
    assert (loc.path, loc.line, loc.col) == ("r.avsc", 3, 12)
    assert loc == Loc("r.avsc", 3, 12) and Loc("r.avsc", 3, 12) == loc
    assert hash(loc) == hash(Loc("r.avsc", 3, 12))
    assert str(loc) == "r.avsc:3:12" and repr(loc) == repr(Loc("r.avsc", 3, 12))
    assert loc != Loc("r.avsc", 3, 13)
    assert copy.deepcopy(loc) == pickle.loads(pickle.dumps(loc)) == Loc("r.avsc", 3, 12)
