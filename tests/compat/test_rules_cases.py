"""Hand-written reader/writer cases, one per kind of rule, each checked twice:
against the expected verdict and codes written here, and against Avro Java."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import java_verdict
from moosegen.compat import can_read, reader_writer_findings


def rec(name: str, *fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": list(fields), **extra}


def fld(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def enum(name: str, symbols: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "enum", "name": name, "symbols": symbols, **extra}


def fixed(name: str, size: int, **extra: Any) -> dict[str, Any]:
    return {"type": "fixed", "name": name, "size": size, **extra}


def arr(items: Any) -> dict[str, Any]:
    return {"type": "array", "items": items}


def mp(values: Any) -> dict[str, Any]:
    return {"type": "map", "values": values}


LIST = rec("List", fld("value", "int"), fld("next", ["null", "List"]))
LIST_LONG = rec("List", fld("value", "long"), fld("next", ["null", "List"]))
LIST_WITH_DEFAULTED = rec("List", fld("value", "int"), fld("next", ["null", "List"]),
                          fld("extra", "string", default="x"))
LIST_WITH_REQUIRED = rec("List", fld("value", "int"), fld("next", ["null", "List"]),
                         fld("extra", "string"))
TREE = rec("Tree", fld("v", "int"), fld("kids", arr("Tree")))
TREE_STRING = rec("Tree", fld("v", "string"), fld("kids", arr("Tree")))

# (id, reader, writer, expected codes; [] = compatible)
CASES: list[tuple[str, Any, Any, list[str]]] = [
    # primitives and promotions
    *[(f"same-{p}", p, p, []) for p in
      ("null", "boolean", "int", "long", "float", "double", "bytes", "string")],
    ("int-reads-long", "int", "long", ["TYPE_NARROWED"]),
    ("long-reads-int", "long", "int", []),
    ("float-reads-int", "float", "int", []),
    ("float-reads-long", "float", "long", []),
    ("double-reads-int", "double", "int", []),
    ("double-reads-long", "double", "long", []),
    ("double-reads-float", "double", "float", []),
    ("float-reads-double", "float", "double", ["TYPE_NARROWED"]),
    ("long-reads-float", "long", "float", ["TYPE_NARROWED"]),
    ("int-reads-double", "int", "double", ["TYPE_NARROWED"]),
    ("string-reads-bytes", "string", "bytes", []),
    ("bytes-reads-string", "bytes", "string", []),
    ("boolean-reads-int", "boolean", "int", ["TYPE_MISMATCH"]),
    ("int-reads-boolean", "int", "boolean", ["TYPE_MISMATCH"]),
    ("null-reads-int", "null", "int", ["TYPE_MISMATCH"]),
    ("string-reads-int", "string", "int", ["TYPE_MISMATCH"]),
    ("int-reads-string", "int", "string", ["TYPE_MISMATCH"]),
    ("logical-types-ignored", {"type": "long", "logicalType": "timestamp-millis"}, "int", []),
    # enums
    ("enum-same", enum("E", ["A", "B"]), enum("E", ["A", "B"]), []),
    ("enum-reader-has-more", enum("E", ["A", "B", "C"]), enum("E", ["A", "B"]), []),
    ("enum-reader-lacks-symbol", enum("E", ["A"]), enum("E", ["A", "B"]),
     ["READER_ENUM_MISSING_SYMBOLS"]),
    ("enum-reader-lacks-symbol-with-default", enum("E", ["A", "U"], default="U"),
     enum("E", ["A", "B"]), []),
    ("enum-writer-default-does-not-help", enum("E", ["A"]), enum("E", ["A", "B"], default="A"),
     ["READER_ENUM_MISSING_SYMBOLS"]),
    ("enum-name-differs", enum("E1", ["A"]), enum("E2", ["A"]), ["NAME_MISMATCH"]),
    ("enum-reads-string", enum("E", ["A"]), "string", ["TYPE_MISMATCH"]),
    ("string-reads-enum", "string", enum("E", ["A"]), ["TYPE_MISMATCH"]),
    # records: fields added / removed, defaults
    ("record-empty", rec("R"), rec("R"), []),
    ("record-writer-only-field-ignored", rec("R", fld("a", "int")),
     rec("R", fld("a", "int"), fld("b", "int")), []),
    ("record-reader-field-with-default", rec("R", fld("a", "int"), fld("b", "int", default=0)),
     rec("R", fld("a", "int")), []),
    ("record-reader-field-without-default", rec("R", fld("a", "int"), fld("b", "int")),
     rec("R", fld("a", "int")), ["READER_FIELD_MISSING_DEFAULT"]),
    ("record-reader-field-null-default", rec("R", fld("b", ["null", "int"], default=None)),
     rec("R"), []),
    ("record-two-fields-missing", rec("R", fld("a", "int"), fld("b", "int")), rec("R"),
     ["READER_FIELD_MISSING_DEFAULT", "READER_FIELD_MISSING_DEFAULT"]),
    ("record-field-promoted", rec("R", fld("a", "long")), rec("R", fld("a", "int")), []),
    ("record-field-narrowed", rec("R", fld("a", "int")), rec("R", fld("a", "long")),
     ["TYPE_NARROWED"]),
    ("record-field-order-irrelevant", rec("R", fld("b", "int"), fld("a", "int")),
     rec("R", fld("a", "int"), fld("b", "int")), []),
    ("record-enum-field-with-enum-default-only",
     rec("R", fld("e", enum("E", ["A"], default="A"))), rec("R"),
     ["READER_FIELD_MISSING_DEFAULT"]),
    ("record-nested", rec("R", fld("in", rec("In", fld("x", "int"))), fld("z", "int", default=1)),
     rec("R", fld("in", rec("In", fld("x", "int")))), []),
    ("record-nested-incompatible", rec("R", fld("in", rec("In", fld("x", "int"), fld("y", "int")))),
     rec("R", fld("in", rec("In", fld("x", "int")))), ["READER_FIELD_MISSING_DEFAULT"]),
    # names, namespaces and aliases
    ("record-namespace-ignored", rec("R", namespace="a"), rec("R", namespace="b"), []),
    ("record-name-differs", rec("R1"), rec("R2"), ["NAME_MISMATCH"]),
    ("record-alias-full-name", rec("New", namespace="n", aliases=["n.Old"]),
     rec("Old", namespace="n"), []),
    ("record-alias-resolved-in-reader-namespace", rec("New", namespace="n", aliases=["Old"]),
     rec("Old", namespace="n"), []),
    ("record-alias-other-namespace", rec("New", namespace="n", aliases=["Old"]),
     rec("Old", namespace="m"), ["NAME_MISMATCH"]),
    ("record-alias-on-writer-does-not-help", rec("Old"), rec("New", aliases=["Old"]),
     ["NAME_MISMATCH"]),
    ("field-alias", rec("R", fld("b", "int", aliases=["a"])), rec("R", fld("a", "int")), []),
    ("field-alias-on-writer-does-not-help", rec("R", fld("b", "int")),
     rec("R", fld("a", "int", aliases=["b"])), ["READER_FIELD_MISSING_DEFAULT"]),
    ("field-alias-ambiguous", rec("R", fld("a", "int", aliases=["b"])),
     rec("R", fld("a", "int"), fld("b", "int")), ["FIELD_AMBIGUOUS_ALIAS"]),
    # fixed
    ("fixed-same", fixed("F", 4), fixed("F", 4), []),
    ("fixed-size-differs", fixed("F", 4), fixed("F", 8), ["FIXED_SIZE_MISMATCH"]),
    ("fixed-name-and-size-differ", fixed("F", 4), fixed("G", 8),
     ["NAME_MISMATCH", "FIXED_SIZE_MISMATCH"]),
    ("fixed-reads-bytes", fixed("F", 4), "bytes", ["TYPE_MISMATCH"]),
    # unions
    ("union-reader-superset", ["null", "int", "string"], ["null", "int"], []),
    ("union-reader-subset", ["null", "int"], ["null", "int", "string"], ["MISSING_UNION_BRANCH"]),
    ("union-reads-branch-type", ["null", "int"], "int", []),
    ("union-reads-by-promotion", ["null", "long"], "int", []),
    ("union-lacks-writer-type", ["null", "int"], "string", ["MISSING_UNION_BRANCH"]),
    ("plain-reads-union-all-branches", "long", ["int", "long"], []),
    ("plain-reads-union-not-all", "int", ["null", "int"], ["TYPE_MISMATCH"]),
    ("union-promotions", ["double", "string"], ["int", "long", "float", "bytes"], []),
    ("union-record-branches", ["null", rec("A", fld("x", "int"))],
     ["null", rec("A", fld("x", "int"), fld("y", "int"))], []),
    ("union-record-branch-incompatible", ["null", rec("A", fld("x", "int"))],
     ["null", rec("A", fld("x", "string"))], ["MISSING_UNION_BRANCH"]),
    # arrays and maps
    ("array-same", arr("int"), arr("int"), []),
    ("array-promoted", arr("long"), arr("int"), []),
    ("array-narrowed", arr("int"), arr("long"), ["TYPE_NARROWED"]),
    ("map-promoted", mp("double"), mp("float"), []),
    ("map-mismatch", mp("int"), mp("string"), ["TYPE_MISMATCH"]),
    ("array-reads-map", arr("int"), mp("int"), ["TYPE_MISMATCH"]),
    ("map-of-records", mp(rec("V", fld("a", "int"), fld("b", "int", default=2))),
     mp(rec("V", fld("a", "int"))), []),
    # recursive schemas
    ("list-same", LIST, LIST, []),
    ("list-promoted", LIST_LONG, LIST, []),
    ("list-narrowed", LIST, LIST_LONG, ["TYPE_NARROWED"]),
    ("list-added-defaulted", LIST_WITH_DEFAULTED, LIST, []),
    ("list-added-required", LIST_WITH_REQUIRED, LIST, ["READER_FIELD_MISSING_DEFAULT"]),
    ("tree-same", TREE, TREE, []),
    ("tree-mismatch", TREE_STRING, TREE, ["TYPE_MISMATCH"]),
]


@pytest.mark.parametrize(("reader", "writer", "codes"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_case_expected(reader: Any, writer: Any, codes: list[str]) -> None:
    findings = reader_writer_findings(reader, writer)
    assert sorted(f.code for f in findings) == sorted(codes), [f.message for f in findings]
    assert can_read(reader, writer) is (not codes)


def test_cases_agree_with_avro_java(avro_oracle: Any) -> None:
    java = avro_oracle([(c[1], c[2]) for c in CASES])
    problems = []
    for (case_id, reader, writer, codes), line in zip(CASES, java, strict=True):
        verdict, types = java_verdict(line)
        findings = reader_writer_findings(reader, writer)
        if "FIELD_AMBIGUOUS_ALIAS" in codes:
            ok = verdict == "ERROR"  # Java throws: "matches multiple fields"
        elif not codes:
            ok = verdict == "COMPATIBLE"
        else:
            ok = verdict == "INCOMPATIBLE" and types == sorted({f.java_type for f in findings})
        if not ok:
            problems.append(f"{case_id}: java={line!r} ours={codes} {json.dumps([reader, writer])}")
    assert not problems, "\n".join(problems)


def test_finding_paths_and_locations() -> None:
    reader = json.dumps(rec("R", fld("a", "int"), fld("in", rec("In", fld("x", "int")))), indent=2)
    writer = rec("R", fld("a", "long"), fld("in", rec("In", fld("x", "string"))))
    findings = reader_writer_findings(reader, writer)
    by_path = {f.path: f for f in findings}
    assert set(by_path) == {"/fields/0/type", "/fields/1/type/fields/0/type"}
    assert by_path["/fields/0/type"].code == "TYPE_NARROWED"
    assert str(by_path["/fields/0/type"].loc) == "<reader>:6:15"  # the "name" of field a
    assert by_path["/fields/1/type/fields/0/type"].writer_path == "/fields/1/type/fields/0/type"
