"""Values as Python string literals, for templates (registered as Jinja filters in render.py).

ruff formats the generated code afterwards but never splits a string, and the
generated tree is held to a line length of 100: so a long text is written as
pieces that each fit (an implicit concatenation, a wrapped docstring, a
triple-quoted block with backslash-newline continuations). Every form evaluates
to exactly the given text, whatever it holds.
"""

from __future__ import annotations

import re
import textwrap

# Room for the text on a line: indentation and the code around it take the rest of 100.
PIECE = 72
DOC_WIDTH = 88
BLOCK_WIDTH = 99


def pystr(text: str) -> str:
    """A string literal; a long text becomes a parenthesized concatenation of word pieces."""
    if not isinstance(text, str):
        raise TypeError(f"pystr needs a str, got {type(text).__name__}")
    if len(repr(text)) <= PIECE:
        return repr(text)
    return "(" + " ".join(repr(piece) for piece in _pieces(text)) + ")"


def _pieces(text: str) -> list[str]:
    """`text` cut after spaces into pieces of at most PIECE characters (longer words alone)."""
    pieces: list[str] = []
    current = ""
    for word in re.split(r"(?<= )", text):
        if current and len(repr(current + word)) > PIECE:
            pieces.append(current)
            current = ""
        current += word
    return [*pieces, current]


def docstring(text: str, width: int = DOC_WIDTH) -> str:
    """A docstring body: paragraphs wrapped to `width`; backslashes, quotes and control
    characters made inert."""
    lines: list[str] = []
    for paragraph in text.strip().split("\n\n"):
        if lines:
            lines.append("")
        flat = "".join(_escape(ch) for ch in " ".join(paragraph.split()))
        flat = flat.replace('"""', '\\"\\"\\"')
        lines += textwrap.wrap(flat, width, break_long_words=False, break_on_hyphens=False)
    body = "\n".join(lines)
    return body + " " if body.endswith('"') else body


def pyblock(text: str, width: int = BLOCK_WIDTH) -> str:
    """A triple-quoted literal of a multi-line text, each source line at most `width` wide.

    The text starts on the line after the opening quotes (a continuation keeps it
    exact); a line too long is continued with a backslash-newline, which adds nothing.
    Only the quotes that could close the literal are escaped, so JSON stays readable.
    """
    rows = []
    for line in text.split("\n"):
        row = ""
        closing_safe = True  # the row does not end with an unescaped quote
        quotes = 0  # unescaped quotes at the end of `row`
        for ch in line:
            piece = _escape(ch)
            quotes = quotes + 1 if ch == '"' else 0
            if quotes == 3:
                piece, quotes = '\\"', 0
            if len(row) + len(piece) + 1 > width:
                rows.append(row + "\\")
                row, quotes = "", int(piece == '"')
            row += piece
            closing_safe = piece != '"'
        rows.append(row)
    if not closing_safe:
        rows[-1] = rows[-1][:-1] + '\\"'
    if len(rows[-1]) + 3 > width + 1:
        rows[-1] += "\\"
        rows.append("")
    return '"""\\\n' + "\n".join(rows) + '"""'


def _escape(ch: str) -> str:
    if ch == "\\":
        return "\\\\"
    if not ch.isprintable():
        return ch.encode("unicode_escape").decode("ascii")
    return ch
