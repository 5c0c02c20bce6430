"""Characters no spec text may hold, wherever it ends up (source code, SQL, configs).

YAML and JSON escapes (`"\\0"`, `"\\u0007"`, `"\\ud800"`) can put any code point into
a string; control characters other than tab and newline (outside field defaults), and
lone surrogates, are refused where they are written, before any generator sees them.
"""

from __future__ import annotations

import re
from typing import Any

from moosegen.diagnostics import Diagnostic
from moosegen.sourcemap import JsonPath, SourceMap

_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_SURROGATE = "\ud800-\udfff"
_BAD = re.compile(f"[{_CONTROL}{_SURROGATE}]")
# The default of an Avro (or shorthand) field may be bytes or fixed: a string of code
# points 0-255, control characters included. Generators write it as an escaped literal.
_BAD_IN_DEFAULT = re.compile(f"[{_SURROGATE}]")


def bad_character(text: str, pattern: re.Pattern[str] = _BAD) -> str | None:
    """A description of the first refused character of `text`, or None."""
    m = pattern.search(text)
    return f"U+{ord(m.group(0)):04X} at offset {m.start()}" if m else None


def text_problems(data: Any, smap: SourceMap) -> list[Diagnostic]:
    """A located error for every key or string value holding a refused character."""
    out: list[Diagnostic] = []
    stack: list[tuple[Any, JsonPath, re.Pattern[str]]] = [(data, (), _BAD)]
    while stack:
        value, where, pattern = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and (bad := bad_character(key)):
                    out.append(_diag(smap, (*where, key), "key", bad, key=True))
                in_field = key == "default" and "fields" in where
                inner = _BAD_IN_DEFAULT if in_field else pattern
                stack.append((item, (*where, key), inner))
        elif isinstance(value, list):
            stack.extend((item, (*where, i), pattern) for i, item in enumerate(value))
        elif isinstance(value, str) and (bad := bad_character(value, pattern)):
            out.append(_diag(smap, where, "value", bad))
    return sorted(out)


def _diag(
    smap: SourceMap, where: JsonPath, what: str, bad: str, *, key: bool = False
) -> Diagnostic:
    return smap.diag(
        where,
        "CONTROL_CHARACTER",
        f"{what} holds a control character or lone surrogate ({bad})",
        key=key,
    )
