"""Differential: every JSON Schema corpus pair against a live Confluent-compatible registry.

For each case and direction the writer is registered under a fresh subject, the
subject's mode is set, and the reader is tested with
`POST /compatibility/subjects/{subject}/versions/latest`. The registry must agree with
the case's expected verdict, except for the directions the case lists under
`registry_differs` (moosegen follows Confluent's documented rule there): for exactly
those, the registry must decide the other way. `offline_only` cases (a registry would
fetch their remote `$ref`s) are listed, never sent.

Needs the `schema_registry_url` fixture (tests/registry_fixtures.py, started by
scripts/schema-registry); it fails, never skips, when the registry cannot start.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from jsonschema_corpus import DIRECTIONS, Case, load_cases
from jsonschemagen import DRAFT_URLS

CASES = load_cases()
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


def call(base: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": CONTENT_TYPE,
                                              "Accept": CONTENT_TYPE})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace")
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, text


def registry_schema(schema: Any) -> str:
    """The schema as the registry takes it. Apicurio recognises JSON Schema content only
    by a root object naming `$schema`, and its validator (everit) knows drafts 04-07 and
    fails on any other `$schema`: so every case goes with the draft-07 URL (2020-12-only
    keywords then show up as registry differences), and a boolean root becomes the
    equivalent object."""
    if isinstance(schema, bool):
        schema = {} if schema else {"not": {}}
    return json.dumps({**schema, "$schema": DRAFT_URLS["draft-07"]})


def registry_verdict(base: str, case: Case, direction: str) -> bool | str:
    """True/False from the registry, or the text of the error it answered with."""
    subject = f"moosegen-js-{case.name}-{direction.lower()}-{uuid.uuid4().hex[:8]}"
    quoted = urllib.request.quote(subject, safe="")
    status, body = call(base, "POST", f"/subjects/{quoted}/versions",
                        {"schemaType": "JSON", "schema": registry_schema(case.writer)})
    if status != 200:
        return f"registering the writer: HTTP {status} {body}"
    status, body = call(base, "PUT", f"/config/{quoted}", {"compatibility": direction})
    if status != 200:
        return f"setting {direction}: HTTP {status} {body}"
    status, body = call(base, "POST", f"/compatibility/subjects/{quoted}/versions/latest",
                        {"schemaType": "JSON", "schema": registry_schema(case.reader)})
    if status != 200 or not isinstance(body, dict) or "is_compatible" not in body:
        return f"testing the reader: HTTP {status} {body}"
    return bool(body["is_compatible"])


@pytest.mark.slow
def test_registry_agrees_except_where_the_case_says_it_differs(
    schema_registry_url: str,
) -> None:
    offline = [c.name for c in CASES if c.offline_only]
    assert len(offline) < len(CASES) // 10, f"too many cases kept offline: {offline}"
    problems: list[str] = []
    for case in CASES:
        if case.offline_only:
            continue
        for direction in DIRECTIONS:
            ours = not case.expected[direction]
            theirs = registry_verdict(schema_registry_url, case, direction)
            differs = case.registry_differs.get(direction)
            if isinstance(theirs, str):
                problems.append(f"{case.name} {direction}: the registry answered {theirs}")
            elif differs and theirs == ours:
                problems.append(f"{case.name} {direction}: registry_differs says "
                                f"{differs!r}, but the registry agrees ({theirs})")
            elif not differs and theirs != ours:
                problems.append(f"{case.name} {direction}: moosegen says "
                                f"{'compatible' if ours else 'incompatible'}, the registry "
                                f"{'compatible' if theirs else 'incompatible'} ({case.reason})")
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems)
