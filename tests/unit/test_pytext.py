"""The string-literal filters of the templates give back exactly the text, within the width."""

from __future__ import annotations

import ast
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from moosegen.pytext import docstring, pyblock, pystr

# Quotes, backslashes, line separators, long words: what breaks literals.
TEXT = st.lists(
    st.sampled_from(['"', "'", "\\", " ", "a", "é", "\t", "\u2028", "\x00", "x" * 40, "\n"]),
    max_size=80,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_pystr_is_the_text(text: str) -> None:
    assert ast.literal_eval(pystr(text)) == text


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_pyblock_is_the_text_within_the_width(text: str) -> None:
    source = pyblock(text)
    assert ast.literal_eval(source) == text
    assert max(len(line) for line in source.split("\n")) <= 100


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_docstring_never_ends_the_literal(text: str) -> None:
    body = docstring(text)
    # Wrapping moves only whitespace: the words are the text's words.
    assert ast.literal_eval(f'"""{body}"""').split() == text.split()
    assert all(len(line) <= 88 or " " not in line.strip() for line in body.split("\n"))


def test_a_long_string_is_split_between_words() -> None:
    text = "word " * 40
    source = pystr(text)
    assert source.startswith("(") and ast.literal_eval(source) == text
    assert all(len(part) <= 72 for part in source[1:-1].split("' '"))


def test_json_in_a_block_stays_readable() -> None:
    source = pyblock(json.dumps({"doc": 'say "hi"'}, indent=2))
    assert '"doc": "say \\\\"hi\\\\""' in source
    assert source.startswith('"""\\\n{')
