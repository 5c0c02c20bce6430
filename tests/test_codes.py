"""The registry of diagnostic codes (`moosegen.codes`) holds every code moosegen emits."""

from __future__ import annotations

import json
import re
from pathlib import Path

from moosegen.codes import BY_CODE, CODES, markdown_table
from moosegen.compat.jsonschema_codes import JSON_SCHEMA_CODES
from moosegen.output import Drift, drift_diagnostics

from tests.code_scan import emitted_codes
from tests.helpers import REPO, moosegen

PRINTED = re.compile(r": (error|warning)\[([A-Z0-9_]+)\]: ")
README_TABLE = re.compile(r"<!-- codes:begin -->\n(.*?)<!-- codes:end -->", re.S)
HOW_TO_ADD = 'add Code("{code}", CATEGORY, SEVERITY, "meaning") to generator/moosegen/codes.py'


def _source_codes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for e in emitted_codes(REPO / "generator" / "moosegen"):
        found.setdefault(e.code, []).append(f"generator/{e.where()}")
    return found


def _output_codes() -> set[str]:
    """The drift codes, which are built at run time from the drift kind."""
    kinds = ("CHANGED", "MISSING", "EXTRA")
    return {d.code for d in drift_diagnostics("out", [Drift(k, "f") for k in kinds])}


def test_every_code_in_the_source_is_registered() -> None:
    found = _source_codes()
    assert len(found) > 60, "the scan finds the codes (is tests/code_scan.py broken?)"
    missing = [
        f"{code} (emitted at {', '.join(found[code])}): {HOW_TO_ADD.format(code=code)}"
        for code in sorted(set(found) - set(BY_CODE))
    ]
    assert not missing, "unregistered diagnostic codes:\n" + "\n".join(missing)


def test_every_code_the_error_corpus_prints_is_registered() -> None:
    missing = []
    for expected in sorted((REPO / "tests" / "errors").glob("*/expected.txt")):
        for number, line in enumerate(expected.read_text().splitlines(), 1):
            for _, code in PRINTED.findall(line):
                if code not in BY_CODE:
                    where = f"{expected.relative_to(REPO)}:{number}"
                    missing.append(f"{code} (printed in {where}): {HOW_TO_ADD.format(code=code)}")
    assert not missing, "unregistered diagnostic codes:\n" + "\n".join(missing)


def test_the_drift_codes_are_registered() -> None:
    assert _output_codes() == {"OUTPUT_CHANGED", "OUTPUT_MISSING", "OUTPUT_EXTRA"}
    assert _output_codes() <= set(BY_CODE)


def test_every_registered_code_is_emitted_somewhere() -> None:
    """No stale entries: each code is found in the source, built by the drift report, or
    in the JSON Schema engine's table (its bound codes are built from keyword names)."""
    emitted = set(_source_codes()) | _output_codes() | set(JSON_SCHEMA_CODES)
    assert sorted(set(BY_CODE) - emitted) == []


def test_entries_are_well_formed() -> None:
    categories = {"SPEC", "SCHEMA", "CLICKHOUSE", "TEMPLATE", "REGISTRY", "OUTPUT"}
    categories |= {"FIELD", "TYPE", "NAME", "ENUM", "UNION"}
    categories |= {cat for cat, _ in JSON_SCHEMA_CODES.values()}
    for c in CODES:
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", c.code), c
        assert c.category in categories, c
        assert c.severity in ("error", "warning"), c
        assert c.description and "\n" not in c.description and "|" not in c.description, c


def test_the_readme_table_is_the_registry() -> None:
    readme = (REPO / "README.md").read_text()
    match = README_TABLE.search(readme)
    assert match, "README.md has no <!-- codes:begin --> ... <!-- codes:end --> block"
    assert match.group(1) == markdown_table(), (
        "the README's code table is stale: replace the block with "
        "`python -c 'from moosegen.codes import markdown_table; print(markdown_table())'`"
    )


def test_moosegen_codes_lists_the_registry() -> None:
    text = moosegen("codes")
    assert text.returncode == 0, text.stderr
    rows = [line.split()[:3] for line in text.stdout.splitlines()]
    assert rows == [[c.code, c.category, c.severity] for c in CODES]
    as_json = moosegen("codes", "--error-format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == [
        {
            "code": c.code,
            "category": c.category,
            "severity": c.severity,
            "description": c.description,
        }
        for c in CODES
    ]


def test_the_scan_sees_codes_in_every_code_position(tmp_path: Path) -> None:
    """The scanner itself, on a small package: positional, keyword, starred, variable."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "m.py").write_text(
        "from dataclasses import dataclass\n"
        "@dataclass\n"
        "class Diag:\n"
        "    path: str\n"
        "    severity: str\n"
        "    code: str\n"
        "RENAMED = {'OLD_CODE': 'NEW_CODE'}\n"
        "def report(where, code, message): ...\n"
        "def f(pos, x):\n"
        "    Diag('p', 'error', 'POSITIONAL_CODE')\n"
        "    Diag(*pos, 'warning', 'STARRED_CODE')\n"
        "    report(where=1, code='KEYWORD_CODE', message='m')\n"
        "    code = 'A_CODE' if x else 'B_CODE'\n"
        "    report(1, code, 'NOT_A_CODE_POSITION')\n"
        "    report(1, RENAMED.get(x, x), 'm')\n"
        "    report(1, f'BUILT_{x}_{\"PIECE\" if x else \"OTHER\"}', 'm')\n"
    )
    assert {e.code for e in emitted_codes(package)} == {
        "POSITIONAL_CODE",
        "STARRED_CODE",
        "KEYWORD_CODE",
        "A_CODE",
        "B_CODE",
        "OLD_CODE",
        "NEW_CODE",
    }
