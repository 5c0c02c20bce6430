"""Random Avro writer schemas and mutated readers, for the differential tests.

The generator is written against a tiny source of choices (`Choices`), so the
same code runs under hypothesis (every choice is a `draw`) or a seeded Random.
Writers are valid Avro; each reader is the writer after 0-3 mutations that
exercise one compatibility rule each (promotions, fields added or removed with or
without defaults, renames with or without aliases, namespaces, enum symbols and
defaults, fixed sizes, union branches, arrays and maps, recursive records), then
repaired so it is valid Avro again (defaults regenerated for changed types).
"""

from __future__ import annotations

import copy
import json
from typing import Any, Protocol

PRIMS = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"]
NUMERIC = ["int", "long", "float", "double"]
NAMESPACES = [None, "com.acme", "org.example", "a.b"]
SYMBOLS = ["A", "B", "C", "D", "E", "F"]


class Choices(Protocol):
    def int(self, lo: int, hi: int) -> int: ...


def choice(c: Choices, seq: list[Any]) -> Any:
    return seq[c.int(0, len(seq) - 1)]


def chance(c: Choices, percent: int) -> bool:
    return c.int(0, 99) < percent


class Gen:
    def __init__(self, c: Choices) -> None:
        self.c = c
        self.counter = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # -- writer schemas ----------------------------------------------------------------

    def schema(self) -> Any:
        c = self.c
        if chance(c, 15):
            return self.recursive()
        if chance(c, 10):
            return self.type(2)
        return self.record(3, top=True)

    def type(self, depth: int, allow_union: bool = True) -> Any:
        c = self.c
        pick = c.int(0, 99)
        if depth <= 0 or pick < 40:
            return choice(c, PRIMS[1:]) if not chance(c, 5) else "null"
        if pick < 52:
            return self.record(depth - 1)
        if pick < 62:
            return self.enum()
        if pick < 68:
            return self.fixed()
        if pick < 78:
            return {"type": "array", "items": self.type(depth - 1)}
        if pick < 86:
            return {"type": "map", "values": self.type(depth - 1)}
        if allow_union:
            return self.union(depth - 1)
        return choice(c, PRIMS[1:])

    def union(self, depth: int) -> list[Any]:
        c = self.c
        n = c.int(1, 3)
        branches: list[Any] = ["null"] if chance(c, 60) else []
        kinds = {_kind(b) for b in branches}
        for _ in range(n):
            b = self.type(depth, allow_union=False)
            if _kind(b) not in kinds:
                kinds.add(_kind(b))
                branches.append(b)
        return branches or ["null"]

    def named(self, kind: str) -> dict[str, Any]:
        out: dict[str, Any] = {"type": kind, "name": self.fresh(kind[0].upper())}
        ns = choice(self.c, NAMESPACES)
        if ns is not None and chance(self.c, 50):
            out["namespace"] = ns
        return out

    def record(self, depth: int, top: bool = False) -> dict[str, Any]:
        c = self.c
        out = self.named("record")
        fields = []
        for _ in range(c.int(1 if top else 0, 4 if top else 3)):
            fields.append(self.field(depth))
        out["fields"] = fields
        return out

    def field(self, depth: int) -> dict[str, Any]:
        f: dict[str, Any] = {"name": self.fresh("f"), "type": self.type(depth)}
        if chance(self.c, 35):
            set_default(f)
        return f

    def enum(self) -> dict[str, Any]:
        c = self.c
        out = self.named("enum")
        k = c.int(1, 4)
        start = c.int(0, len(SYMBOLS) - k)
        out["symbols"] = SYMBOLS[start:start + k]
        if chance(c, 30):
            out["default"] = choice(c, out["symbols"])
        return out

    def fixed(self) -> dict[str, Any]:
        out = self.named("fixed")
        out["size"] = self.c.int(1, 4)
        return out

    def recursive(self) -> dict[str, Any]:
        """A linked list: a record whose field refers back to the record itself."""
        out = self.named("record")
        name = out["name"]
        link: Any = ["null", name] if chance(self.c, 70) else {"type": "array", "items": name}
        out["fields"] = [self.field(1), {"name": self.fresh("f"), "type": link}]
        if chance(self.c, 50):
            out["fields"].append(self.field(1))
        return out

    # -- mutations ----------------------------------------------------------------------

    def reader(self, writer: Any) -> Any:
        c = self.c
        reader = copy.deepcopy(writer)
        for _ in range(choice(c, [2, 3, 1, 1, 2, 3, 0])):
            candidate = self.mutate(copy.deepcopy(reader))
            if unions_valid(candidate):
                reader = candidate
        repair(reader)
        return reader

    def mutate(self, schema: Any) -> Any:
        c = self.c
        sites = type_sites(schema)
        path = choice(c, sites)
        node = get(schema, path)
        op = c.int(0, 99)
        if isinstance(node, dict) and node.get("type") == "record" and op < 45:
            return put(schema, path, self.mutate_record(node))
        if isinstance(node, dict) and node.get("type") == "enum" and op < 70:
            return put(schema, path, self.mutate_enum(node))
        if isinstance(node, dict) and node.get("type") == "fixed" and op < 50:
            node = dict(node, size=node["size"] + choice(c, [-1, 1]) if node["size"] > 1 else 2)
            return put(schema, path, node)
        if isinstance(node, dict) and node.get("type") in ("record", "enum", "fixed") and op < 80:
            return put(schema, path, self.rename(node))
        if isinstance(node, str) and node in NUMERIC + ["string", "bytes"] and op < 60:
            return put(schema, path, self.retype(node))
        if isinstance(node, list):
            return put(schema, path, self.mutate_union(node))
        if isinstance(node, dict) and node.get("type") in ("array", "map") and op < 30:
            other = "map" if node["type"] == "array" else "array"
            key = "values" if other == "map" else "items"
            inner = node.get("items", node.get("values"))
            return put(schema, path, {"type": other, key: inner})
        if path and path[-1] == "items" or (path and path[-1] == "values"):
            pass
        # wrap the node in a union, or replace it with a fresh type
        if not _in_union(path) and chance(c, 60):
            extra = choice(c, ["null", "string", "int", "long"])
            if _kind(node) == extra:
                return schema
            return put(schema, path, [extra, node] if chance(c, 50) else [node, extra])
        if _is_named_def(node) or not path:
            return schema  # replacing a definition could orphan a recursive reference
        return put(schema, path, self.type(1, allow_union=not _in_union(path)))

    def retype(self, prim: str) -> str:
        c = self.c
        options = {
            "int": ["long", "float", "double", "string"],
            "long": ["int", "float", "double"],
            "float": ["double", "int", "long"],
            "double": ["float", "long"],
            "string": ["bytes", "int"],
            "bytes": ["string", "boolean"],
        }[prim]
        return choice(c, options)

    def mutate_record(self, rec: dict[str, Any]) -> dict[str, Any]:
        c = self.c
        rec = dict(rec, fields=list(rec["fields"]))
        fields = rec["fields"]
        op = c.int(0, 5)
        if op == 0 or not fields:  # add a field
            f = self.field(1)
            if chance(c, 50):
                set_default(f)
            fields.insert(c.int(0, len(fields)), f)
        elif op == 1:  # remove a field, unless it holds a recursive reference
            i = c.int(0, len(fields) - 1)
            if not _mentions(fields[i]["type"], rec["name"]):
                del fields[i]
        elif op == 2:  # rename a field, with or without an alias to the old name
            i = c.int(0, len(fields) - 1)
            f = dict(fields[i])
            old = f["name"]
            f["name"] = self.fresh("g")
            if chance(c, 60):
                f["aliases"] = [old] + f.get("aliases", [])
            fields[i] = f
        elif op == 3:  # toggle a default
            i = c.int(0, len(fields) - 1)
            f = dict(fields[i])
            if "default" in f:
                del f["default"]
            else:
                set_default(f)
            fields[i] = f
        elif op == 4:  # reorder
            if len(fields) > 1:
                i = c.int(1, len(fields) - 1)
                fields.insert(0, fields.pop(i))
        else:  # an alias that names nothing in the writer
            i = c.int(0, len(fields) - 1)
            fields[i] = dict(fields[i], aliases=[self.fresh("x")])
        return rec

    def mutate_enum(self, enum: dict[str, Any]) -> dict[str, Any]:
        c = self.c
        enum = dict(enum, symbols=list(enum["symbols"]))
        syms = enum["symbols"]
        op = c.int(0, 3)
        if op == 0:
            extra = [s for s in SYMBOLS if s not in syms]
            if extra:
                syms.insert(c.int(0, len(syms)), choice(c, extra))
        elif op == 1 and len(syms) > 1:
            syms.pop(c.int(0, len(syms) - 1))
        elif op == 2:
            enum["default"] = choice(c, syms)
        else:
            enum.pop("default", None)
        if enum.get("default") not in syms:
            enum.pop("default", None)
        return enum

    def rename(self, node: dict[str, Any]) -> dict[str, Any]:
        c = self.c
        node = dict(node)
        old_full = fullname(node)
        op = c.int(0, 3)
        if op == 0:  # only the namespace changes
            ns = choice(c, NAMESPACES)
            node.pop("namespace", None)
            if ns:
                node["namespace"] = ns
            elif "." in node["name"]:
                node["name"] = node["name"].rpartition(".")[2]
            if chance(c, 30):  # a namespace written into the name itself
                node["name"] = f"q.{node['name'].rpartition('.')[2]}"
        else:
            short = node["name"].rpartition(".")[2]
            new = self.fresh(short[0])
            node["name"] = new
            if op == 1:
                node["aliases"] = [old_full]
            elif op == 2:
                node["aliases"] = [short]  # resolved against the new namespace
            if node["type"] == "record":
                node["fields"] = [dict(f, type=_rename_refs(f["type"], short, new))
                                  for f in node["fields"]]
        return node

    def mutate_union(self, union: list[Any]) -> Any:
        c = self.c
        op = c.int(0, 2)
        if op == 0 and len(union) > 1:  # drop a branch
            if any(isinstance(b, str) and b not in PRIMS for b in union):
                return union  # keep recursive references
            out = list(union)
            out.pop(c.int(0, len(out) - 1))
            return out
        if op == 1:  # add a branch
            b = self.type(1, allow_union=False)
            if _kind(b) in {_kind(x) for x in union}:
                return union
            out = list(union)
            out.insert(c.int(0, len(out)), b)
            return out
        if any(isinstance(b, str) and b not in PRIMS for b in union):
            return union
        return choice(c, union)  # unwrap


# -- JSON helpers --------------------------------------------------------------------------

def _kind(t: Any) -> str:
    if isinstance(t, str):
        return t
    if isinstance(t, list):
        return "union"
    if t["type"] in ("record", "enum", "fixed"):
        return fullname(t)
    return t["type"]


def fullname(t: dict[str, Any]) -> str:
    name = t["name"]
    if "." in name or not t.get("namespace"):
        return name
    return f"{t['namespace']}.{name}"


def _is_named_def(t: Any) -> bool:
    return isinstance(t, dict) and t.get("type") in ("record", "enum", "fixed")


def _in_union(path: tuple[Any, ...]) -> bool:
    return bool(path) and isinstance(path[-1], int)


def unions_valid(schema: Any) -> bool:
    """No union holds a union or two branches of one kind (Avro's union rules)."""
    if isinstance(schema, list):
        kinds = [_kind(b) for b in schema]
        if "union" in kinds or len(set(kinds)) != len(kinds) or not schema:
            return False
        return all(unions_valid(b) for b in schema)
    if isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "record":
            return all(unions_valid(f["type"]) for f in schema["fields"])
        if kind == "array":
            return unions_valid(schema["items"])
        if kind == "map":
            return unions_valid(schema["values"])
    return True


def _mentions(t: Any, name: str) -> bool:
    return name in json.dumps(t)


def _rename_refs(t: Any, old: str, new: str) -> Any:
    if isinstance(t, str):
        return new if t == old else t
    if isinstance(t, list):
        return [_rename_refs(b, old, new) for b in t]
    if t.get("type") == "array":
        return dict(t, items=_rename_refs(t["items"], old, new))
    if t.get("type") == "map":
        return dict(t, values=_rename_refs(t["values"], old, new))
    return t


def type_sites(schema: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every type position in a schema (root, field types, items, branches)."""
    out = [path]
    if isinstance(schema, list):
        for i, b in enumerate(schema):
            out += type_sites(b, (*path, i))
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "record":
            for i, f in enumerate(schema["fields"]):
                out += type_sites(f["type"], (*path, "fields", i, "type"))
        elif kind == "array":
            out += type_sites(schema["items"], (*path, "items"))
        elif kind == "map":
            out += type_sites(schema["values"], (*path, "values"))
    return out


def get(schema: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        schema = schema[p]
    return schema


def put(schema: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = get(schema, path[:-1])
    parent[path[-1]] = value
    return schema


def default_for(t: Any) -> tuple[bool, Any]:
    if isinstance(t, list):
        return default_for(t[0])
    if isinstance(t, str):
        return {
            "null": (True, None), "boolean": (True, True), "int": (True, 7), "long": (True, 8),
            "float": (True, 1.5), "double": (True, 2.5), "string": (True, "s"),
            "bytes": (True, "\u00ff"),
        }.get(t, (False, None))
    kind = t["type"]
    if kind == "enum":
        return True, t["symbols"][-1]
    if kind == "fixed":
        return True, "a" * t["size"]
    if kind == "array":
        return True, []
    if kind == "map":
        return True, {}
    if kind == "record":
        out = {}
        for f in t["fields"]:
            ok, v = default_for(f["type"])
            if not ok:
                return False, None
            out[f["name"]] = v
        return True, out
    return default_for(kind)


def set_default(f: dict[str, Any]) -> None:
    ok, value = default_for(f["type"])
    if ok:
        f["default"] = value
    else:
        f.pop("default", None)


def repair(schema: Any) -> None:
    """Regenerate every field default so it fits the field's (possibly mutated) type."""
    if isinstance(schema, list):
        for b in schema:
            repair(b)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "record":
            for f in schema["fields"]:
                repair(f["type"])
                if "default" in f:
                    set_default(f)
        elif kind == "array":
            repair(schema["items"])
        elif kind == "map":
            repair(schema["values"])


class RandomChoices:
    """Choices from a seeded random.Random (for the benchmark and quick experiments)."""

    def __init__(self, rng: Any) -> None:
        self.rng = rng

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)
