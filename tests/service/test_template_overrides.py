"""A `--templates` folder changes every service: by extending the service template's
blocks or by replacing a macro; a mistake in it is a located TEMPLATE_ERROR."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO, moosegen

EXTENDED = """\
{% extends "builtin:service/service.py.j2" %}
{% block main %}


def describe() -> str:
    return "custom service of " + CONFIG.stream
{% endblock %}
"""


def _project(tmp_path: Path, templates: dict[str, str]) -> tuple[Path, Path]:
    """The example specs and a templates folder holding `templates` (relative name → text)."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "specs", root / "specs", ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in templates.items():
        path = root / "my_templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root, root / "my_templates"


def _run(root: Path, *code_or_module: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(root / "specs")  # the hooks; the services need no moosegen
    return subprocess.run(
        [sys.executable, *code_or_module],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_extending_the_service_template_adds_a_function_to_every_service(
    tmp_path: Path,
) -> None:
    root, templates = _project(tmp_path, {"service/service.py.j2": EXTENDED})
    result = moosegen("build", "specs", "-o", "custom", "--templates", str(templates), cwd=root)
    assert result.returncode == 0, result.stderr
    streams = sorted(p.parent.name for p in (root / "custom").glob("*/service.py"))
    specs = sorted(p.stem for p in (root / "specs").glob("*.yaml") if p.name != "moosegen.yaml")
    assert streams == specs and {"commands", "events", "enriched_events"} <= set(streams)
    for stream in streams:
        text = (root / "custom" / stream / "service.py").read_text()
        assert text.endswith(
            '\n\ndef describe() -> str:\n    return "custom service of " + CONFIG.stream\n'
        )
        assert "CONFIG = ServiceConfig(" in text  # the rest of the built-in template
    described = _run(root, "-c", "from custom.events.service import describe; print(describe())")
    assert described.stdout == "custom service of events\n", described.stderr
    helped = _run(root, "-m", "custom.events", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--bootstrap-servers" in helped.stdout


# One macro replaced, the built-in called inside it: every column gets a comment line.
COLUMN_OVERRIDE = """\
{% macro column_config(c) -%}
{% import "builtin:service/macros.py.j2" as builtin %}

# table type: {{ c.type }}
{{ builtin.column_config(c) }}
{%- endmacro %}
"""


def test_one_replaced_macro_changes_every_column(tmp_path: Path) -> None:
    root, templates = _project(tmp_path, {"service/macros.py.j2": COLUMN_OVERRIDE})
    result = moosegen("build", "specs", "-o", "custom", "--templates", str(templates), cwd=root)
    assert result.returncode == 0, result.stderr
    text = (root / "custom" / "events" / "service.py").read_text()
    assert "# table type: LowCardinality(String)\n" in text
    columns = len(re.findall(r"^ +ColumnConfig\(", text, re.M))
    commented = re.findall(r"^ +# table type: .+\n +ColumnConfig\(", text, re.M)
    assert columns == 15 and len(commented) == columns
    # The other macros are the built-in ones: the rest of the file is unchanged.
    builtin = (REPO / "generated" / "events" / "service.py").read_text()
    assert text.split("columns=(")[0] == builtin.split("columns=(")[0]
    assert "dead_letter=DeadLetterConfig(" in text and "TopicConfig(" in text
    helped = _run(root, "-m", "custom.events", "--help")
    assert helped.returncode == 0, helped.stderr


def test_an_unknown_variable_in_an_override_is_located(tmp_path: Path) -> None:
    broken = EXTENDED.replace("CONFIG.stream", "CONFIG.stream\n{{ no_such_value }}")
    root, templates = _project(tmp_path, {"service/service.py.j2": broken})
    result = moosegen("build", "specs", "-o", "custom", "--templates", "my_templates", cwd=root)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    line = broken.splitlines().index("{{ no_such_value }}") + 1
    expected = (
        f"my_templates/service/service.py.j2:{line}:1: error[TEMPLATE_ERROR]: "
        "rendering events/service.py failed: UndefinedError: 'no_such_value' is undefined"
    )
    assert expected in result.stderr.splitlines()
    assert not (root / "custom").exists(), "a failed build writes nothing"


def test_an_error_inside_a_macro_names_the_macro_file(tmp_path: Path) -> None:
    broken = COLUMN_OVERRIDE.replace("{{ c.type }}", "{{ c.no_such_attribute }}")
    assert broken != COLUMN_OVERRIDE
    root, templates = _project(tmp_path, {"service/macros.py.j2": broken})
    result = moosegen("build", "specs", "-o", "custom", "--templates", "my_templates", cwd=root)
    assert result.returncode == 2
    line = next(i for i, t in enumerate(broken.splitlines(), 1) if "no_such_attribute" in t)
    assert f"my_templates/service/macros.py.j2:{line}:1: error[TEMPLATE_ERROR]: " in (result.stderr)
    assert "no_such_attribute" in result.stderr and "Traceback" not in result.stderr
