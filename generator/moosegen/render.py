"""The Jinja environment: templates lay out text, every decision arrives in the context."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import jinja2

from moosegen import pytext
from moosegen.runtime.chvalues import quote_identifier, quote_string
from moosegen.runtime.sqltext import inert_comment

# Longer strings are written as an implicit concatenation of pieces split after spaces,
# which the formatter joins wherever the whole fits on a line and keeps apart elsewhere.
STRING_PIECE = 60

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"
SOURCE_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# `builtin:models/macros.py.j2` is always moosegen's own template, even when a user's
# folder overrides `models/macros.py.j2` (so an override can call the original).
BUILTIN_PREFIX = "builtin:"


def builtin_templates() -> Path:
    """The wheel ships templates inside the package; a source checkout keeps them at the root."""
    return BUILTIN_TEMPLATES if BUILTIN_TEMPLATES.is_dir() else SOURCE_TEMPLATES


def python_literal(value: Any) -> str:
    """The Python source of a plain value (None, bool, int, float, str, tuple, list, dict).

    Anything else raises TypeError, so a template never writes an object's repr
    that would not read back as the same value. The formatter picks the quotes.
    """
    if isinstance(value, str):
        return _string_literal(value)
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"no Python literal for the float {value!r}")
        return repr(value)
    if isinstance(value, tuple):
        items = [python_literal(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    raise TypeError(f"no Python literal for {type(value).__name__}")


def _string_literal(text: str) -> str:
    pieces: list[str] = []
    for word in re.split(r"(?<= )", text):
        if pieces and len(pieces[-1]) + len(word) <= STRING_PIECE:
            pieces[-1] += word
        else:
            pieces.append(word)
    if len(pieces) < 2:
        return repr(text)
    return "(" + " ".join(repr(p) for p in pieces) + ")"


class TemplateFailure(Exception):
    """A template that does not load or render, at the template line that failed."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class Environment(jinja2.Environment):
    """Remembers where its template folders are, to name a failing template's file."""

    folders: dict[str, str]  # a template folder -> how diagnostics name it


class MacroLayers:
    """The macros of one template, each the user's definition if their file has one,
    else the built-in one. Built-in macros call each other through this object, so
    a user's folder overrides one macro by defining only that macro."""

    def __init__(self, env: jinja2.Environment, name: str) -> None:
        self._env = env
        self._name = name
        self._found: dict[str, Any] = {}

    def __getattr__(self, macro: str) -> Any:
        if macro not in self._found:
            for name in (self._name, BUILTIN_PREFIX + self._name):
                module = self._env.get_template(name).module
                if hasattr(module, macro):
                    self._found[macro] = getattr(module, macro)
                    break
            else:
                raise AttributeError(f"no macro {macro!r} in {self._name}")
        return self._found[macro]


def environment(user_templates: Path | None = None) -> Environment:
    builtin = jinja2.FileSystemLoader(str(builtin_templates()))
    loaders: list[jinja2.BaseLoader] = []
    folders = {str(builtin_templates()): "templates"}
    if user_templates is not None:
        loaders.append(jinja2.FileSystemLoader(str(user_templates)))
        folders[str(user_templates)] = str(user_templates)
    loaders += [builtin, jinja2.PrefixLoader({BUILTIN_PREFIX[:-1]: builtin}, delimiter=":")]
    env = Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.folders = folders
    env.filters["pyrepr"] = python_literal
    env.filters["sql_ident"] = quote_identifier
    env.filters["sql_string"] = quote_string
    env.filters["sql_comment"] = inert_comment
    env.filters["pystr"] = pytext.pystr
    env.filters["pyblock"] = pytext.pyblock
    env.filters["docstring"] = pytext.docstring
    env.filters["json"] = lambda value, indent=None: json.dumps(
        value, indent=indent, ensure_ascii=False, sort_keys=False
    )
    env.globals["macros"] = lambda name: MacroLayers(env, name)
    return env


def render(env: Environment, template: str, context: dict[str, Any]) -> str:
    """The rendered text; TemplateFailure for a template that fails to load or render, or
    whose code (a filter, a macro) raises, at the innermost template line involved."""
    try:
        return env.get_template(template).render(context)
    except Exception as exc:
        where = _where(env, exc)
        if where is None and not isinstance(exc, jinja2.TemplateError):
            raise  # not the template's doing: a bug of moosegen, with its traceback
        path, line = where or (f"templates/{template}", 1)
        raise TemplateFailure(path, line, f"{type(exc).__name__}: {exc}") from exc


def _where(env: Environment, exc: Exception) -> tuple[str, int] | None:
    """The innermost template frame of the failure (Jinja maps its frames to template lines)."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        shown = _shown(env, exc.filename or "")
        return None if shown is None else (shown, exc.lineno)
    where = None
    tb = exc.__traceback__
    while tb is not None:
        shown = _shown(env, tb.tb_frame.f_code.co_filename)
        if shown is not None:
            where = (shown, tb.tb_lineno)
        tb = tb.tb_next
    return where


def _shown(env: Environment, filename: str) -> str | None:
    """A template file as diagnostics name it (relative, never a machine path of moosegen)."""
    for folder, shown in env.folders.items():
        if filename and Path(filename).is_relative_to(folder):
            return f"{shown}/{Path(filename).relative_to(folder).as_posix()}"
    return None
