"""Properties of the JSON Schema rules, checked with a real validator (the `jsonschema`
package): every schema reads itself, and when `can_read(R, W)` holds, every instance
valid under W is valid under R — the soundness that makes the rules trustworthy.

Random schemas use no `oneOf` and no `default`: Confluent counts a oneOf sub-schema
added as compatible even when sub-schemas overlap, and a required property with a
default as compatible (readers fill it in); a validator agrees with neither (README)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator
from jsonschemagen import instances, mutation, schemas
from moosegen.compat.jsonschema import can_read, reader_writer_findings

VALIDATORS = {"draft-07": Draft7Validator, "2020-12": Draft202012Validator}
DRAFTS = list(VALIDATORS)
SETTINGS = settings(max_examples=250, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("draft", DRAFTS)
@SETTINGS
@given(data=st.data())
def test_every_schema_reads_itself(draft: str, data: st.DataObject) -> None:
    schema = data.draw(schemas(draft))
    assert can_read(schema, schema), reader_writer_findings(schema, schema)


@st.composite
def pairs(draw: Any, draft: str) -> tuple[Any, Any]:
    writer = draw(schemas(draft))
    reader = writer
    for _ in range(draw(st.integers(1, 3))):
        reader = draw(mutation(reader, draft))
    return reader, writer


def _valid(validator: Any, instance: Any) -> bool:
    return bool(validator.is_valid(instance))


@pytest.mark.parametrize("draft", DRAFTS)
@SETTINGS
@given(data=st.data())
def test_compatible_means_every_writer_instance_is_valid_for_the_reader(
    draft: str, data: st.DataObject
) -> None:
    reader, writer = data.draw(pairs(draft))
    if not can_read(reader, writer):
        return
    wv, rv = VALIDATORS[draft](writer), VALIDATORS[draft](reader)
    for _ in range(25):
        instance = data.draw(instances(writer, writer))
        if _valid(wv, instance):
            assert _valid(rv, instance), (
                f"judged compatible, but an instance valid for the writer is not valid for "
                f"the reader:\n  instance={json.dumps(instance)}\n  writer={json.dumps(writer)}"
                f"\n  reader={json.dumps(reader)}")


@pytest.mark.parametrize("draft", DRAFTS)
def test_mutated_pairs_meet_both_verdicts(draft: str) -> None:
    """The soundness check has work to do: the pairs are not all (in)compatible."""
    seen: set[bool] = set()

    @SETTINGS
    @given(pair=pairs(draft))
    def collect(pair: tuple[Any, Any]) -> None:
        seen.add(can_read(*pair))

    collect()
    assert seen == {True, False}
