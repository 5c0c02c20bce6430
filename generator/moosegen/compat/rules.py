"""Pairwise reader/writer rules: can data written with one schema be read with another?

The semantics are those of Apache Avro Java's `SchemaCompatibility` (1.12), which
Confluent Schema Registry calls, reproduced step for step so verdicts agree:

- same kind: primitives match; arrays and maps compare items/values; records, enums
  and fixed first compare names (unqualified names equal, or the writer's full name
  among the reader's aliases, resolved against the reader's namespace), then fields,
  symbols or size;
- different kinds: a writer union needs every branch readable; a reader union needs
  the first branch (in order) that reads the writer; else only the promotions
  int→long/float/double, long→float/double, float→double, string↔bytes pass;
- records: every reader field is matched in the writer by name, then by the reader
  field's aliases; an unmatched reader field needs a default; writer-only fields are
  skipped; a reader field matching two writer fields is an error (Java throws);
- enums: every writer symbol must be a reader symbol, unless the reader enum has a
  default;
- recursion: a (reader, writer) pair met again while still being checked counts as
  compatible, and every finished pair is memoized by node identity — the same
  evaluation order as Java, so the memo gives the same answers.

Logical types are ignored, as Java ignores them here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from moosegen.compat.shapes import plain_fields, shape
from moosegen.schema.ir import (
    Array,
    AvroType,
    Enum,
    Fixed,
    Loc,
    Map,
    Named,
    Primitive,
    Record,
    UnionType,
)

# The pairwise rule codes: (category, meaning, the Avro Java SchemaIncompatibilityType).
RULES: dict[str, tuple[str, str, str]] = {
    "READER_FIELD_MISSING_DEFAULT": (
        "FIELD",
        "a reader field is absent from the writer and has no default",
        "READER_FIELD_MISSING_DEFAULT_VALUE",
    ),
    "FIELD_AMBIGUOUS_ALIAS": (
        "FIELD",
        "a reader field matches two writer fields (by name and by alias)",
        "(Avro Java throws AvroRuntimeException)",
    ),
    "TYPE_MISMATCH": ("TYPE", "the reader's type cannot read the writer's type", "TYPE_MISMATCH"),
    "TYPE_NARROWED": (
        "TYPE",
        "the reader's type is narrower than the writer's (the promotion only goes "
        "the other way, e.g. long written, int read)",
        "TYPE_MISMATCH",
    ),
    "NAME_MISMATCH": (
        "NAME",
        "named types differ in name and no reader alias names the writer type",
        "NAME_MISMATCH",
    ),
    "FIXED_SIZE_MISMATCH": ("TYPE", "fixed types differ in size", "FIXED_SIZE_MISMATCH"),
    "READER_ENUM_MISSING_SYMBOLS": (
        "ENUM",
        "writer enum symbols are absent from the reader enum, which has no default",
        "MISSING_ENUM_SYMBOLS",
    ),
    "MISSING_UNION_BRANCH": (
        "UNION",
        "a writer type (or writer union branch) is read by no reader union branch",
        "MISSING_UNION_BRANCH",
    ),
}

# Type promotions Avro allows on read: writer kind -> reader kinds.
PROMOTIONS: dict[str, frozenset[str]] = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}


@dataclass(frozen=True)
class Finding:
    """One incompatibility.

    `path` is the JSON path of the offending node in the schema that is being checked
    (see `modes`; pairwise it is the reader's path), `loc` the `file:line:col` of the
    nearest field or named type that carries a position, when known.
    """

    code: str
    category: str
    path: str
    message: str
    loc: Loc | None = None
    against_version: int | None = None
    java_type: str = ""
    reader_path: str = "/"
    writer_path: str = "/"
    reader_loc: Loc | None = None
    writer_loc: Loc | None = None

    def text(self) -> str:
        where = str(self.loc) if self.loc else self.path
        return f"{where}: {self.code}: {self.message}"

    def with_(self, **changes: object) -> Finding:
        return replace(self, **changes)  # type: ignore[arg-type]


def kind(t: AvroType | Named) -> str:
    """The Avro type kind of a node, as Java's Schema.Type names it (lower case)."""
    if isinstance(t, Primitive):
        return t.name
    if isinstance(t, Record):
        return "record"
    if isinstance(t, Enum):
        return "enum"
    if isinstance(t, Fixed):
        return "fixed"
    if isinstance(t, Array):
        return "array"
    if isinstance(t, Map):
        return "map"
    return "union"


def _describe(t: AvroType) -> str:
    return f"{kind(t)} {t.fullname}" if isinstance(t, Named) else kind(t)


def resolved_aliases(t: Named) -> set[str]:
    """A named type's aliases as full names: an unqualified alias takes the type's namespace."""
    out = set()
    for a in t.aliases:
        if a.startswith("."):
            # `.Name` parses (null namespace), but Avro Java's SchemaCompatibility keeps
            # the dot in the alias's full name, so it names no writer type: follow it.
            out.add(a)
        elif "." in a:
            out.add(a)
        else:
            out.add(f"{t.namespace}.{a}" if t.namespace else a)
    return out


def names_match(reader: Named, writer: Named) -> bool:
    return reader.name == writer.name or writer.fullname in resolved_aliases(reader)


class _InProgress:
    pass


_IN_PROGRESS = _InProgress()
_Result = tuple["Finding", ...]  # empty means compatible


@dataclass(frozen=True)
class _Where:
    rpath: tuple[str, ...]
    wpath: tuple[str, ...]
    rloc: Loc | None
    wloc: Loc | None

    def down(
        self,
        rtok: str | None = None,
        wtok: str | None = None,
        *,
        rloc: Loc | None = None,
        wloc: Loc | None = None,
    ) -> _Where:
        return _Where(
            self.rpath + ((rtok,) if rtok is not None else ()),
            self.wpath + ((wtok,) if wtok is not None else ()),
            rloc or self.rloc,
            wloc or self.wloc,
        )


def _path(tokens: tuple[str, ...]) -> str:
    return "/" + "/".join(tokens)


class Checker:
    """One reader/writer check, with Java's memo of pairs (by node identity)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, int], object] = {}
        self._keep: list[object] = []  # keeps memo keys' objects alive

    def check(self, reader: AvroType, writer: AvroType) -> tuple[Finding, ...]:
        return self._get(reader, writer, _Where((), (), _named_loc(reader), _named_loc(writer)))

    # -- the memoizing step ---------------------------------------------------------

    def _get(self, reader: AvroType, writer: AvroType, where: _Where) -> tuple[Finding, ...]:
        same = shape(reader)
        if same is not None and same == shape(writer):
            return ()  # one shape: compatible, whatever lies below
        key = (id(reader), id(writer))
        cached = self._memo.get(key)
        if cached is not None:
            return () if cached is _IN_PROGRESS else cached  # type: ignore[return-value]
        self._memo[key] = _IN_PROGRESS
        self._keep.append((reader, writer))
        result = self._calculate(reader, writer, where)
        self._memo[key] = result
        return result

    def _finding(self, code: str, message: str, where: _Where) -> Finding:
        category, _, java = RULES[code]
        rpath, wpath = _path(where.rpath), _path(where.wpath)
        return Finding(
            code,
            category,
            rpath,
            message,
            where.rloc,
            None,
            java,
            rpath,
            wpath,
            where.rloc,
            where.wloc,
        )

    # -- the rules -------------------------------------------------------------------

    def _calculate(self, reader: AvroType, writer: AvroType, where: _Where) -> tuple[Finding, ...]:
        rk, wk = kind(reader), kind(writer)
        if rk == wk:
            if isinstance(reader, Primitive):
                return ()
            if isinstance(reader, Array):
                assert isinstance(writer, Array)
                return self._get(reader.items, writer.items, where.down("items", "items"))
            if isinstance(reader, Map):
                assert isinstance(writer, Map)
                return self._get(reader.values, writer.values, where.down("values", "values"))
            if isinstance(reader, Named):
                assert isinstance(writer, Named)
                here = where.down(rloc=reader.loc, wloc=writer.loc)
                out = self._names(reader, writer, here)
                if isinstance(reader, Fixed):
                    assert isinstance(writer, Fixed)
                    if reader.size != writer.size:
                        out += (
                            self._finding(
                                "FIXED_SIZE_MISMATCH",
                                f"fixed {reader.fullname} has size {reader.size} but the writer's "
                                f"{writer.fullname} has size {writer.size}",
                                here.down("size", "size"),
                            ),
                        )
                    return out
                if isinstance(reader, Enum):
                    assert isinstance(writer, Enum)
                    return out + self._symbols(reader, writer, here)
                assert isinstance(reader, Record) and isinstance(writer, Record)
                return out + self._fields(reader, writer, here)
            assert isinstance(reader, UnionType) and isinstance(writer, UnionType)
            out = ()
            for i, branch in enumerate(writer.branches):
                if self._get(reader, branch, where.down(None, str(i))):
                    out += (
                        self._finding(
                            "MISSING_UNION_BRANCH",
                            f"no branch of the reader union reads writer branch {i} "
                            f"({_describe(branch)})",
                            where.down(None, str(i)),
                        ),
                    )
            return out

        if isinstance(writer, UnionType):
            out = ()
            for i, branch in enumerate(writer.branches):
                out += self._get(reader, branch, where.down(None, str(i)))
            return out

        if isinstance(reader, UnionType):
            for i, branch in enumerate(reader.branches):
                if not self._get(branch, writer, where.down(str(i), None)):
                    return ()
            return (
                self._finding(
                    "MISSING_UNION_BRANCH",
                    f"no branch of the reader union reads the writer's {_describe(writer)}",
                    where,
                ),
            )

        if rk in PROMOTIONS.get(wk, ()):
            return ()
        if wk in PROMOTIONS.get(rk, ()) and {rk, wk} != {"string", "bytes"}:
            return (
                self._finding(
                    "TYPE_NARROWED",
                    f"reader type {rk} cannot hold every writer {wk} value "
                    f"({rk} promotes to {wk}, not the other way)",
                    where,
                ),
            )
        return (
            self._finding(
                "TYPE_MISMATCH",
                f"reader type {_describe(reader)} cannot read writer type {_describe(writer)}",
                where,
            ),
        )

    def _names(self, reader: Named, writer: Named, where: _Where) -> tuple[Finding, ...]:
        if names_match(reader, writer):
            return ()
        return (
            self._finding(
                "NAME_MISMATCH",
                f"reader {kind(reader)} {reader.fullname} does not match writer {writer.fullname}: "
                f"names differ and no reader alias is {writer.fullname!r}",
                where.down("name", "name"),
            ),
        )

    def _symbols(self, reader: Enum, writer: Enum, where: _Where) -> tuple[Finding, ...]:
        missing = sorted(set(writer.symbols) - set(reader.symbols))
        if not missing or (reader.default is not None and reader.default in reader.symbols):
            return ()
        return (
            self._finding(
                "READER_ENUM_MISSING_SYMBOLS",
                f"reader enum {reader.fullname} lacks writer symbols {missing} and has no default",
                where.down("symbols", "symbols"),
            ),
        )

    def _fields(self, reader: Record, writer: Record, where: _Where) -> tuple[Finding, ...]:
        out: tuple[Finding, ...] = ()
        # a plain reader field with a writer field of the same name and type shape reads it
        readable = plain_fields(reader) & plain_fields(writer)
        if len(readable) == len(reader.fields):
            return out
        by_name = {f.name: (i, f) for i, f in enumerate(writer.fields)}
        for ri, rfield in enumerate(reader.fields):
            if not rfield.aliases and (rfield.name, shape(rfield.type)) in readable:
                continue
            matches = [by_name[n] for n in (rfield.name, *rfield.aliases) if n in by_name]
            fwhere = where.down("fields", None).down(str(ri), None, rloc=rfield.loc)
            if len(matches) > 1:
                names = ", ".join(f.name for _, f in matches)
                out += (
                    self._finding(
                        "FIELD_AMBIGUOUS_ALIAS",
                        f"reader field {rfield.name!r} of {reader.fullname} matches several writer "
                        f"fields ({names}) by name and aliases",
                        fwhere,
                    ),
                )
                continue
            if not matches:
                if rfield.has_default:
                    continue
                if isinstance(rfield.type, Enum) and rfield.type.default is not None:
                    # Java compares the reader's enum with the writer *record* here, which
                    # always fails: an enum default is not a field default.
                    self._get(rfield.type, writer, fwhere.down("type", None))
                finding = self._finding(
                    "READER_FIELD_MISSING_DEFAULT",
                    f"reader field {rfield.name!r} of {reader.fullname} is not in the writer "
                    f"and has no default",
                    fwhere,
                )
                if isinstance(rfield.type, Enum) and rfield.type.default is not None:
                    finding = finding.with_(java_type="TYPE_MISMATCH")
                out += (finding,)
                continue
            wi, wfield = matches[0]
            out += self._get(
                rfield.type,
                wfield.type,
                _Where(
                    fwhere.rpath + ("type",),
                    where.wpath + ("fields", str(wi), "type"),
                    fwhere.rloc,
                    wfield.loc or where.wloc,
                ),
            )
        return out


def _named_loc(t: AvroType) -> Loc | None:
    return t.loc if isinstance(t, Named) else None


def reader_writer_findings(reader: AvroType, writer: AvroType) -> tuple[Finding, ...]:
    """Every incompatibility found reading `writer` data with `reader` (empty: compatible)."""
    return Checker().check(reader, writer)
