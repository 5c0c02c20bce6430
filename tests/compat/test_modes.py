"""The seven modes over histories of 1-5 versions, with Java-checked pairwise verdicts."""

from __future__ import annotations

from typing import Any

import pytest
from moosegen.compat import Mode, can_read, check


def rec(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": "Event", "namespace": "acme", "fields": list(fields)}


ID = {"name": "id", "type": "string"}
N_INT = {"name": "n", "type": "int"}
N_LONG = {"name": "n", "type": "long"}
NOTE_OPT = {"name": "note", "type": ["null", "string"], "default": None}
NOTE_REQ = {"name": "note", "type": "string"}
TAG_DEF = {"name": "tag", "type": "string", "default": "none"}

V_ID = rec(ID)
V_ID_NOTE_REQ = rec(ID, NOTE_REQ)
V_ID_NOTE_OPT = rec(ID, NOTE_OPT)


def brute(candidate: Any, history: list[Any], mode: Mode) -> bool:
    """The definition, spelled out from can_read."""
    if mode is Mode.NONE or not history:
        return True
    against = history if mode.transitive else history[-1:]
    ok = True
    for old in against:
        if mode.backward:
            ok &= can_read(candidate, old)
        if mode.forward:
            ok &= can_read(old, candidate)
    return ok


HISTORIES = [
    [V_ID],
    [V_ID, V_ID_NOTE_OPT],
    [rec(ID, N_INT), rec(ID, N_LONG)],
    [rec(ID, N_INT), rec(ID, N_INT, NOTE_OPT), rec(ID, N_INT, NOTE_OPT, TAG_DEF)],
    [V_ID, V_ID_NOTE_REQ, rec(ID, NOTE_REQ, TAG_DEF), rec(ID, NOTE_OPT, TAG_DEF),
     rec(ID, NOTE_OPT)],
]
CANDIDATES = [V_ID, V_ID_NOTE_OPT, V_ID_NOTE_REQ, rec(ID, N_LONG), rec(ID, N_INT),
              rec(ID, NOTE_OPT, TAG_DEF), rec(ID, N_INT, NOTE_OPT, TAG_DEF)]


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("hist", range(len(HISTORIES)))
@pytest.mark.parametrize("cand", range(len(CANDIDATES)))
def test_every_mode_matches_its_definition(mode: Mode, hist: int, cand: int) -> None:
    history, candidate = HISTORIES[hist], CANDIDATES[cand]
    result = check(candidate, history, mode)
    assert result.compatible == brute(candidate, history, mode)
    for f in result.findings:
        assert f.against_version in range(1, len(history) + 1)
        if not mode.transitive:
            assert f.against_version == len(history)


def test_transitive_and_latest_disagree() -> None:
    # v1 required `note`; v2 dropped it; the candidate drops it too.
    history = [V_ID_NOTE_REQ, V_ID]
    assert check(V_ID, history, "FORWARD").compatible
    forward_t = check(V_ID, history, "FORWARD_TRANSITIVE")
    assert not forward_t.compatible
    assert [(f.code, f.against_version) for f in forward_t.findings] == \
        [("FIELD_REMOVED_WITHOUT_DEFAULT", 1)]
    assert check(V_ID, history, "FULL").compatible
    assert not check(V_ID, history, "FULL_TRANSITIVE").compatible

    # v1 int, v2 long; a candidate back at int reads v1 but not v2 data (and vice versa).
    history = [rec(ID, N_INT), rec(ID, N_LONG), rec(ID, N_LONG, NOTE_OPT)]
    cand = rec(ID, N_LONG, NOTE_OPT, TAG_DEF)
    assert check(cand, history, "BACKWARD_TRANSITIVE").compatible
    assert check(cand, history, "FORWARD").compatible
    assert not check(cand, history, "FORWARD_TRANSITIVE").compatible  # v1's int can't read long

    # backward: the latest had a default the candidate relies on, v1 never had the field.
    history = [V_ID, rec(ID, {"name": "note", "type": "string", "default": ""})]
    cand = V_ID_NOTE_REQ
    assert check(cand, history, "BACKWARD").compatible
    result = check(cand, history, "BACKWARD_TRANSITIVE")
    assert [(f.code, f.against_version) for f in result.findings] == \
        [("FIELD_ADDED_WITHOUT_DEFAULT", 1)]


def test_mode_codes_and_locations_speak_of_the_candidate() -> None:
    old = rec(ID, N_LONG, {"name": "kind", "type": {"type": "enum", "name": "Kind",
                                                     "symbols": ["A", "B"]}})
    new_text = """{
  "type": "record", "name": "Event", "namespace": "acme",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "n", "type": "int"},
    {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A"]}},
    {"name": "extra", "type": "string"}
  ]
}"""
    back = check(new_text, [old], "BACKWARD")
    assert sorted((f.code, f.category, f.path) for f in back.findings) == [
        ("ENUM_SYMBOL_REMOVED", "ENUM", "/fields/2/type/symbols"),
        ("FIELD_ADDED_WITHOUT_DEFAULT", "FIELD", "/fields/3"),
        ("TYPE_NARROWED", "TYPE", "/fields/1/type"),
    ]
    locs = {f.code: str(f.loc) for f in back.findings}
    assert locs["FIELD_ADDED_WITHOUT_DEFAULT"] == "<candidate>:7:14"
    assert locs["TYPE_NARROWED"] == "<candidate>:5:14"

    fwd = check(old, [new_text], "FORWARD")  # the old schema as candidate writer
    assert sorted(f.code for f in fwd.findings) == [
        "ENUM_SYMBOL_ADDED", "FIELD_REMOVED_WITHOUT_DEFAULT", "TYPE_WIDENED"]


def test_none_and_empty_history() -> None:
    assert check(V_ID_NOTE_REQ, [V_ID], "NONE").compatible
    assert check(V_ID_NOTE_REQ, [], "FULL_TRANSITIVE").compatible
    with pytest.raises(ValueError):
        check(V_ID, [V_ID], "SIDEWAYS")
