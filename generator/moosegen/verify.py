"""Generated Python is compiled (never run) before it is written: a spec that slips a
name or text past validation and breaks the source fails the build, not the import."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from moosegen.diagnostics import Diagnostic


def check_python(
    files: dict[str, bytes], origins: Mapping[str, str] | None = None
) -> list[Diagnostic]:
    """A GENERATED_INVALID error for every `.py` of `files` that does not compile.

    `origins` maps a stream package (the first folder of an output path) to the spec it
    came from; the error is reported at that spec, naming the generated file and line.
    """
    origins = origins or {}
    out: list[Diagnostic] = []
    for rel in sorted(files):
        if not rel.endswith(".py"):
            continue
        problem = _compile_problem(files[rel], rel)
        if problem is None:
            continue
        package = rel.split("/", 1)[0] if "/" in rel else ""
        spec = origins.get(package) or next(iter(sorted(origins.values())), rel)
        out.append(
            Diagnostic(
                spec,
                1,
                1,
                "error",
                "GENERATED_INVALID",
                f"generated {rel} would not be valid Python ({problem}); "
                "the spec holds a name or text the generator cannot write",
                "TEMPLATE",
            )
        )
    return out


def _compile_problem(source: bytes, rel: str) -> str | None:
    with warnings.catch_warnings():
        # An invalid escape today is a syntax error in a later Python.
        warnings.simplefilter("error", SyntaxWarning)
        try:
            compile(source, rel, "exec", dont_inherit=True)
        except SyntaxError as exc:
            return f"line {exc.lineno or 1}: {exc.msg}"
        except SyntaxWarning as exc:
            return f"{exc}"
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, deep nesting
            return f"{type(exc).__name__}: {exc}"
    return None
