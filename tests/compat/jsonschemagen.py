"""Hypothesis strategies for JSON Schemas (draft-07 or 2020-12 forms), their mutations,
and instances drawn from a schema's own structure (so that many are valid)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

DRAFT_URLS = {
    "draft-07": "http://json-schema.org/draft-07/schema#",
    "2020-12": "https://json-schema.org/draft/2020-12/schema",
}
NAMES = ["a", "b", "c", "x_1", "x_2"]
PATTERN_KEYS = ["^x_", "^y_"]
STRING_PATTERNS = ["^a", "b$", "^[ab]*$"]
STRINGS = ["", "a", "ab", "b", "ba", "aab", "xyz", "aaaaaaaa", "x_1"]
NUMBERS: list[Any] = [-3, -1, 0, 1, 2, 3, 4, 6, 10, 0.5, 1.5, 2.0, -2.5]
SCALARS: list[Any] = [None, True, False, *NUMBERS, *STRINGS]
TYPES = ["null", "boolean", "integer", "number", "string", "array", "object"]


def _maybe(draw: Any, p: float) -> bool:
    return draw(st.floats(0, 1)) < p


@st.composite
def leaf(draw: Any) -> Any:
    kind = draw(st.sampled_from(["type", "type", "type", "types", "enum", "const", "bool"]))
    if kind == "bool":
        return draw(st.booleans())
    if kind == "enum":
        return {"enum": draw(st.lists(st.sampled_from(SCALARS), min_size=1, max_size=4,
                                      unique_by=repr))}
    if kind == "const":
        return {"const": draw(st.sampled_from(SCALARS))}
    if kind == "types":
        return {"type": draw(st.lists(st.sampled_from(["null", "boolean", "integer", "number",
                                                       "string"]),
                                      min_size=1, max_size=3, unique=True))}
    t = draw(st.sampled_from(["null", "boolean", "integer", "number", "string"]))
    s: dict[str, Any] = {"type": t}
    if t in ("integer", "number"):
        for kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if _maybe(draw, 0.25):
                s[kw] = draw(st.sampled_from([-2, 0, 1, 3, 5, 2.5]))
        if _maybe(draw, 0.2):
            s["multipleOf"] = draw(st.sampled_from([1, 2, 3, 0.5]))
    if t == "string":
        for kw in ("minLength", "maxLength"):
            if _maybe(draw, 0.3):
                s[kw] = draw(st.integers(0, 4))
        if _maybe(draw, 0.25):
            s["pattern"] = draw(st.sampled_from(STRING_PATTERNS))
    return s


def schemas(draft: str, depth: int = 2) -> st.SearchStrategy[Any]:
    """Schemas of a few levels: objects, arrays, anyOf/allOf/not, type arrays, refs."""
    defs_key = "definitions" if draft == "draft-07" else "$defs"

    @st.composite
    def node(draw: Any, level: int, refs: bool = True) -> Any:
        if level <= 0:
            return draw(leaf())
        kinds = ["leaf", "leaf", "object", "object", "array", "anyOf", "allOf", "not"]
        kind = draw(st.sampled_from(kinds + ["ref"] * refs))
        sub = node(level - 1, refs)
        if kind == "leaf":
            return draw(leaf())
        if kind == "ref":
            return {"$ref": f"#/{defs_key}/D"}
        if kind in ("anyOf", "allOf"):
            return {kind: draw(st.lists(sub, min_size=1, max_size=3))}
        if kind == "not":
            return {"type": draw(st.sampled_from(["string", "integer", "object"])),
                    "not": draw(leaf())}
        if kind == "array":
            s: dict[str, Any] = {"type": "array"}
            tuple_items = draw(st.lists(sub, max_size=2)) if _maybe(draw, 0.4) else []
            rest = draw(st.sampled_from(["absent", "false", "schema"]))
            if tuple_items and draft == "draft-07":
                s["items"] = tuple_items
                if rest != "absent":
                    s["additionalItems"] = False if rest == "false" else draw(sub)
            else:
                if tuple_items:
                    s["prefixItems"] = tuple_items
                if rest != "absent":
                    s["items"] = False if rest == "false" and tuple_items else draw(sub)
            for kw in ("minItems", "maxItems"):
                if _maybe(draw, 0.2):
                    s[kw] = draw(st.integers(0, 3))
            if _maybe(draw, 0.15):
                s["uniqueItems"] = True
            return s
        s = {"type": "object"}
        names = draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True))
        s["properties"] = {n: draw(sub) for n in names}
        if names and _maybe(draw, 0.5):
            s["required"] = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        model = draw(st.sampled_from(["open", "open", "closed", "schema", "pattern"]))
        if model == "closed":
            s["additionalProperties"] = False
        elif model == "schema":
            s["additionalProperties"] = draw(sub)
        elif model == "pattern":
            s["patternProperties"] = {draw(st.sampled_from(PATTERN_KEYS)): draw(sub)}
            s["additionalProperties"] = draw(st.sampled_from([False, True]))
        if len(names) >= 2 and _maybe(draw, 0.2):
            key = "dependencies" if draft == "draft-07" else "dependentRequired"
            s[key] = {names[0]: [names[1]]}
        for kw in ("minProperties", "maxProperties"):
            if _maybe(draw, 0.15):
                s[kw] = draw(st.integers(0, 3))
        return s

    @st.composite
    def document(draw: Any) -> Any:
        root = draw(node(depth))
        if not isinstance(root, dict):
            return root
        return {"$schema": DRAFT_URLS[draft], defs_key: {"D": draw(node(1, refs=False))}, **root}

    return document()


@st.composite
def mutation(draw: Any, schema: Any, draft: str) -> Any:
    """`schema` with one sub-schema replaced, or one keyword added, dropped or changed."""
    paths = list(_subschema_paths(schema, ()))
    path = draw(st.sampled_from(paths))
    target = _get(schema, path)
    action = draw(st.sampled_from(["replace", "drop", "add", "add"]))
    if action == "replace" or not isinstance(target, dict):
        in_defs = bool(path) and path[0] in ("$defs", "definitions")  # no $ref cycles
        new: Any = draw(leaf() if in_defs else schemas(draft, depth=1))
        if isinstance(new, dict) and path:
            new = {k: v for k, v in new.items() if k not in ("$schema", "$defs", "definitions")}
        if path == () and isinstance(schema, dict):  # keep the root's draft and $defs
            kept = {k: v for k, v in schema.items() if k in ("$schema", "$defs", "definitions")}
            new = {**kept, **new} if isinstance(new, dict) else {**kept, "not": not new}
    elif action == "drop" and set(target) - {"$schema", "$defs", "definitions"}:
        key = draw(st.sampled_from(sorted(set(target) - {"$schema", "$defs", "definitions"})))
        new = {k: v for k, v in target.items() if k != key}
    else:
        key, value = draw(st.sampled_from([
            ("additionalProperties", False), ("additionalProperties", True),
            ("required", ["a"]), ("required", ["a", "b"]), ("maximum", 3), ("minimum", 0),
            ("maxLength", 2), ("minLength", 1), ("enum", ["a", 1, None]), ("type", "integer"),
            ("type", "number"), ("type", ["string", "null"]), ("pattern", "^a"),
            ("multipleOf", 2), ("maxItems", 1), ("minItems", 1), ("uniqueItems", True),
            ("properties", {"a": {"type": "string"}}), ("not", {"type": "null"}),
        ]))
        new = {**target, key: value}
    return _set(schema, path, new)


def _subschema_paths(s: Any, at: tuple[Any, ...]) -> Any:
    yield at
    if not isinstance(s, dict):
        return
    for key, value in s.items():
        if key in ("properties", "patternProperties", "$defs", "definitions"):
            for name, sub in value.items():
                yield from _subschema_paths(sub, (*at, key, name))
        elif key in ("anyOf", "allOf", "oneOf", "prefixItems") or (
            key == "items" and isinstance(value, list)
        ):
            for i, sub in enumerate(value):
                yield from _subschema_paths(sub, (*at, key, i))
        elif key in ("items", "additionalItems", "additionalProperties", "not"):
            yield from _subschema_paths(value, (*at, key))


def _get(s: Any, path: tuple[Any, ...]) -> Any:
    for token in path:
        s = s[token]
    return s


def _set(s: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(s, list):
        return [(_set(v, rest, value) if i == head else v) for i, v in enumerate(s)]
    return {k: (_set(v, rest, value) if k == head else v) for k, v in s.items()}


@st.composite
def instances(draw: Any, schema: Any, root: Any, depth: int = 4) -> Any:
    """An instance shaped by `schema` (often, not always, valid for it)."""
    if depth <= 0 or not isinstance(schema, dict) or _maybe(draw, 0.1):
        return draw(st.sampled_from(SCALARS + [[], {}, ["a"], {"a": 1}]))
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        defs = root.get("$defs") or root.get("definitions") or {}
        return draw(instances(defs.get(name, True), root, depth - 1))
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return draw(st.sampled_from(schema["enum"]))
    for kw in ("anyOf", "oneOf", "allOf"):
        if kw in schema:
            return draw(instances(draw(st.sampled_from(schema[kw])), root, depth - 1))
    t = schema.get("type", draw(st.sampled_from(TYPES)))
    if isinstance(t, list):
        t = draw(st.sampled_from(t))
    if t == "null":
        return None
    if t == "boolean":
        return draw(st.booleans())
    if t in ("integer", "number"):
        pool = [n for n in NUMBERS if t == "number" or float(n).is_integer()]
        return draw(st.sampled_from(pool))
    if t == "string":
        return draw(st.sampled_from(STRINGS))
    if t == "array":
        prefix = schema.get("prefixItems") or (
            schema["items"] if isinstance(schema.get("items"), list) else [])
        rest = schema.get("additionalItems") if isinstance(schema.get("items"), list) else (
            schema.get("items", True))
        out = [draw(instances(p, root, depth - 1)) for p in prefix[: draw(st.integers(0, 3))]]
        for _ in range(draw(st.integers(0, 2))):
            out.append(draw(instances(rest if rest is not None else True, root, depth - 1)))
        return out
    props = schema.get("properties", {})
    obj: dict[str, Any] = {}
    for name, sub in props.items():
        if name in schema.get("required", []) or draw(st.booleans()):
            obj[name] = draw(instances(sub, root, depth - 1))
    for _ in range(draw(st.integers(0, 2))):
        obj[draw(st.sampled_from(NAMES + ["y_1", "zz"]))] = draw(st.sampled_from(SCALARS))
    return obj
