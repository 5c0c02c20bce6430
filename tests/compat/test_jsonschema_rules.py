"""JSON Schema compatibility: the change corpus, the modes over histories, located findings."""

from __future__ import annotations

import json

import pytest
from jsonschema_corpus import DIRECTIONS, Case, load_cases
from moosegen.compat import Mode, SchemaError
from moosegen.compat.jsonschema import JSON_SCHEMA_CODES, can_read, check
from moosegen.compat.jsonschema_codes import INVERSE

CASES = load_cases()
CATEGORIES = {"PROPERTY", "TYPE", "REQUIRED", "ENUM", "BOUNDS", "COMBINED", "REFERENCE",
              "CONTENT_MODEL"}


def test_the_corpus_is_large_and_well_formed() -> None:
    assert len(CASES) >= 100
    for case in CASES:
        assert case.reason.strip(), case.name
        assert case.draft in ("draft-07", "2020-12"), case.name
        for direction in DIRECTIONS:
            assert all(code in JSON_SCHEMA_CODES for code in case.expected[direction]), case.name
        assert set(case.registry_differs) <= set(DIRECTIONS), case.name
    assert {c.draft for c in CASES} == {"draft-07", "2020-12"}


def test_every_code_is_met_by_some_case() -> None:
    met = {code for case in CASES for d in DIRECTIONS for code in case.expected[d]}
    unmet = sorted(set(JSON_SCHEMA_CODES) - met)
    assert not unmet, f"codes no corpus case produces: {unmet}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case) -> None:
    for direction in DIRECTIONS:
        result = check(case.reader, [case.writer], direction)
        got = sorted({f.code for f in result.findings})
        assert got == case.expected[direction], (
            f"{case.name} {direction}: {case.reason}\n"
            + "\n".join(f"  {f.code} {f.path}: {f.message}" for f in result.findings)
        )
        assert result.compatible == (not case.expected[direction])
        for f in result.findings:
            assert f.category == JSON_SCHEMA_CODES[f.code][0]
            assert f.path.startswith("/") and f.against_version == 1
    # the pairwise verdicts are the two directions
    assert can_read(case.reader, case.writer) == (not case.expected["BACKWARD"])
    assert can_read(case.writer, case.reader) == (not case.expected["FORWARD"])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_full_is_both_directions(case: Case) -> None:
    full = check(case.reader, [case.writer], "FULL")
    expected = sorted({*case.expected["BACKWARD"], *case.expected["FORWARD"]})
    assert sorted({f.code for f in full.findings}) == expected


def test_codes_table() -> None:
    for code, (category, meaning) in JSON_SCHEMA_CODES.items():
        assert code.startswith("JSON_") and category in CATEGORIES and meaning
        assert INVERSE[INVERSE[code]] == code
    assert INVERSE["JSON_PROPERTY_ADDED_TO_OPEN_MODEL"] == "JSON_PROPERTY_REMOVED_FROM_OPEN_MODEL"
    assert INVERSE["JSON_MAXIMUM_DECREASED"] == "JSON_MAXIMUM_INCREASED"
    assert INVERSE["JSON_CONTENT_MODEL_CLOSED"] == "JSON_CONTENT_MODEL_OPENED"
    assert INVERSE["JSON_TYPE_CHANGED"] == "JSON_TYPE_CHANGED"


# -- modes over histories ------------------------------------------------------------------


def obj(**props: object) -> dict[str, object]:
    return {"type": "object", "properties": props, "additionalProperties": False}


S, INT, N = {"type": "string"}, {"type": "integer"}, {"type": "number"}


def brute(candidate: object, history: list[object], mode: Mode) -> bool:
    """The definition, spelled out from can_read."""
    if mode is Mode.NONE or not history:
        return True
    against = history if mode.transitive else history[-1:]
    return all(
        (not mode.backward or can_read(candidate, old))
        and (not mode.forward or can_read(old, candidate))
        for old in against
    )


HISTORIES: list[list[object]] = [
    [obj(a=S)],
    [obj(a=S), obj(a=S, b=S)],
    [obj(n=INT), obj(n=N)],
    [obj(n=INT), obj(n=INT, b=S), obj(n=N, b=S), obj(n=N, b=S, c=S)],
]
CANDIDATES: list[object] = [obj(a=S), obj(a=S, b=S), obj(n=INT), obj(n=N, b=S), obj(n=N), {}]


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("hist", range(len(HISTORIES)))
@pytest.mark.parametrize("cand", range(len(CANDIDATES)))
def test_every_mode_matches_its_definition(mode: Mode, hist: int, cand: int) -> None:
    history, candidate = HISTORIES[hist], CANDIDATES[cand]
    result = check(candidate, history, mode)
    assert result.compatible == brute(candidate, history, mode)
    expected_versions = [] if mode is Mode.NONE else (
        list(range(1, len(history) + 1)) if mode.transitive else [len(history)])
    assert result.checked_versions == expected_versions
    for f in result.findings:
        assert f.against_version in expected_versions


def test_transitive_and_latest_disagree() -> None:
    # v1 integer, v2 number: a candidate back at integer...
    history = [obj(n=INT), obj(n=N)]
    assert check(obj(n=N), history, "FORWARD").compatible
    forward_t = check(obj(n=N), history, "FORWARD_TRANSITIVE")
    assert [(f.code, f.against_version) for f in forward_t.findings] == [("JSON_TYPE_WIDENED", 1)]
    assert check(obj(n=N), history, "FULL").compatible
    assert not check(obj(n=N), history, "FULL_TRANSITIVE").compatible

    # closed objects: v1 had `b`, v2 dropped it, the candidate (like v2) reads v2 but not v1
    history = [obj(a=S, b=S), obj(a=S)]
    assert check(obj(a=S), history, "BACKWARD").compatible
    back_t = check(obj(a=S), history, "BACKWARD_TRANSITIVE")
    assert [(f.code, f.against_version) for f in back_t.findings] == [
        ("JSON_PROPERTY_REMOVED_FROM_CLOSED_MODEL", 1)]

    # four versions: only v1 lacked the enum value the candidate removes again
    e = lambda *v: {"enum": list(v)}  # noqa: E731
    history = [e("a"), e("a", "b"), e("a", "b", "c"), e("a", "b", "c")]
    cand = e("a", "b", "c")
    assert check(cand, history, "FULL").compatible
    full_t = check(cand, history, "FULL_TRANSITIVE")
    assert sorted((f.code, f.against_version) for f in full_t.findings) == [
        ("JSON_ENUM_VALUE_ADDED", 1), ("JSON_ENUM_VALUE_ADDED", 2)]
    assert [f.against_version for f in check(e("a"), history, "BACKWARD_TRANSITIVE").findings] \
        == [4, 3, 2]  # newest first


def test_none_and_empty_history() -> None:
    assert check(obj(a=INT), [obj(a=S)], "NONE").compatible
    assert check(obj(a=INT), [], "FULL_TRANSITIVE").compatible
    with pytest.raises(ValueError):
        check(obj(a=S), [obj(a=S)], "SIDEWAYS")


# -- findings: located, and from the candidate's side ------------------------------------------

OLD = {"type": "object", "properties": {
    "id": {"type": "string"}, "n": {"type": "number", "maximum": 100},
    "kind": {"enum": ["a", "b"]}}, "additionalProperties": False}
NEW_TEXT = """{
  "type": "object",
  "properties": {
    "id": {"type": "string"},
    "n": {"type": "number", "maximum": 50},
    "kind": {"enum": ["a"]},
    "extra": {"type": "string"}
  },
  "required": ["extra"],
  "additionalProperties": false
}"""


def test_findings_speak_of_the_candidate_with_positions() -> None:
    back = check((NEW_TEXT, "specs/events.schema.json"), [OLD], "BACKWARD")
    assert sorted((f.code, f.category, f.path, str(f.loc)) for f in back.findings) == [
        ("JSON_ENUM_VALUE_REMOVED", "ENUM", "/properties/kind/enum",
         "specs/events.schema.json:6:22"),
        ("JSON_MAXIMUM_DECREASED", "BOUNDS", "/properties/n/maximum",
         "specs/events.schema.json:5:40"),
        ("JSON_REQUIRED_ADDED", "REQUIRED", "/required", "specs/events.schema.json:9:15"),
    ]
    assert all(f.message.startswith("the new schema rejects data valid under version 1")
               for f in back.findings)
    # the old schema as the candidate writer: the inverse changes, at the candidate's paths
    fwd = check(OLD, [(NEW_TEXT, "v1.json")], "FORWARD")
    assert sorted((f.code, f.path) for f in fwd.findings) == [
        ("JSON_ENUM_VALUE_ADDED", "/properties/kind/enum"),
        ("JSON_MAXIMUM_INCREASED", "/properties/n/maximum"),
        ("JSON_REQUIRED_REMOVED", "/"),
    ]
    assert all(f.loc is None for f in fwd.findings)  # parsed JSON carries no positions
    text = back.findings[0].text()
    assert text.startswith("specs/events.schema.json:") and "JSON_" in text


def test_text_without_a_path_is_located_as_the_candidate() -> None:
    result = check(json.dumps({"type": "integer"}), [{"type": "number"}], "BACKWARD")
    assert [str(f.loc) for f in result.findings] == ["<candidate>:1:10"]


@pytest.mark.parametrize("text, where, message", [
    ('{"type": "strin"}', "bad.json:1:10", "type must be one of"),
    ('{"properties": {"a": {"$ref": "#/$defs/missing"}}}', "bad.json:1:31", "names nothing"),
    ('{"required": "a"}', "bad.json:1:14", "required must be an array"),
    ('{"maxLength": -1}', "bad.json:1:15", "non-negative integer"),
    ('{"properties": {"a": 3}}', "bad.json:1:22", "object or a boolean"),
    ('{"type": "string",}', "bad.json:1:19", "invalid JSON"),
    ('{"pattern": "("}', "bad.json:1:13", "not a regular expression"),
])
def test_bad_schemas_are_located_errors(text: str, where: str, message: str) -> None:
    with pytest.raises(SchemaError) as info:
        check((text, "bad.json"), [{}], "BACKWARD")
    diagnostic = info.value.diagnostics[0]
    assert f"{diagnostic.path}:{diagnostic.line}:{diagnostic.col}" == where
    assert message in diagnostic.message
