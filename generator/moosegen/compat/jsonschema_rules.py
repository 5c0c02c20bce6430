"""Pairwise JSON Schema rules: does every instance valid for the writer validate for the reader?

Confluent Schema Registry's JSON Schema rules, decided structurally: a reader keyword
must be implied by the writer's keywords, else it is a finding. Ignoring a writer
keyword only makes the writer's set of instances look larger, so every shortcut
taken on the writer's side (merging `allOf`, dropping `not`) keeps the verdict
sound; the reader's keywords are all checked.

- types: every writer type must be a reader type (`integer` is within `number`);
- objects: each property present on one side only is judged by the other side's
  content model — open (`additionalProperties` absent or true), closed (false),
  or partially open (`patternProperties`, an `additionalProperties` schema);
  a property the reader requires must be required by the writer unless the
  reader's property has a `default` (Confluent counts a required property with a
  default as compatible: readers fill it in);
- arrays: tuple items (`prefixItems`, draft-07 array `items`) pair up by index, the
  rest by `items`/`additionalItems`, with the same open/closed/partial models;
- bounds, enum, const, pattern, format, multipleOf, uniqueItems: the reader's must
  be implied by the writer's (equal or looser on the reader's side);
- `anyOf`/`oneOf` on the writer: every sub-schema must be read; on the reader: one
  sub-schema must read the writer; `allOf` on the reader: each must; anyOf → oneOf
  is a change (instances may match two sub-schemas);
- `not`: the reader's negated schema must be within the writer's;
- `$ref`: local references are followed; a (reader, writer) pair met again while
  it is still being compared counts as compatible, so recursive schemas end;
- if/then/else, contains, propertyNames, unevaluatedItems: compared by equality.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from moosegen.compat.jsonschema_codes import JSON_SCHEMA_CODES
from moosegen.compat.jsonschema_doc import TYPES, Document
from moosegen.compat.jsonschema_values import (
    Node,
    accepts_type,
    beyond,
    bound_implies,
    code_name,
    declared_types,
    finite_values,
    fraction,
    is_number,
    json_equal,
    patterns_disjoint,
    pointer,
    trivially_true,
    type_intersection,
    value_type,
)
from moosegen.compat.rules import Finding
from moosegen.sourcemap import JsonPath

# Compared by equality only, with the instance type they apply to (None: every type).
_EQUALITY_KEYWORDS: dict[str, str | None] = {
    "if": None,
    "then": None,
    "else": None,
    "minContains": "array",
    "maxContains": "array",
    "unevaluatedItems": "array",
}
_SUM = ("anyOf", "oneOf")


class PairChecker:
    """One reader/writer comparison of two documents."""

    def __init__(self, reader: Document, writer: Document) -> None:
        self.rdoc, self.wdoc = reader, writer
        self._active: set[tuple[JsonPath, JsonPath]] = set()

    def check(self) -> tuple[Finding, ...]:
        return tuple(self.cmp(Node(self.rdoc.root, ()), Node(self.wdoc.root, ())))

    # -- findings -------------------------------------------------------------------

    def finding(self, code: str, r_at: JsonPath, w_at: JsonPath, message: str) -> list[Finding]:
        rpath, wpath = pointer(r_at), pointer(w_at)
        rloc, wloc = self.rdoc.loc(r_at), self.wdoc.loc(w_at)
        category = JSON_SCHEMA_CODES[code][0]
        return [Finding(code, category, rpath, message, rloc, None, "", rpath, wpath, rloc, wloc)]

    # -- normal forms ---------------------------------------------------------------

    def deref(self, doc: Document, node: Node) -> tuple[Node, list[Node]]:
        """Follow local `$ref`s: the target, and the keywords beside each ref that count."""
        besides: list[Node] = []
        seen: set[JsonPath] = set()
        while isinstance(node.schema, dict) and isinstance(node.schema.get("$ref"), str):
            ref = node.schema["$ref"]
            if not ref.startswith("#") or node.at in seen:
                break
            seen.add(node.at)
            rest = {k: v for k, v in node.schema.items() if k != "$ref"}
            if rest and not doc.legacy and not trivially_true(rest):
                besides.append(Node(rest, node.at, node.origins))
            target = doc.resolve(ref)
            assert target is not None, "references are checked when the document loads"
            node = Node(target[0], target[1])
        return node, besides

    def writer_normal(self, node: Node) -> Node:
        """The writer as one schema: refs followed, `allOf` merged in (over-approximating)."""
        node, besides = self.deref(self.wdoc, node)
        parts = [node, *besides]
        if (
            not any(isinstance(p.schema, dict) and "allOf" in p.schema for p in parts)
            and not besides
        ):
            return node
        return self.merge(parts)

    def merge(self, parts: list[Node], at: JsonPath | None = None) -> Node:
        """The parts' conjunction as one schema, keeping a key's first value on conflict."""
        out: dict[str, Any] = {}
        origins: dict[JsonPath, JsonPath] = {}
        queue = list(parts)
        while queue:
            part, besides = self.deref(self.wdoc, queue.pop(0))
            queue += besides
            if part.schema is False:
                return Node(False, part.at)
            if not isinstance(part.schema, dict):
                continue
            queue += [part.child("allOf", i) for i in range(len(part.get("allOf", [])))]
            for key, value in part.schema.items():
                if key == "allOf" or key == "$ref":
                    continue
                if key not in out:
                    out[key] = value
                    origins[(key,)] = part.path_of(key)[:-1]
                elif key == "type":
                    both = type_intersection(declared_types(out), declared_types(part.schema))
                    if not both:
                        return Node(False, part.at)
                    out["type"] = sorted(both)
                elif key == "const":
                    if not json_equal(out[key], value):
                        return Node(False, part.at)  # two different constants: nothing
                elif key == "enum" and isinstance(value, list):
                    out[key] = [v for v in out[key] if any(json_equal(v, u) for u in value)]
                elif key == "required" and isinstance(value, list):
                    out[key] = list(dict.fromkeys([*out[key], *value]))
                elif key in ("properties", "patternProperties") and isinstance(value, dict):
                    merged = dict(out[key])
                    for name, sub in value.items():
                        if name not in merged:
                            merged[name] = sub
                            origins[(key, name)] = part.path_of(key)[:-1]
                    out[key] = merged
                # any other key met twice keeps its first value: the writer only grows
        return Node(out, parts[0].at if at is None else at, origins)

    # -- the comparison ---------------------------------------------------------------

    def cmp(self, r: Node, w: Node) -> list[Finding]:
        w = self.writer_normal(w)
        if w.schema is False or (isinstance(w.schema, dict) and finite_values(w.schema) == []):
            return []  # the writer allows no instance at all
        rn, rbesides = self.deref(self.rdoc, r)
        key = (rn.at, w.at)
        if key in self._active:
            return []
        self._active.add(key)
        try:
            out: list[Finding] = []
            for extra in rbesides:
                out += self.cmp_deref(extra, w)
            return out + self.cmp_deref(rn, w)
        finally:
            self._active.discard(key)

    def cmp_deref(self, r: Node, w: Node) -> list[Finding]:
        if trivially_true(r.schema):
            return []
        if w.schema is True:
            w = Node({}, w.at)  # (a false writer never gets here)
        rref, wref = r.get("$ref"), w.get("$ref")
        if isinstance(rref, str) or isinstance(wref, str):
            if rref == wref and r.schema == w.schema:
                return []
            return self.finding(
                "JSON_REFERENCE_CHANGED",
                r.at,
                w.at,
                f"reader $ref {rref!r} and writer $ref {wref!r}: only local references are "
                "followed",
            )
        if r.schema is False:
            return self.finding(
                "JSON_FALSE_SCHEMA_ADDED", r.at, w.at, "the reader's schema is false"
            )
        if isinstance(w.schema, dict) and any(k in w.schema for k in _SUM):
            base = {k: v for k, v in w.schema.items() if k not in _SUM}
            sums = [
                (kw, [w.child(kw, i) for i in range(len(w.schema[kw]))])
                for kw in _SUM
                if kw in w.schema
            ]
            return self.writer_sum(r, Node(base, w.at, w.origins), sums)
        if any(k in r.schema for k in _SUM) and isinstance(w.get("type"), list):
            # a type array is a sum of types: each may be read by another reader sub-schema
            base = {k: v for k, v in w.schema.items() if k != "type"}
            types = [
                Node({"type": t}, w.path_of("type", i)) for i, t in enumerate(w.schema["type"])
            ]
            return self.writer_sum(r, Node(base, w.at, w.origins), [("anyOf", types)])
        out: list[Finding] = []
        for i in range(len(r.get("allOf", []))):
            out += self.cmp(r.child("allOf", i), w)
        for kw in _SUM:
            if kw in r.schema:
                out += self.reader_sum(r, kw, w)
        if "not" in r.schema:
            out += self.reader_not(r, w)
        return out + self.base(r, w)

    def writer_sum(self, r: Node, base: Node, sums: list[tuple[str, list[Node]]]) -> list[Finding]:
        """Every writer sub-schema (with the keywords beside it) must be read."""
        out: list[Finding] = []
        reader_sum = next((k for k in _SUM if len(r.get(k, [])) > 1), None)
        for kw, branches in sums:
            if kw == "anyOf" and reader_sum == "oneOf" and len(branches) > 1:
                out += self.finding(
                    "JSON_COMBINED_TYPE_CHANGED",
                    r.path_of("oneOf"),
                    base.path_of("anyOf"),
                    "the writer's anyOf became a oneOf: an instance matching two "
                    "sub-schemas no longer validates",
                )
                continue
            for i, part in enumerate(branches):
                one = self.merge([base, part], part.at) if base.schema else part
                sub = self.cmp(r, one)
                if not sub or len(branches) == 1:
                    out += sub
                    continue
                code = "JSON_SUBSCHEMA_REMOVED" if reader_sum else "JSON_COMBINED_TYPE_NARROWED"
                out += self.finding(
                    code,
                    r.path_of(reader_sum) if reader_sum else r.at,
                    part.at,
                    f"writer {kw} sub-schema {i} is not read: {sub[0].message}",
                )
        return out

    def reader_sum(self, r: Node, kw: str, w: Node) -> list[Finding]:
        branches = r.schema[kw]
        results = [self.cmp(r.child(kw, j), w) for j in range(len(branches))]
        if any(not res for res in results):
            return []
        if len(branches) == 1:
            return results[0]
        reasons = "; ".join(f"{j}: {res[0].message}" for j, res in enumerate(results))
        return self.finding(
            "JSON_COMBINED_TYPE_CHANGED",
            r.path_of(kw),
            w.at,
            f"no reader {kw} sub-schema reads the writer ({reasons})",
        )

    def reader_not(self, r: Node, w: Node) -> list[Finding]:
        negated = r.child("not")
        if "not" in w.schema:
            # not N accepts all of not M exactly when N is within M: swap the roles.
            if not PairChecker(self.wdoc, self.rdoc).cmp(w.child("not"), negated):
                return []
            return self.finding(
                "JSON_NOT_WIDENED",
                negated.at,
                w.path_of("not"),
                "the reader's `not` rejects values the writer's `not` allows",
            )
        neg, _ = self.deref(self.rdoc, negated)
        if neg.schema is False:
            return []
        if isinstance(neg.schema, dict) and "type" in neg.schema:
            if not type_intersection(self.writer_types(w), declared_types(neg.schema)):
                return []  # the writer has no value of a type the reader negates
        return self.finding(
            "JSON_NOT_ADDED", negated.at, w.at, "the reader adds a `not` the writer does not have"
        )

    def writer_types(self, w: Node) -> set[str]:
        types = declared_types(w.schema)
        values = finite_values(w.schema)
        if values is not None:
            types = {t for t in (value_type(v) for v in values) if accepts_type(t, types)}
        return types

    # -- one schema's own keywords ------------------------------------------------------

    def base(self, r: Node, w: Node) -> list[Finding]:
        rtypes, wtypes = declared_types(r.schema), self.writer_types(w)
        out: list[Finding] = []
        missing = sorted(t for t in wtypes if not accepts_type(t, rtypes))
        if missing:
            narrowed = all(accepts_type(t, wtypes) for t in rtypes)
            out += self.finding(
                "JSON_TYPE_NARROWED" if narrowed else "JSON_TYPE_CHANGED",
                r.path_of("type"),
                w.path_of("type") if "type" in w.schema else w.at,
                f"the reader's type {r.get('type', sorted(TYPES))} does not accept "
                + (
                    f"the writer's {', '.join(missing)} values"
                    if "type" in w.schema or finite_values(w.schema) is not None
                    else "every value: the writer allows any type"
                ),
            )
        shared = {t for t in wtypes if accepts_type(t, rtypes)}
        out += self.enum_const(r, w)
        values = finite_values(w.schema)
        if shared & {"number", "integer"}:
            out += self.numbers(r, w, values)
        if "string" in shared:
            out += self.strings(r, w, values)
        if "array" in shared:
            out += self.arrays(r, w)
        if "object" in shared:
            out += self.objects(r, w)
        if "object" in shared and "propertyNames" in r.schema:
            names = (
                w.child("propertyNames")
                if "propertyNames" in w.schema
                else Node({"type": "string"}, w.path_of("propertyNames"))
            )
            out += self.cmp(r.child("propertyNames"), names)
        if "array" in shared and "contains" in r.schema:
            # an array holding an element of the writer's `contains` holds one of the
            # reader's when the writer's is within the reader's
            if "contains" in w.schema:
                out += self.cmp(r.child("contains"), w.child("contains"))
            else:
                out += self.finding(
                    "JSON_KEYWORD_ADDED",
                    r.path_of("contains"),
                    w.at,
                    "the reader requires an element matching `contains`; the writer does not",
                )
        for kw, applies in _EQUALITY_KEYWORDS.items():
            if kw in r.schema and (applies is None or applies in shared):
                if kw in w.schema and json_equal(r.schema[kw], w.schema[kw]):
                    continue
                out += self.finding(
                    "JSON_KEYWORD_CHANGED" if kw in w.schema else "JSON_KEYWORD_ADDED",
                    r.path_of(kw),
                    w.path_of(kw) if kw in w.schema else w.at,
                    f"the reader's {kw} is not the writer's ({kw} is compared by equality)",
                )
        return out

    def enum_const(self, r: Node, w: Node) -> list[Finding]:
        values = finite_values(w.schema)
        for kw in ("const", "enum"):
            if kw not in r.schema:
                continue
            allowed = [r.schema["const"]] if kw == "const" else r.schema["enum"]
            w_at = w.path_of("const" if "const" in w.schema else "enum")
            if values is None:
                code = "JSON_CONST_ADDED" if kw == "const" else "JSON_ENUM_ADDED"
                return self.finding(
                    code, r.path_of(kw), w.at, f"the reader allows only {allowed!r}"
                )
            lost = [v for v in values if not any(json_equal(v, a) for a in allowed)]
            if lost:
                code = (
                    "JSON_CONST_CHANGED"
                    if kw == "const" and "const" in w.schema
                    else "JSON_ENUM_VALUE_REMOVED"
                )
                return self.finding(
                    code,
                    r.path_of(kw),
                    w_at,
                    f"writer values {lost!r} are not among the reader's {allowed!r}",
                )
        return []

    def numbers(self, r: Node, w: Node, values: list[Any] | None) -> list[Finding]:
        out: list[Finding] = []
        nums = None if values is None else [v for v in values if is_number(v)]
        for lower in (True, False):
            wbound = self.bound(w, lower)
            for kw, limit, exclusive in self.bound_keywords(r, lower):
                if nums is not None:
                    holds = all(beyond(v, limit, exclusive, lower) for v in nums)
                else:
                    holds = wbound is not None and bound_implies(wbound, limit, exclusive, lower)
                if holds:
                    continue
                name = code_name(kw)
                change = "ADDED" if wbound is None else ("INCREASED" if lower else "DECREASED")
                out += self.finding(
                    f"JSON_{name}_{change}",
                    r.path_of(kw),
                    w.path_of(wbound[2]) if wbound else w.at,
                    f"reader {kw} {limit}{' (exclusive)' * exclusive} is not implied by the "
                    f"writer's {'bound ' + str(wbound[0]) if wbound else 'values'}",
                )
        m = r.get("multipleOf")
        if m is not None:
            wm = w.get("multipleOf")
            integers_only = "number" not in self.writer_types(w)
            ok = (wm is not None and (fraction(wm) / fraction(m)).denominator == 1) or (
                integers_only and (1 / fraction(m)).denominator == 1
            )
            if not ok and nums is not None:
                # Only the listed values the writer's own type and multipleOf let through.
                possible = [
                    v
                    for v in nums
                    if (wm is None or (fraction(v) / fraction(wm)).denominator == 1)
                    and (not integers_only or fraction(v).denominator == 1)
                ]
                ok = all((fraction(v) / fraction(m)).denominator == 1 for v in possible)
            if not ok:
                out += self.finding(
                    "JSON_MULTIPLE_OF_ADDED" if wm is None else "JSON_MULTIPLE_OF_CHANGED",
                    r.path_of("multipleOf"),
                    w.path_of("multipleOf") if wm is not None else w.at,
                    f"reader multipleOf {m} is not implied by the writer's "
                    f"{'multipleOf ' + str(wm) if wm is not None else 'values'}",
                )
        return out

    @staticmethod
    def bound_keywords(s: Node, lower: bool) -> list[tuple[str, float, bool]]:
        """(keyword, limit, exclusive) for the lower or upper bounds a schema sets."""
        plain, excl = ("minimum", "exclusiveMinimum") if lower else ("maximum", "exclusiveMaximum")
        out: list[tuple[str, float, bool]] = []
        if is_number(s.get(plain)):
            out.append((plain, s.schema[plain], s.get(excl) is True))  # draft-04 flag
        if is_number(s.get(excl)):
            out.append((excl, s.schema[excl], True))
        return out

    def bound(self, s: Node, lower: bool) -> tuple[float, bool, str] | None:
        """The tightest lower (or upper) bound of a schema: (limit, exclusive, keyword)."""
        best: tuple[float, bool, str] | None = None
        for kw, limit, exclusive in self.bound_keywords(s, lower):
            if best is None or not bound_implies(best, limit, exclusive, lower):
                best = (limit, exclusive, kw)
        return best

    def counts(
        self, r: Node, w: Node, low: str, high: str, implied: tuple[int, float]
    ) -> list[Finding]:
        out: list[Finding] = []
        lows = [v for v in (w.get(low), implied[0] or None) if v is not None]
        highs = [v for v in (w.get(high), implied[1]) if v is not None and v != math.inf]
        wlow, whigh = (max(lows) if lows else None), (min(highs) if highs else None)
        rlow, rhigh = r.get(low), r.get(high)
        if rlow is not None and rlow > 0 and (wlow is None or wlow < rlow):
            out += self.finding(
                f"JSON_{code_name(low)}_{'ADDED' if wlow is None else 'INCREASED'}",
                r.path_of(low),
                w.path_of(low) if low in w.schema else w.at,
                f"reader {low} {rlow} is above the writer's {wlow if wlow is not None else 0}",
            )
        if rhigh is not None and (whigh is None or whigh > rhigh):
            out += self.finding(
                f"JSON_{code_name(high)}_{'ADDED' if whigh is None else 'DECREASED'}",
                r.path_of(high),
                w.path_of(high) if high in w.schema else w.at,
                f"reader {high} {rhigh} is below the writer's "
                f"{whigh if whigh is not None else 'unbounded'}",
            )
        return out

    def strings(self, r: Node, w: Node, values: list[Any] | None) -> list[Finding]:
        texts = None if values is None else [v for v in values if isinstance(v, str)]
        if texts is not None:
            lengths = [len(t) for t in texts] or [0]
            implied: tuple[int, float] = (min(lengths), max(lengths))
            out = self.counts(r, Node({}, w.at), "minLength", "maxLength", implied)
        else:
            out = self.counts(r, w, "minLength", "maxLength", (0, math.inf))
        pattern, wpattern = r.get("pattern"), w.get("pattern")
        if pattern is not None and pattern != wpattern:
            if texts is None or not all(re.search(pattern, t) for t in texts):
                out += self.finding(
                    "JSON_PATTERN_ADDED" if wpattern is None else "JSON_PATTERN_CHANGED",
                    r.path_of("pattern"),
                    w.path_of("pattern") if wpattern is not None else w.at,
                    f"reader pattern {pattern!r} is not the writer's "
                    f"{wpattern if wpattern is not None else 'absent pattern'}",
                )
        fmt, wfmt = r.get("format"), w.get("format")
        if fmt is not None and fmt != wfmt:
            out += self.finding(
                "JSON_FORMAT_ADDED" if wfmt is None else "JSON_FORMAT_CHANGED",
                r.path_of("format"),
                w.path_of("format") if wfmt is not None else w.at,
                f"reader format {fmt!r} is not the writer's {wfmt!r}",
            )
        return out

    # -- arrays -------------------------------------------------------------------------

    @staticmethod
    def items_model(s: Node) -> tuple[list[Node], Node]:
        """(tuple item nodes, the node for every further item) in either draft's form."""
        if "prefixItems" in s.schema:
            prefix = [s.child("prefixItems", i) for i in range(len(s.schema["prefixItems"]))]
            rest_key = "items" if "items" in s.schema else "unevaluatedItems"
        elif isinstance(s.get("items"), list):
            prefix = [s.child("items", i) for i in range(len(s.schema["items"]))]
            rest_key = "additionalItems"
        else:
            prefix, rest_key = [], "items"
        rest = s.child(rest_key) if rest_key in s.schema else Node(True, s.path_of(rest_key))
        return prefix, rest

    def arrays(self, r: Node, w: Node) -> list[Finding]:
        rprefix, rrest = self.items_model(r)
        wprefix, wrest = self.items_model(w)
        wmax = w.get("maxItems", math.inf)
        if wrest.schema is False:
            wmax = min(wmax, len(wprefix))
        out: list[Finding] = []
        for i in range(max(len(rprefix), len(wprefix))):
            if i >= wmax:
                break
            if i < len(rprefix) and i < len(wprefix):
                out += self.cmp(rprefix[i], wprefix[i])
            elif i < len(rprefix):
                out += self.covered(rprefix[i], wrest, "ITEM", "added", f"tuple item {i}")
            else:
                out += self.covered(rrest, wprefix[i], "ITEM", "removed", f"tuple item {i}")
        if wmax > max(len(rprefix), len(wprefix)) and wrest.schema is not False:
            out += self.rest(rrest, wrest, "extra items")
        implied = (0, wmax)
        out += self.counts(r, w, "minItems", "maxItems", implied)
        if r.get("uniqueItems") is True and w.get("uniqueItems") is not True and wmax > 1:
            out += self.finding(
                "JSON_UNIQUE_ITEMS_ADDED",
                r.path_of("uniqueItems"),
                w.at,
                "the reader requires unique items and the writer does not",
            )
        return out

    def covered(self, r: Node, w: Node, what: str, change: str, name: str) -> list[Finding]:
        """A property/item on one side only, against the other side's content model.

        Added: `r` is the new property's schema, `w` what covered that name in the writer.
        Removed: `w` is the old property's schema, `r` what covers that name in the reader.
        """
        if self.writer_normal(w).schema is False:
            return []
        if change == "removed" and self.deref(self.rdoc, r)[0].schema is False:
            return self.finding(
                f"JSON_{what}_REMOVED_FROM_CLOSED_MODEL",
                r.at,
                w.at,
                f"{name} is in the writer but the reader's content model is closed",
            )
        sub = self.cmp(r, w)
        if not sub:
            return []
        if change == "added" and trivially_true(self.writer_normal(w).schema):
            code = f"JSON_{what}_ADDED_TO_OPEN_MODEL"
        else:
            code = f"JSON_{what}_{change.upper()}_NOT_COVERED_BY_PARTIALLY_OPEN_MODEL"
        return self.finding(code, r.at, w.at, f"{name} {change}: {sub[0].message}")

    def rest(self, r: Node, w: Node, what: str) -> list[Finding]:
        """The schema for everything beyond the listed properties/items, on both sides."""
        if trivially_true(r.schema) or self.writer_normal(w).schema is False:
            return []
        if self.deref(self.rdoc, r)[0].schema is False:
            return self.finding(
                "JSON_CONTENT_MODEL_CLOSED", r.at, w.at, f"the reader forbids {what}"
            )
        return self.cmp(r, w)

    # -- objects ------------------------------------------------------------------------

    @staticmethod
    def object_model(s: Node) -> tuple[dict[str, Node], dict[str, Node], Node]:
        """(property nodes, pattern nodes, the node for every other name)."""
        props = {n: s.child("properties", n) for n in s.get("properties", {})}
        patterns = {p: s.child("patternProperties", p) for p in s.get("patternProperties", {})}
        key = (
            "additionalProperties"
            if "additionalProperties" in s.schema
            else "unevaluatedProperties"
        )
        other = s.child(key) if key in s.schema else Node(True, s.path_of("additionalProperties"))
        return props, patterns, other

    @staticmethod
    def schemas_for(
        name: str, props: dict[str, Node], patterns: dict[str, Node], other: Node
    ) -> list[Node]:
        """The sub-schemas that apply to property `name`."""
        matching = [n for p, n in patterns.items() if re.search(p, name)]
        if name in props:
            return [props[name], *matching]
        return matching or [other]

    def objects(self, r: Node, w: Node) -> list[Finding]:
        rprops, rpatterns, rother = self.object_model(r)
        wprops, wpatterns, wother = self.object_model(w)
        evaluated_names, evaluated_patterns = self.evaluated_elsewhere(r)
        out: list[Finding] = []
        for name in dict.fromkeys([*rprops, *wprops]):
            if name not in rprops and name in evaluated_names:
                continue  # read by the reader's sub-schema that declares it
            rs = self.schemas_for(name, rprops, rpatterns, rother)
            wall = self.schemas_for(name, wprops, wpatterns, wother)
            ws = self.merge(wall, wall[0].at) if len(wall) > 1 else wall[0]  # all apply
            for rnode in rs:
                if name in rprops and name in wprops:
                    out += self.cmp(rnode, ws)
                elif name in rprops:
                    out += self.covered(rnode, ws, "PROPERTY", "added", f"property {name!r}")
                else:
                    out += self.covered(rnode, ws, "PROPERTY", "removed", f"property {name!r}")
        for p, rnode in rpatterns.items():
            for q, wnode in wpatterns.items():
                if not patterns_disjoint(p, q):
                    out += self.rest(rnode, wnode, f"names matching {p!r}")
            if p not in wpatterns:  # else no name matching p falls to the writer's other
                out += self.covered(
                    rnode, wother, "PROPERTY", "added", f"properties matching {p!r}"
                )
        if not trivially_true(rother.schema):
            for q, wnode in wpatterns.items():
                if q not in rpatterns and q not in evaluated_patterns:
                    out += self.covered(
                        rother, wnode, "PROPERTY", "removed", f"properties matching {q!r}"
                    )
            out += self.rest(rother, wother, "properties beyond those listed")
        out += self.required(r, w, rprops, wprops, wpatterns, wother)
        out += self.dependencies(r, w, wprops, wpatterns, wother)
        closed = wother.schema is False and not wpatterns
        implied = (len(set(w.get("required", []))), len(wprops) if closed else math.inf)
        out += self.counts(r, w, "minProperties", "maxProperties", implied)
        return out

    def evaluated_elsewhere(self, r: Node) -> tuple[set[str], set[str]]:
        """Names and patterns that the reader's allOf/anyOf/oneOf sub-schemas declare, which
        its `unevaluatedProperties` therefore does not judge (those sub-schemas do)."""
        names: set[str] = set()
        patterns: set[str] = set()
        if "unevaluatedProperties" not in r.schema or "additionalProperties" in r.schema:
            return names, patterns
        for kw in ("allOf", "anyOf", "oneOf"):
            for i in range(len(r.get(kw, []))):
                sub, _ = self.deref(self.rdoc, r.child(kw, i))
                names |= set(sub.get("properties", {}))
                patterns |= set(sub.get("patternProperties", {}))
        return names, patterns

    def writer_may_have(
        self, name: str, wprops: dict[str, Node], wpatterns: dict[str, Node], wother: Node
    ) -> bool:
        return any(n.schema is not False for n in self.schemas_for(name, wprops, wpatterns, wother))

    def required(
        self,
        r: Node,
        w: Node,
        rprops: dict[str, Node],
        wprops: dict[str, Node],
        wpatterns: dict[str, Node],
        wother: Node,
    ) -> list[Finding]:
        wreq = set(w.get("required", []))
        out: list[Finding] = []
        for name in r.get("required", []):
            if name in wreq:
                continue
            prop = rprops.get(name)
            if prop is not None and isinstance(prop.schema, dict) and "default" in prop.schema:
                continue  # Confluent: a required property with a default is filled in
            closed = not self.writer_may_have(name, wprops, wpatterns, wother)
            out += self.finding(
                "JSON_REQUIRED_ADDED",
                r.path_of("required"),
                w.path_of("required") if "required" in w.schema else w.at,
                f"the reader requires {name!r}, which the writer does not"
                + (" (and cannot) have" if closed else " require"),
            )
        return out

    def dependencies(
        self, r: Node, w: Node, wprops: dict[str, Node], wpatterns: dict[str, Node], wother: Node
    ) -> list[Finding]:
        out: list[Finding] = []
        wreq = set(w.get("required", []))
        for key, name, needs in _dependent_required(r):
            if not self.writer_may_have(name, wprops, wpatterns, wother):
                continue
            guaranteed = wreq | {n for _, d, ns in _dependent_required(w) if d == name for n in ns}
            lacking = [n for n in needs if n not in guaranteed]
            if lacking:
                out += self.finding(
                    "JSON_DEPENDENT_REQUIRED_ADDED",
                    r.path_of(key, name),
                    w.at,
                    f"with {name!r} present the reader requires {lacking}, which the writer "
                    "does not",
                )
        for key, name in _dependent_schemas(r):
            if not self.writer_may_have(name, wprops, wpatterns, wother):
                continue
            rnode = r.child(key, name)
            if not self.cmp(rnode, w):
                continue
            wkey = next((k for k, n in _dependent_schemas(w) if n == name), None)
            if wkey is not None:
                merged = self.merge([w, w.child(wkey, name)])
                sub = self.cmp(rnode, merged)
                if not sub:
                    continue
            out += self.finding(
                "JSON_DEPENDENT_SCHEMA_ADDED",
                rnode.at,
                w.path_of(wkey, name) if wkey else w.at,
                f"with {name!r} present the reader applies a schema the writer does not imply",
            )
        return out


def _dependent_required(s: Node) -> Iterable[tuple[str, str, list[str]]]:
    for key in ("dependentRequired", "dependencies"):
        for name, value in s.get(key, {}).items():
            if isinstance(value, list):
                yield key, name, value


def _dependent_schemas(s: Node) -> Iterable[tuple[str, str]]:
    for key in ("dependentSchemas", "dependencies"):
        for name, value in s.get(key, {}).items():
            if not isinstance(value, list):
                yield key, name
