"""The YAML shorthand (`fields:`) lowered to an Avro record.

    id:        {type: string, key: true}
    timestamp: timestamp-millis
    amount:    {type: decimal, precision: 18, scale: 4, optional: true}
    tags:      {type: array, items: string}
    note:      string?                      # `?` is shorthand for optional

The lowered schema gets a SourceMap whose positions point back into the YAML,
so Avro errors in a shorthand schema are reported where the user wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moosegen.diagnostics import Diagnostic
from moosegen.sourcemap import JsonPath, SourceMap

LOGICAL_ALIASES: dict[str, dict[str, Any]] = {
    name: {"type": base, "logicalType": name}
    for name, base in {
        "uuid": "string",
        "json": "string",
        "date": "int",
        "time-millis": "int",
        "time-micros": "long",
        "timestamp-millis": "long",
        "timestamp-micros": "long",
        "timestamp-nanos": "long",
        "local-timestamp-millis": "long",
        "local-timestamp-micros": "long",
        "local-timestamp-nanos": "long",
    }.items()
}
FIELD_OPTIONS = {
    "type",
    "optional",
    "default",
    "doc",
    "key",
    "aliases",
    "symbols",
    "name",
    "precision",
    "scale",
    "size",
    "items",
    "values",
    "fields",
    "namespace",
}


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Record"


@dataclass
class Lowered:
    schema: dict[str, Any]
    smap: SourceMap
    keys: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def lower_record(
    name: str,
    namespace: str | None,
    fields: Any,
    ysmap: SourceMap,
    ywhere: JsonPath,
    doc: str | None = None,
) -> Lowered:
    out = Lowered({}, SourceMap(ysmap.path))
    out.schema = _record(out, name, namespace, fields, ysmap, ywhere, (), doc, top=True)
    return out


def _record(
    out: Lowered,
    name: str,
    namespace: str | None,
    fields: Any,
    ysmap: SourceMap,
    ywhere: JsonPath,
    awhere: JsonPath,
    doc: str | None,
    top: bool = False,
) -> dict[str, Any]:
    out.smap.values[awhere] = ysmap.pos(ywhere)
    out.smap.values[awhere + ("name",)] = ysmap.pos(ywhere, key=True)
    record: dict[str, Any] = {"type": "record", "name": name}
    if namespace:
        record["namespace"] = namespace
    if doc:
        record["doc"] = doc
    record["fields"] = []
    if not isinstance(fields, dict) or not fields:
        out.diagnostics.append(
            ysmap.diag(
                ywhere, "SHORTHAND_BAD_FIELDS", "'fields' must be a mapping of field name to type"
            )
        )
        return record
    for i, (fname, fdef) in enumerate(fields.items()):
        fy = (*ywhere, fname)
        fa = (*awhere, "fields", i)
        out.smap.values[fa] = ysmap.pos(fy, key=True)
        out.smap.values[fa + ("name",)] = ysmap.pos(fy, key=True)
        avro_field: dict[str, Any] = {"name": fname}
        opts: dict[str, Any] = fdef if isinstance(fdef, dict) else {"type": fdef}
        type_where = (*fy, "type") if isinstance(fdef, dict) else fy
        for key in opts:
            if key not in FIELD_OPTIONS:
                out.diagnostics.append(
                    ysmap.diag(
                        (*fy, key),
                        "SHORTHAND_UNKNOWN_KEY",
                        f"unknown field option {key!r}; expected one of "
                        + ", ".join(sorted(FIELD_OPTIONS)),
                        key=True,
                    )
                )
        raw_type = opts.get("type")
        optional = bool(opts.get("optional", False))
        if isinstance(raw_type, str) and raw_type.endswith("?"):
            raw_type, optional = raw_type[:-1], True
        avro_type = _type(
            out, fname, raw_type, opts, ysmap, fy, type_where, (*fa, "type"), namespace
        )
        if optional:
            if "default" in opts and opts["default"] is not None:
                avro_type, avro_field["default"] = [avro_type, "null"], opts["default"]
            else:
                avro_type, avro_field["default"] = ["null", avro_type], None
            out.smap.values[
                fa
                + (
                    "type",
                    0,
                )
            ] = ysmap.pos(type_where)
            out.smap.values[
                fa
                + (
                    "type",
                    1,
                )
            ] = ysmap.pos(type_where)
        elif "default" in opts:
            avro_field["default"] = opts["default"]
        if "default" in opts:
            out.smap.values[fa + ("default",)] = ysmap.pos((*fy, "default"))
        avro_field["type"] = avro_type
        for key in ("doc", "aliases"):
            if key in opts:
                avro_field[key] = opts[key]
                out.smap.values[fa + (key,)] = ysmap.pos((*fy, key))
        if opts.get("key") is True and top:
            out.keys.append(fname)
        record["fields"].append(avro_field)
    return record


def _type(
    out: Lowered,
    fname: str,
    raw: Any,
    opts: dict[str, Any],
    ysmap: SourceMap,
    fy: JsonPath,
    ty: JsonPath,
    awhere: JsonPath,
    namespace: str | None,
) -> Any:
    out.smap.values[awhere] = ysmap.pos(ty)
    if isinstance(raw, str) and raw in LOGICAL_ALIASES:
        return dict(LOGICAL_ALIASES[raw])
    if raw == "decimal":
        return {
            "type": "bytes",
            "logicalType": "decimal",
            "precision": opts.get("precision"),
            "scale": opts.get("scale", 0),
        }
    if raw == "enum":
        out.smap.values[awhere + ("symbols",)] = ysmap.pos((*fy, "symbols"))
        return {
            "type": "enum",
            "name": opts.get("name", pascal(fname)),
            "symbols": opts.get("symbols"),
        }
    if raw == "fixed":
        out.smap.values[awhere + ("size",)] = ysmap.pos((*fy, "size"))
        return {"type": "fixed", "name": opts.get("name", pascal(fname)), "size": opts.get("size")}
    if raw in ("array", "map"):
        sub = "items" if raw == "array" else "values"
        inner = opts.get(sub)
        inner_opts = inner if isinstance(inner, dict) else {"type": inner}
        inner_ty = (*fy, sub, "type") if isinstance(inner, dict) else (*fy, sub)
        return {
            "type": raw,
            sub: _type(
                out,
                fname + "_" + ("item" if sub == "items" else "value"),
                inner_opts.get("type"),
                inner_opts,
                ysmap,
                (*fy, sub),
                inner_ty,
                (*awhere, sub),
                namespace,
            ),
        }
    if raw == "record":
        return _record(
            out,
            opts.get("name", pascal(fname)),
            opts.get("namespace", namespace),
            opts.get("fields"),
            ysmap,
            (*fy, "fields"),
            awhere,
            opts.get("doc"),
        )
    return raw  # a primitive, a named type, or plain Avro JSON: the Avro builder judges it
