"""Load a specs folder: project config, stream specs, Avro files, into located IR.

Every problem becomes a Diagnostic; loading goes on after an error so that one
run reports all of them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from moosegen.diagnostics import Diagnostic
from moosegen.schema.ir import Record
from moosegen.schema.parse import SchemaSet
from moosegen.schema.shorthand import lower_record, pascal
from moosegen.sourcemap import JsonPath, LoadError, SourceMap, load_json, load_yaml
from moosegen.spec.kafka_configs import TOPIC_CONFIGS, config_value_problem
from moosegen.spec.model import ProjectConfig, StreamSpec, TableOptions

PROJECT_FILE = "moosegen.yaml"
REGISTRY_DIR = "registry"
IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass
class Destination:
    """One table a stream writes to: the default table or a fan-out destination."""

    name: str
    options: TableOptions
    schema: Record
    transform: str | None
    is_default: bool
    where: JsonPath


@dataclass
class LoadedStream:
    spec: StreamSpec
    display_path: str
    source: str  # path relative to the specs folder's parent, for headers: "specs/events.yaml"
    smap: SourceMap
    schema: Record
    schema_smap: SourceMap
    namespace: str | None
    destinations: list[Destination] = field(default_factory=list)
    key: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.stream

    @property
    def suffix(self) -> str:
        return f"_v{self.spec.version}" if self.spec.version > 1 else ""

    @property
    def subject(self) -> str:
        base = f"{self.namespace}.{self.name}" if self.namespace else self.name
        return base + self.suffix

    @property
    def topic(self) -> str:
        if self.spec.topic.name:
            return self.spec.topic.name
        return (f"{self.namespace}." if self.namespace else "") + self.name + self.suffix

    @property
    def dead_letter_topic(self) -> str:
        return self.spec.dead_letter.topic or f"{self.topic}-dlq"

    @property
    def package(self) -> str:
        return self.name + self.suffix


@dataclass
class Project:
    specs_dir: Path
    config: ProjectConfig
    streams: list[LoadedStream]
    schemas: SchemaSet
    diagnostics: list[Diagnostic]


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_project(specs_dir: Path) -> Project:
    diags: list[Diagnostic] = []
    root = specs_dir.resolve()
    config = _load_config(specs_dir, diags)
    schemas = SchemaSet()
    avsc_docs: dict[Path, tuple[Any, SourceMap]] = {}
    for path in sorted(p for p in specs_dir.rglob("*.avsc") if not _in_registry(p, specs_dir)):
        try:
            data, smap = load_json(path.read_text(encoding="utf-8"), display(path))
        except LoadError as exc:
            diags.append(exc.diagnostic)
            continue
        avsc_docs[path.resolve()] = (data, smap)
        schemas.register(data, smap, (), None)
    raw_streams = []
    for path in sorted(p for p in specs_dir.glob("*.y*ml") if p.name != PROJECT_FILE):
        if path.suffix not in (".yaml", ".yml"):
            continue
        loaded = _load_yaml_file(path, diags)
        if loaded is None:
            continue
        data, smap = loaded
        if not isinstance(data, dict):
            diags.append(smap.diag((), "NOT_A_MAPPING", "a stream spec must be a YAML mapping"))
            continue
        spec = _validate(StreamSpec, data, smap, diags)
        if spec is None:
            continue
        raw_streams.append((path, spec, smap))
    # Shorthand schemas join the shared named-type table before anything is built.
    pending = []
    for path, spec, smap in raw_streams:
        namespace = config.namespace
        sources: list[tuple[JsonPath, str | None, dict[str, Any] | None, str, str | None]] = [
            ((), spec.schema_, spec.fields, pascal(spec.stream), spec.description)
        ]
        sources.append(_table_source(spec))
        sources += [
            (("destinations", i), d.schema_, d.fields, pascal(d.table), None)
            for i, d in enumerate(spec.destinations)
        ]
        resolved = []
        for where, schema_file, fields, record_name, doc in sources:
            resolved.append(
                _schema_source(
                    root,
                    path,
                    smap,
                    where,
                    schema_file,
                    fields,
                    record_name,
                    namespace,
                    doc,
                    avsc_docs,
                    schemas,
                    diags,
                )
            )
        pending.append((path, spec, smap, resolved))
    streams: list[LoadedStream] = []
    for path, spec, smap, resolved in pending:
        built = [_build_record(schemas, src) if src else None for src in resolved]
        main = built[0]
        if main is None:
            continue
        record, schema_smap, keys = main
        stream = LoadedStream(
            spec,
            display(path),
            f"{specs_dir.resolve().name}/{path.name}",
            smap,
            record,
            schema_smap,
            config.namespace,
            key=list(spec.key) or keys,
        )
        if spec.table is not False:
            table_record = built[1][0] if built[1] else record
            stream.destinations.append(
                Destination(
                    spec.table.name or stream.package,
                    spec.table,
                    table_record,
                    None,
                    True,
                    ("table",),
                )
            )
        for i, dest in enumerate(spec.destinations):
            own = built[i + 2]
            dest_record = own[0] if own else record
            stream.destinations.append(
                Destination(
                    dest.table, dest, dest_record, dest.transform, False, ("destinations", i)
                )
            )
        _cross_checks(stream, diags)
        streams.append(stream)
    _project_checks(streams, diags)
    diags.extend(schemas.diagnostics)
    return Project(specs_dir, config, streams, schemas, diags)


def _table_source(
    spec: StreamSpec,
) -> tuple[JsonPath, str | None, dict[str, Any] | None, str, str | None]:
    """The default table's own schema, if it declares one (its record is named after the
    table, and never after the stream's record)."""
    if spec.table is False:
        return (("table",), None, None, "", None)
    name = pascal(spec.table.name or spec.stream)
    if name == pascal(spec.stream):
        name += "Row"
    return (("table",), spec.table.schema_, spec.table.fields, name, None)


def _in_registry(path: Path, specs_dir: Path) -> bool:
    return path.relative_to(specs_dir).parts[0] == REGISTRY_DIR


def _load_yaml_file(path: Path, diags: list[Diagnostic]) -> tuple[Any, SourceMap] | None:
    try:
        return load_yaml(path.read_text(encoding="utf-8"), display(path))
    except LoadError as exc:
        diags.append(exc.diagnostic)
        return None
    except UnicodeDecodeError as exc:
        diags.append(
            Diagnostic(display(path), 1, 1, "error", "ENCODING", f"not UTF-8: {exc.reason}")
        )
        return None


def _load_config(specs_dir: Path, diags: list[Diagnostic]) -> ProjectConfig:
    path = specs_dir / PROJECT_FILE
    if not path.exists():
        return ProjectConfig()
    loaded = _load_yaml_file(path, diags)
    if loaded is None or loaded[0] is None:
        return ProjectConfig()
    data, smap = loaded
    if not isinstance(data, dict):
        diags.append(smap.diag((), "NOT_A_MAPPING", "moosegen.yaml must be a YAML mapping"))
        return ProjectConfig()
    return _validate(ProjectConfig, data, smap, diags) or ProjectConfig()


def _validate(
    model: type[BaseModel], data: dict[str, Any], smap: SourceMap, diags: list[Diagnostic]
) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            diags.append(_pydantic_diag(model, err, smap))
        return None


def _pydantic_diag(model: type[BaseModel], err: Any, smap: SourceMap) -> Diagnostic:
    # Union members add their class names to the loc; keep only the real path.
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and (p[:1].isupper() or "[" in p)))
    kind: str = err["type"]
    if kind.isupper():
        return smap.diag(loc, kind, err["msg"])
    if kind == "extra_forbidden":
        return smap.diag(loc, "UNKNOWN_KEY", _unknown_key_message(model, loc), key=True)
    if kind == "missing":
        return smap.diag(loc[:-1], "MISSING_KEY", f"missing required key {loc[-1]!r}")
    if kind in ("literal_error", "enum"):
        return smap.diag(loc, "BAD_VALUE", err["msg"])
    if kind.startswith(("greater_than", "less_than")):
        return smap.diag(loc, "OUT_OF_RANGE", err["msg"])
    return smap.diag(loc, "BAD_TYPE", f"{err['msg'].rstrip('.')} (got {err['input']!r})")


def _unknown_key_message(model: type[BaseModel], loc: JsonPath) -> str:
    key = str(loc[-1])
    target: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(target, "model_fields", {})
        info = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if info is None:
            break
        target = _model_in(info.annotation)
    known = [f.alias or n for n, f in getattr(target, "model_fields", {}).items()]
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r}{hint}"


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if (found := _model_in(arg)) is not None:
            return found
    return None


def _schema_source(
    root: Path,
    spec_path: Path,
    smap: SourceMap,
    where: JsonPath,
    schema_file: str | None,
    fields: dict[str, Any] | None,
    record_name: str,
    namespace: str | None,
    doc: str | None,
    avsc_docs: dict[Path, tuple[Any, SourceMap]],
    schemas: SchemaSet,
    diags: list[Diagnostic],
) -> tuple[Any, SourceMap, list[str]] | None:
    """The Avro JSON (and its source map) that defines one record of a spec."""
    if schema_file is not None and fields is not None:
        diags.append(
            smap.diag(
                (*where, "fields"),
                "SCHEMA_AND_FIELDS",
                "give either 'schema' or 'fields', not both",
                key=True,
            )
        )
        return None
    if schema_file is not None:
        target = (spec_path.parent / schema_file).resolve()
        if Path(schema_file).is_absolute() or not target.is_relative_to(root):
            diags.append(
                smap.diag(
                    (*where, "schema"),
                    "PATH_ESCAPE",
                    f"schema path {schema_file!r} leaves the specs folder",
                )
            )
            return None
        if target not in avsc_docs:
            if target.exists() and target.suffix != ".avsc":
                message = f"schema file {schema_file!r} must end in .avsc"
            elif target.exists():
                return None  # its own load error is already reported
            else:
                message = f"schema file {schema_file!r} not found"
            diags.append(smap.diag((*where, "schema"), "FILE_NOT_FOUND", message))
            return None
        data, avsc_smap = avsc_docs[target]
        if not (isinstance(data, dict) and data.get("type") in ("record", "error")):
            diags.append(
                avsc_smap.diag(
                    (), "NOT_A_RECORD", "a stream schema must be an Avro record at the top level"
                )
            )
            return None
        return data, avsc_smap, []
    if fields is None:
        if where:
            return None  # a destination without its own schema uses the stream's
        diags.append(
            smap.diag(
                where, "MISSING_SCHEMA", "a stream needs 'schema: FILE.avsc' or a 'fields:' mapping"
            )
        )
        return None
    lowered = lower_record(record_name, namespace, fields, smap, (*where, "fields"), doc)
    diags.extend(lowered.diagnostics)
    schemas.register(lowered.schema, lowered.smap, (), None)
    return lowered.schema, lowered.smap, lowered.keys


def _build_record(
    schemas: SchemaSet, source: tuple[Any, SourceMap, list[str]]
) -> tuple[Record, SourceMap, list[str]] | None:
    data, schema_smap, keys = source
    built = schemas.build(data, schema_smap, (), None)
    if isinstance(built, Record):
        return built, schema_smap, keys
    return None


def _cross_checks(stream: LoadedStream, diags: list[Diagnostic]) -> None:
    spec, smap = stream.spec, stream.smap
    names = {f.name for f in stream.schema.fields}

    def need_fields(where: JsonPath, columns: list[str], available: set[str], what: str) -> None:
        for i, column in enumerate(columns):
            if IDENT_RE.match(column) and column not in available:
                diags.append(
                    smap.diag(
                        (*where, i) if where[-1] != "key" or spec.key else where,
                        "UNKNOWN_FIELD",
                        f"{what} {column!r} is not a field of {stream.schema.fullname}",
                    )
                )

    need_fields(("key",), stream.key, names, "key field")
    need_fields(("topic", "partition_key"), spec.topic.partition_key, names, "partition key field")
    for key, value in spec.topic.config.items():
        where = ("topic", "config", key)
        if key not in TOPIC_CONFIGS:
            close = difflib.get_close_matches(key, list(TOPIC_CONFIGS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            diags.append(
                smap.diag(
                    where,
                    "UNKNOWN_TOPIC_CONFIG",
                    f"{key!r} is not a Kafka topic-level config{hint}",
                    key=True,
                )
            )
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if problem := config_value_problem(key, text):
            diags.append(smap.diag(where, "BAD_TOPIC_CONFIG", problem))
    seen: dict[str, JsonPath] = {}
    for dest in stream.destinations:
        if dest.name in seen:
            diags.append(
                smap.diag(
                    (*dest.where, "table") if not dest.is_default else dest.where,
                    "DUPLICATE_DESTINATION",
                    f"stream {stream.name!r} already writes to table {dest.name!r}",
                )
            )
        seen[dest.name] = dest.where
        columns = {f.name for f in dest.schema.fields}
        opts = dest.options
        need_fields((*dest.where, "order_by"), opts.order_by or [], columns, "ORDER BY column")
        need_fields(
            (*dest.where, "primary_key"), opts.primary_key or [], columns, "PRIMARY KEY column"
        )
        need_fields((*dest.where, "sum_columns"), opts.sum_columns, columns, "sum column")
        for attr in ("version_column", "sign_column"):
            value = getattr(opts, attr)
            if value is not None and value not in columns:
                diags.append(
                    smap.diag(
                        (*dest.where, attr),
                        "UNKNOWN_FIELD",
                        f"{attr} {value!r} is not a field of {dest.schema.fullname}",
                    )
                )
        for column in opts.columns:
            if column not in columns:
                diags.append(
                    smap.diag(
                        (*dest.where, "columns", column),
                        "UNKNOWN_FIELD",
                        f"column override {column!r} is not a field of {dest.schema.fullname}",
                        key=True,
                    )
                )
        if opts.engine == "CollapsingMergeTree" and opts.sign_column is None:
            diags.append(
                smap.diag(
                    (*dest.where, "engine"),
                    "MISSING_KEY",
                    "CollapsingMergeTree needs 'sign_column'",
                )
            )


def _project_checks(streams: list[LoadedStream], diags: list[Diagnostic]) -> None:
    owners: dict[str, LoadedStream] = {}
    for stream in streams:
        for label, value in (("stream", stream.package), ("topic", stream.topic)):
            other = owners.get(f"{label}:{value}")
            if other is not None:
                diags.append(
                    stream.smap.diag(
                        ("stream",),
                        "DUPLICATE_STREAM",
                        f"{label} {value!r} is already defined by {other.display_path}",
                    )
                )
                break
            owners[f"{label}:{value}"] = stream
