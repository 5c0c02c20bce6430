"""A user's --templates folder replaces single ClickHouse macros; its errors are located."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from moosegen.build import generate
from moosegen.runtime.migrations import apply_migrations

from tests.clickhouse.conftest import ROOT

# Only two macros are replaced: every column gets a comment, every table a setting.
OVERRIDES = """\
{% macro column(c) -%}
{{ c.name|sql_ident }} {{ c.type }}
{%- if c.default is not none %} DEFAULT {{ c.default }}{% endif %}
 COMMENT {{ (c.comment or "undocumented")|sql_string }}
{%- if c.codec %} CODEC({{ c.codec }}){% endif %}
{%- endmacro %}
{% import "builtin:clickhouse/macros.sql.j2" as builtin %}
{% macro table_settings(t) -%}
{{ builtin.table_settings(t) }}, min_rows_for_wide_part = 7
{%- endmacro %}
"""


def _templates(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "templates"
    (folder / "clickhouse").mkdir(parents=True)
    (folder / "clickhouse" / "macros.sql.j2").write_text(textwrap.dedent(text))
    return folder


def _write(files: dict[str, bytes], out: Path) -> Path:
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    return out


def test_overridden_macros_reach_every_statement(
    tmp_path: Path, client: Any, database: str
) -> None:
    result = generate(ROOT / "specs", _templates(tmp_path, OVERRIDES))
    assert result.ok, [d.text() for d in result.diagnostics]
    out = _write(result.files, tmp_path / "gen")
    plain = generate(ROOT / "specs").files
    assert result.files["events/models.py"] == plain["events/models.py"]
    assert "COMMENT 'undocumented' CODEC(ZSTD(3))" in result.files["events/table.sql"].decode()
    for stream in ("events", "page_views"):
        apply_migrations(client, out / stream / "migrations", stream, database)
    tables = client.query(
        "SELECT name, engine_full FROM system.tables WHERE database = {db:String} "
        "AND name NOT LIKE '\\_moosegen%'",
        parameters={"db": database},
    ).result_rows
    assert {name for name, _ in tables} == {"events", "analytics_events", "page_views"}
    assert all("min_rows_for_wide_part = 7" in engine for _, engine in tables)
    comments = client.query(
        "SELECT table, name, comment FROM system.columns WHERE database = {db:String} "
        "AND table NOT LIKE '\\_moosegen%'",  # the migration runner's own tables
        parameters={"db": database},
    ).result_rows
    assert comments and all(comment for _, _, comment in comments)
    by_column = {(t, n): c for t, n, c in comments}
    assert by_column[("events", "id")] == "Unique event id."
    # the column a migration added went through the same macro
    assert by_column[("page_views", "referrer")] == "undocumented"


def test_unknown_variable_in_an_override_is_located(tmp_path: Path) -> None:
    bad = "{# a comment #}\n{% macro column(c) -%}\n{{ c.name }} {{ no_such }}\n{%- endmacro %}\n"
    templates = _templates(tmp_path, bad)
    result = generate(ROOT / "specs", templates)
    assert not result.ok and not result.files
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert errors and {d.code for d in errors} == {"TEMPLATE_ERROR"}
    assert {(Path(d.path).resolve(), d.line) for d in errors} == {
        ((templates / "clickhouse" / "macros.sql.j2").resolve(), 3)
    }
    assert all("'no_such' is undefined" in d.message for d in errors)


def test_syntax_error_in_an_override_is_located(tmp_path: Path) -> None:
    templates = _templates(tmp_path, "{% macro column(c) %}\n\n{% if %}\n{% endmacro %}\n")
    errors = [d for d in generate(ROOT / "specs", templates).diagnostics if d.severity == "error"]
    assert errors and {(d.code, d.line) for d in errors} == {("TEMPLATE_ERROR", 3)}
    assert all(d.path.endswith("clickhouse/macros.sql.j2") for d in errors)
