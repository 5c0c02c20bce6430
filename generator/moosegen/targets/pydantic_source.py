"""Python source text that is already `ruff format`-clean: literals and call layout.

The generator never shells out to ruff; instead every construct it emits either fits
on one line (and is written on one line) or is exploded one item per line with a
trailing comma, a layout ruff format keeps as it is (the "magic trailing comma").
"""

from __future__ import annotations

WIDTH = 100
INDENT = "    "


def py_str(text: str, prefix: str = "") -> str:
    """A string literal in the quote style ruff format prefers (double unless that escapes more)."""
    body = repr(text)[1:-1]
    # repr escapes only the quote it chose; undo that and escape ours.
    if repr(text)[0] == "'":
        body = body.replace("\\'", "'")
    else:
        body = body.replace('\\"', '"')
    quote = "'" if text.count('"') > text.count("'") else '"'
    body = body.replace(quote, "\\" + quote)
    return f"{prefix}{quote}{body}{quote}"


def py_bytes(data: bytes) -> str:
    body = repr(data)[2:-1]
    if repr(data)[1] == "'":
        body = body.replace("\\'", "'")
    else:
        body = body.replace('\\"', '"')
    quote = "'" if data.count(b'"') > data.count(b"'") else '"'
    body = body.replace(quote, "\\" + quote)
    return f"b{quote}{body}{quote}"


def str_chunks(text: str, room: int, breaks: str = "") -> list[str]:
    """Split `text` into literals of at most `room` characters each (never inside an escape).

    With `breaks`, a chunk ends after the last of those characters it holds, if any.
    """
    chunks: list[str] = []
    current = ""
    for ch in text:
        if current and len(py_str(current + ch)) > room:
            cut = max(current.rfind(b) for b in breaks) + 1 if breaks else 0
            cut = cut or len(current)
            chunks.append(py_str(current[:cut]))
            current = current[cut:]
            if current and len(py_str(current + ch)) > room:
                chunks.append(py_str(current))
                current = ""
        current += ch
    if current or not chunks:
        chunks.append(py_str(current))
    return chunks


def str_expr(text: str, indent: int, used: int, breaks: str = "") -> str:
    """A string expression placed after `used` characters on a line indented `indent` levels.

    One literal when it fits; otherwise a parenthesized implicit concatenation (split
    after one of the `breaks` characters where there is one).
    """
    single = py_str(text)
    if indent * 4 + used + len(single) <= WIDTH:
        return single
    inner = INDENT * (indent + 1)
    chunks = str_chunks(text, WIDTH - len(inner), breaks)
    lines = "\n".join(inner + chunk for chunk in chunks)
    return "(\n" + lines + "\n" + INDENT * indent + ")"


def call(head: str, args: list[str], indent: int, used: int, tail: str = ")") -> str:
    """`head(arg, ...)`: one line when it fits, else one argument per line with a trailing comma.

    `used` counts the characters before `head` on its line; `indent` is the line's level.
    """
    one = head + ", ".join(args) + tail
    if "\n" not in one and indent * 4 + used + len(one) <= WIDTH:
        return one
    inner = INDENT * (indent + 1)
    body = "".join(f"{inner}{arg},\n" for arg in args)
    return f"{head}\n{body}{INDENT * indent}{tail}"


def docstring(text: str, indent: int) -> str:
    """A docstring body line(s), wrapped to the width; quotes and backslashes made safe."""
    import textwrap

    clean = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    pad = INDENT * indent
    paragraphs = [p.strip() for p in clean.split("\n\n")]
    lines: list[str] = []
    for i, para in enumerate(paragraphs):
        if i:
            lines.append("")
        flat = " ".join(para.split())
        lines.extend(textwrap.wrap(flat, WIDTH - len(pad) - 6) or [""])
    if lines and lines[-1].endswith('"'):
        lines[-1] += " "
    if len(lines) == 1 and len(pad) + len(lines[0]) + 6 <= WIDTH:
        return f'{pad}"""{lines[0]}"""'
    body = "\n".join((pad + line) if line else "" for line in lines)
    return f'{pad}"""{body[len(pad) :]}\n{pad}"""'
