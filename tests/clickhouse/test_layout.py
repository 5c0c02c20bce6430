"""The ClickHouse target decides, the templates write: no SQL statement text in Python."""

from __future__ import annotations

import re

from tests.clickhouse.conftest import ROOT

STATEMENT_TEXT = re.compile(r"CREATE TABLE|ALTER TABLE|ADD COLUMN|MODIFY COLUMN|ENGINE =")


def test_targets_hold_no_sql_statement_text() -> None:
    found = [
        f"{path.name}:{n}"
        for path in sorted((ROOT / "generator" / "moosegen" / "targets").glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if STATEMENT_TEXT.search(line)
    ]
    assert found == []
    macros = (ROOT / "templates" / "clickhouse" / "macros.sql.j2").read_text()
    assert "CREATE TABLE IF NOT EXISTS" in macros and "ALTER TABLE" in macros
