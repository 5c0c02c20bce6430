"""Load YAML and JSON documents together with the position of every key and value.

Positions are 1-based (line, column), as editors and `file:line:col` show them.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable
from typing import Any

import yaml

from moosegen.diagnostics import Diagnostic

JsonPath = tuple[str | int, ...]
Pos = tuple[int, int]


class SourceMap:
    """Positions of a document's keys and values, by JSON path.

    A map may be filled on first use (`locate`): the fast JSON loader defers its
    positioned scan until a position is actually asked for.
    """

    def __init__(
        self,
        path: str,
        keys: dict[JsonPath, Pos] | None = None,
        values: dict[JsonPath, Pos] | None = None,
        *,
        locate: Callable[[SourceMap], None] | None = None,
    ) -> None:
        self.path = path
        self._keys: dict[JsonPath, Pos] = {} if keys is None else keys
        self._values: dict[JsonPath, Pos] = {} if values is None else values
        self._locate = locate

    def _located(self) -> None:
        if self._locate is not None:
            locate, self._locate = self._locate, None
            locate(self)

    @property
    def pending(self) -> bool:
        """Are the positions still to be located?"""
        return self._locate is not None

    @property
    def keys(self) -> dict[JsonPath, Pos]:
        self._located()
        return self._keys

    @property
    def values(self) -> dict[JsonPath, Pos]:
        self._located()
        return self._values

    def pos(self, where: JsonPath, *, key: bool = False) -> Pos:
        """Position of the value (or key) at `where`, else of its nearest located parent."""
        self._located()
        values = self._values
        table = self._keys if key else values
        probe = tuple(where)
        while probe:
            if probe in table:
                return table[probe]
            if probe in values:
                return values[probe]
            probe = probe[:-1]
        return values.get((), (1, 1))

    def diag(
        self,
        where: JsonPath,
        code: str,
        message: str,
        *,
        key: bool = False,
        severity: str = "error",
        category: str = "SPEC",
    ) -> Diagnostic:
        line, col = self.pos(where, key=key)
        return Diagnostic(self.path, line, col, severity, code, message, category)  # type: ignore[arg-type]


class LoadError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.text())


# ---------------------------------------------------------------- limits

# Deeper documents are refused: nothing a spec needs nests this far, and every later
# stage (schema builder, targets) recurses over the document.
MAX_DEPTH = 64
# Nodes of a YAML document once aliases are expanded: far above any real spec, far
# below what makes a "billion laughs" document slow.
MAX_NODES = 100_000


class _Refused(Exception):
    def __init__(self, code: str, message: str, mark: Any) -> None:
        self.code, self.message, self.mark = code, message, mark
        super().__init__(message)


def _too_deep(what: str) -> str:
    return f"{what} nests deeper than {MAX_DEPTH} levels"


# ---------------------------------------------------------------- YAML


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, with nesting and node count bounded while composing."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._composed = 0
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, mark: Any) -> Pos:
        """(line, column) of a mark, counting only \\n as a line break, as editors do (the
        YAML reader also breaks lines at U+0085, U+2028 and U+2029)."""
        if mark is None:
            return 1, 1
        line = bisect.bisect_right(self._line_starts, mark.index)
        return line, mark.index - self._line_starts[line - 1] + 1

    def _next_mark(self) -> Any:
        return self.peek_event().start_mark  # type: ignore[no-untyped-call]

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._composed += 1
        if self._depth >= MAX_DEPTH:
            raise _Refused("TOO_DEEP", _too_deep("the document"), self._next_mark())
        if self._composed > MAX_NODES:
            raise _Refused(
                "TOO_LARGE",
                f"the document has more than {MAX_NODES} nodes",
                self._next_mark(),
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(text: str, path: str) -> tuple[Any, SourceMap]:
    """Safe-load one YAML document; only the standard YAML tags are accepted."""
    smap = SourceMap(path)
    try:
        loader = _BoundedLoader(text)  # the reader checks every character here
    except yaml.reader.ReaderError as exc:
        line, col = offset_position(text, exc.position)
        raise LoadError(
            Diagnostic(
                path,
                line,
                col,
                "error",
                "CONTROL_CHARACTER",
                f"invalid YAML: character U+{exc.character:04X} is not allowed in YAML",
            )
        ) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, smap
        _check_graph(node)
        return _yaml_value(loader, node, (), smap), smap
    except _Refused as exc:
        line, col = loader.position(exc.mark)
        raise LoadError(Diagnostic(path, line, col, "error", exc.code, exc.message)) from None
    except yaml.MarkedYAMLError as exc:
        line, col = loader.position(exc.problem_mark or exc.context_mark)
        problem = exc.problem or str(exc)
        code = (
            "YAML_TAG"
            if "tag" in problem
            else "YAML_DUPLICATE_KEY"
            if "duplicate key" in problem
            else "YAML_SYNTAX"
        )
        raise LoadError(
            Diagnostic(path, line, col, "error", code, f"invalid YAML: {problem}")
        ) from None
    except yaml.YAMLError as exc:
        raise LoadError(
            Diagnostic(path, 1, 1, "error", "YAML_SYNTAX", f"invalid YAML: {exc}")
        ) from None
    finally:
        loader.dispose()


def offset_position(text: str, offset: int) -> Pos:
    """1-based (line, column) of a character offset."""
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_graph(root: yaml.Node) -> None:
    """Refuse recursive aliases, and documents whose aliases expand too far or too deep.

    Iterative, so that the check itself cannot run out of stack; each node is sized once.
    """
    sized: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded nodes, depth)
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            open_nodes.discard(id(node))
            kids = [sized[id(k)] for k in _children(node)]
            size = 1 + sum(k[0] for k in kids)
            depth = 1 + max((k[1] for k in kids), default=0)
            if size > MAX_NODES:
                raise _Refused(
                    "YAML_ALIAS_BOMB",
                    f"aliases expand this value to more than {MAX_NODES} nodes",
                    node.start_mark,
                )
            if depth > MAX_DEPTH:
                raise _Refused(
                    "TOO_DEEP", _too_deep("with its aliases, this value"), node.start_mark
                )
            sized[id(node)] = (size, depth)
            continue
        if id(node) in sized:
            continue
        if id(node) in open_nodes:
            raise _Refused("YAML_ALIAS_BOMB", "an alias refers to itself", node.start_mark)
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((kid, False) for kid in _children(node) if id(kid) not in sized)


_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _scalar(loader: _BoundedLoader, node: yaml.Node) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError) as exc:  # an out-of-range date, a 5000-digit int
        raise _Refused("YAML_BAD_VALUE", f"invalid YAML value: {exc}", node.start_mark) from None


def _yaml_value(loader: _BoundedLoader, node: yaml.Node, where: JsonPath, smap: SourceMap) -> Any:
    smap.values[where] = loader.position(node.start_mark)
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _COLLECTION_TAGS:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"could not determine a constructor for the tag {node.tag!r}",
            node.start_mark,
        )
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(loader, key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int | bool | float) or key is None:
                raise yaml.constructor.ConstructorError(
                    None, None, "mapping keys must be plain scalars", key_node.start_mark
                )
            key = str(key) if not isinstance(key, str) else key
            if key in out:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            smap.keys[where + (key,)] = loader.position(key_node.start_mark)
            out[key] = _yaml_value(loader, value_node, (*where, key), smap)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_yaml_value(loader, item, (*where, i), smap) for i, item in enumerate(node.value)]
    return _scalar(loader, node)


# ---------------------------------------------------------------- JSON

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}


class _Rejected(Exception):
    """The fast loader declines a document; the positioned scan then says why."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Rejected  # a duplicate key
    return out


def _constant(name: str) -> Any:
    raise _Rejected  # NaN, Infinity: not JSON


_PLAIN = json.JSONDecoder(parse_constant=_constant)
_CHECKED = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_constant)


def _keys(node: Any, budget: int = MAX_DEPTH) -> int:
    """How many keys the objects in `node` (a container) hold; -1 when a container
    nests deeper than MAX_DEPTH."""
    if budget == 0:
        return -1
    if type(node) is dict:
        count, items = len(node), node.values()
    else:
        count, items = 0, node
    for v in items:
        if type(v) is dict or type(v) is list:
            inner = _keys(v, budget - 1)
            if inner < 0:
                return -1
            count += inner
    return count


def _decode(text: str) -> Any:
    """The document, if strict JSON within the depth limit with no duplicate key; else
    raises. Every key is followed by a colon, so as many keys as colons means no
    duplicate was merged away; only when strings hold colons too is it checked pair by
    pair, by a second decode."""
    data = _PLAIN.decode(text)
    if type(data) is not dict and type(data) is not list:
        return data
    keys = _keys(data)
    if keys < 0:
        raise _Rejected
    return data if keys == text.count(":") else _CHECKED.decode(text)


def load_json(text: str, path: str) -> tuple[Any, SourceMap]:
    """Parse strict JSON, with positions; duplicate keys are an error.

    A valid document is parsed by the C decoder and located only when a position is
    first asked for; anything the decoder declines goes through the positioned scan,
    which gives the located error.
    """
    try:
        data = _decode(text)
    except (ValueError, RecursionError, _Rejected):
        smap = SourceMap(path)
        return _scan_json(text, smap), smap
    return data, SourceMap(path, locate=lambda smap: _scan_json(text, smap))


def _scan_json(text: str, smap: SourceMap) -> Any:
    """Parse `text` recording every key and value position into `smap`."""
    path, keys, values = smap.path, smap.keys, smap.values
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def pos(offset: int) -> Pos:
        lo, hi = 0, len(line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - line_starts[lo] + 1

    def fail(offset: int, message: str) -> LoadError:
        line, col = pos(offset)
        return LoadError(
            Diagnostic(path, line, col, "error", "JSON_SYNTAX", f"invalid JSON: {message}")
        )

    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        return _WS.match(text, i).end()  # type: ignore[union-attr]

    def value(i: int, where: JsonPath) -> tuple[Any, int]:
        i = skip(i)
        values[where] = pos(i)
        if i >= len(text):
            raise fail(i, "unexpected end of input")
        ch = text[i]
        if ch in "{[" and len(where) >= MAX_DEPTH:
            raise LoadError(
                Diagnostic(path, *pos(i), "error", "TOO_DEEP", _too_deep("the document"))
            )
        if ch == "{":
            out: dict[str, Any] = {}
            i = skip(i + 1)
            if text.startswith("}", i):
                return out, i + 1
            while True:
                i = skip(i)
                if not text.startswith('"', i):
                    raise fail(i, "expected a string key")
                key_pos = pos(i)
                key, i = _string(i)
                if key in out:
                    raise LoadError(
                        Diagnostic(
                            path, *key_pos, "error", "JSON_DUPLICATE_KEY", f"duplicate key {key!r}"
                        )
                    )
                keys[where + (key,)] = key_pos
                i = skip(i)
                if not text.startswith(":", i):
                    raise fail(i, "expected ':'")
                out[key], i = value(i + 1, (*where, key))
                i = skip(i)
                if text.startswith(",", i):
                    i += 1
                    continue
                if text.startswith("}", i):
                    return out, i + 1
                raise fail(i, "expected ',' or '}'")
        if ch == "[":
            items: list[Any] = []
            i = skip(i + 1)
            if text.startswith("]", i):
                return items, i + 1
            while True:
                item, i = value(i, (*where, len(items)))
                items.append(item)
                i = skip(i)
                if text.startswith(",", i):
                    i += 1
                    continue
                if text.startswith("]", i):
                    return items, i + 1
                raise fail(i, "expected ',' or ']'")
        if ch == '"':
            return _string(i)
        for word, literal in _LITERALS.items():
            if text.startswith(word, i):
                return literal, i + len(word)
        m = _NUMBER.match(text, i)
        if m and m.end() > i:
            number = m.group(0)
            try:
                return (float(number) if m.group(1) or m.group(2) else int(number)), m.end()
            except ValueError as exc:  # more digits than Python converts
                raise fail(i, f"number out of range: {exc}") from None
        raise fail(i, f"unexpected character {ch!r}")

    def _string(i: int) -> tuple[str, int]:
        try:
            s, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise fail(exc.pos, exc.msg) from None
        return s, end

    result, end = value(0, ())
    end = skip(end)
    if end != len(text):
        raise fail(end, "extra data after the document")
    return result
