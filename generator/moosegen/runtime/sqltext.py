# Copied by `moosegen build` into generated/_runtime/. DO NOT EDIT the copy.
"""ClickHouse SQL text by its lexical structure: literals, quoted names, heredocs, comments.

One scanner serves both sides: the generator checks user expressions with it and
the migration runner splits files with it, so neither can be fooled by a `;` or a
statement marker hidden in a form only ClickHouse's lexer would see. The rules
mirror ClickHouse's lexer: '…', "…" and `…` take backslash escapes and doubled
quotes; `$tag$…$tag$` (tag of [A-Za-z0-9_], possibly empty) is a string only where
a token starts and the closing tag exists, otherwise `$` is a word character;
`--` and `# `/`#!` comments run to a line feed only; `/* */` comments nest.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

# Every character some tool treats as a line break (str.splitlines() among them).
LINE_TERMINATORS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_HEREDOC_TAG = re.compile(r"\$[A-Za-z0-9_]*\$")

Kind = Literal["code", "string", "quoted", "heredoc", "comment"]


class Piece(NamedTuple):
    kind: Kind
    text: str


class SqlTextError(ValueError):
    """The text does not scan: an unterminated literal, quoted name or comment."""


def pieces(text: str) -> list[Piece]:
    """`text` cut into code, literal and comment pieces; their texts join back to `text`."""
    out: list[Piece] = []
    code_start = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        end: int | None = None
        kind: Kind = "code"
        if c in "'\"`":
            end, kind = _quoted_end(text, i), "string" if c == "'" else "quoted"
        elif text.startswith("--", i) or (c == "#" and text[i + 1 : i + 2] in (" ", "!")):
            newline = text.find("\n", i)
            end, kind = (n if newline < 0 else newline), "comment"
        elif text.startswith("/*", i):
            end, kind = _block_comment_end(text, i), "comment"
        elif c == "$" and not _in_word(text, i):
            end, kind = _heredoc_end(text, i), "heredoc"
        if end is None:
            i += 1
            continue
        if code_start < i:
            out.append(Piece("code", text[code_start:i]))
        out.append(Piece(kind, text[i:end]))
        code_start = i = end
    if code_start < n:
        out.append(Piece("code", text[code_start:]))
    return out


def _quoted_end(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == quote:
            if text[i + 1 : i + 2] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    raise SqlTextError(f"unterminated {quote} quote")


def _block_comment_end(text: str, start: int) -> int:
    depth = 0
    i = start
    while i < len(text):
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    raise SqlTextError("unterminated /* comment")


def _in_word(text: str, i: int) -> bool:
    """Inside a bare word ClickHouse reads `$` as part of the word (`a$b$` is one name)."""
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_$")


def _heredoc_end(text: str, start: int) -> int | None:
    m = _HEREDOC_TAG.match(text, start)
    if m is None:
        return None
    close = text.find(m.group(), m.end())
    return None if close < 0 else close + len(m.group())


def inert_comment(text: str) -> str:
    """`text` fit for a one-line comment (`--`, `#`): no character that could end the line
    is left raw."""
    return "".join(
        (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        if c in LINE_TERMINATORS or ord(c) < 0x20 or ord(c) == 0x7F
        else c
        for c in text
    )
