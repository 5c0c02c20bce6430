"""The Jinja environment: templates lay out text, every decision arrives in the context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2

from moosegen.runtime.chvalues import quote_identifier, quote_string
from moosegen.runtime.sqltext import inert_comment

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"
SOURCE_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def builtin_templates() -> Path:
    """The wheel ships templates inside the package; a source checkout keeps them at the root."""
    return BUILTIN_TEMPLATES if BUILTIN_TEMPLATES.is_dir() else SOURCE_TEMPLATES


def environment(user_templates: Path | None = None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if user_templates is not None:
        loaders.append(jinja2.FileSystemLoader(str(user_templates)))
    loaders.append(jinja2.FileSystemLoader(str(builtin_templates())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["pyrepr"] = repr
    env.filters["sql_ident"] = quote_identifier
    env.filters["sql_string"] = quote_string
    env.filters["sql_comment"] = inert_comment
    env.filters["json"] = lambda value, indent=None: json.dumps(
        value, indent=indent, ensure_ascii=False, sort_keys=False
    )
    return env


def render(env: jinja2.Environment, template: str, context: dict[str, Any]) -> str:
    return env.get_template(template).render(context)


def error_location(exc: jinja2.TemplateError, template: str) -> tuple[str, int]:
    """The template file and line an error comes from: a syntax error names them; for an
    error while rendering, the innermost template frame of the traceback (Jinja rewrites
    those frames to the template's file and line), which may be a user's override."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.filename or exc.name or template, exc.lineno
    found = (template, 1)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found
