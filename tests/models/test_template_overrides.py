"""A user's `--templates` folder overrides single macros of models.py; a broken override
is a located TEMPLATE_ERROR; the embedded schema is reviewable text."""

from __future__ import annotations

import difflib
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from moosegen.build import generate

from tests.helpers import REPO, moosegen

MIXIN = '''"""A user's mixin for every generated model."""


class Audited:
    def audit_label(self) -> str:
        return f"audited {type(self).__name__}"
'''
# Only the macros it changes: the bases of every model, and the import they need.
OVERRIDE = """{% import "builtin:models/macros.py.j2" as builtin %}
{% macro model_bases(model) %}{{ builtin.model_bases(model) }}, Audited{% endmacro %}
{% macro imports(models) %}
{{ builtin.imports(models) }}
from audit_mixin import Audited
{% endmacro %}
"""


def _user_macros(root: Path, text: str) -> Path:
    folder = root / "user_templates"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "macros.py.j2").write_text(text)
    return folder


def test_overriding_the_bases_macro_adds_a_mixin_to_every_model(tmp_path: Path) -> None:
    templates = _user_macros(tmp_path, OVERRIDE)
    # The user's own package, outside the generated tree (third-party to it, as for ruff).
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "audit_mixin.py").write_text(MIXIN)
    out = tmp_path / "mg_audited"
    result = moosegen("build", "specs", "-o", str(out), "--templates", str(templates))
    assert result.returncode == 0, result.stderr
    text = (out / "events" / "models.py").read_text()
    assert "class Event(BaseModel, Audited):" in text
    assert "class AnalyticsEvent(BaseModel, Audited):" in text
    # Everything else is the built-in layout.
    builtin = (REPO / "generated" / "events" / "models.py").read_text()
    assert text.replace(", Audited)", ")").replace("from audit_mixin import Audited\n", "") == (
        builtin
    )

    sys.path[:0] = [str(tmp_path), str(lib)]
    try:
        events = importlib.import_module("mg_audited.events.models")
        mixin = importlib.import_module("audit_mixin")
    finally:
        sys.path.remove(str(tmp_path))
        sys.path.remove(str(lib))
    assert issubclass(events.Event, mixin.Audited)
    assert events.MODEL.model_validate(
        {"id": "00000000-0000-0000-0000-000000000001", "timestamp": 0, "user_id": "u"}
    ).audit_label() == ("audited Event")

    lint = [sys.executable, "-m", "ruff", "check", "--config", str(REPO / "pyproject.toml")]
    for cmd in (
        [*lint, "--no-cache", "mg_audited"],
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "mg_audited"],
    ):
        proc = subprocess.run(
            cmd,
            cwd=tmp_path,
            env={**os.environ, "MYPYPATH": str(lib)},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_unknown_variable_in_an_override_is_a_located_template_error(tmp_path: Path) -> None:
    templates = _user_macros(
        tmp_path,
        "{# line 1 #}\n"
        "{% macro model_bases(model) %}BaseModel, {{ no_such_mixin }}{% endmacro %}\n",
    )
    result = moosegen("build", "specs", "-o", str(tmp_path / "out"), "--templates", str(templates))
    assert result.returncode == 2
    where = f"{templates}/models/macros.py.j2:2:1: error[TEMPLATE_ERROR]"
    assert where in result.stderr, result.stderr
    assert "no_such_mixin" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_syntax_error_in_an_override_names_its_line(tmp_path: Path) -> None:
    templates = _user_macros(tmp_path, "\n\n{% macro model_bases(model %}x{% endmacro %}\n")
    result = generate(REPO / "specs", templates)
    errors = [d for d in result.diagnostics if d.code == "TEMPLATE_ERROR"]
    assert errors and not result.ok
    assert {(d.path, d.line) for d in errors} == {(f"{templates}/models/macros.py.j2", 3)}


def test_a_built_in_template_error_names_the_built_in_file(tmp_path: Path) -> None:
    folder = tmp_path / "user_templates" / "models"
    folder.mkdir(parents=True)
    # A user models.py.j2 that calls a macro of the built-in file with a wrong argument.
    (folder / "models.py.j2").write_text(
        '{% set m = macros("models/macros.py.j2") %}\n{{ m.model_class(models.main) }}\n'
    )
    result = generate(REPO / "specs", tmp_path / "user_templates")
    errors = [d for d in result.diagnostics if d.code == "TEMPLATE_ERROR"]
    assert errors and all(d.path == "templates/models/macros.py.j2" for d in errors), errors
    builtin = (REPO / "templates/models/macros.py.j2").read_text().splitlines()
    assert all("model.name" in builtin[d.line - 1] for d in errors), errors


def test_a_filter_failing_in_an_override_is_located(tmp_path: Path) -> None:
    templates = _user_macros(
        tmp_path, "{% macro model_bases(model) %}BaseModel{{ 7 | pystr }}{% endmacro %}\n"
    )
    result = generate(REPO / "specs", templates)
    errors = [d for d in result.diagnostics if d.code == "TEMPLATE_ERROR"]
    assert errors and {(d.path, d.line) for d in errors} == {
        (f"{templates}/models/macros.py.j2", 1)
    }
    assert "pystr needs a str" in errors[0].message


def _events_schema(tmp_path: Path, name: str, edit: tuple[str, str]) -> list[str]:
    """SCHEMA_JSON of the example's `events` after an edit of its .avsc (a fresh registry)."""
    specs = tmp_path / name
    shutil.copytree(REPO / "specs", specs, ignore=shutil.ignore_patterns("registry"))
    avsc = specs / "events.avsc"
    assert edit[0] in avsc.read_text()
    avsc.write_text(avsc.read_text().replace(*edit))
    result = generate(specs)
    assert result.ok, [d.text() for d in result.diagnostics]
    models = result.files["events/models.py"].decode()
    return models.split("SCHEMA_JSON = ")[1].split('"""')[1].splitlines()


def test_a_one_field_change_is_a_one_line_schema_diff(tmp_path: Path) -> None:
    before = _events_schema(tmp_path, "a", ("", ""))
    after = _events_schema(
        tmp_path, "b", ('"user_id", "type": "string"', '"user_id", "type": "bytes"')
    )
    changed = [
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == [
        '-    {"name": "user_id", "type": "string"},',
        '+    {"name": "user_id", "type": "bytes"},',
    ]
