"""Load a specs folder: project config, stream specs, Avro files, into located IR.

Every problem becomes a Diagnostic; loading goes on after an error so that one
run reports all of them.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from moosegen.compat.history import validate_registry
from moosegen.diagnostics import Diagnostic
from moosegen.schema.ir import Record
from moosegen.schema.parse import SchemaSet
from moosegen.schema.shorthand import lower_record, pascal
from moosegen.sourcemap import JsonPath, LoadError, SourceMap, load_json, load_yaml
from moosegen.spec import jsonschema_stream
from moosegen.spec import model as spec_model
from moosegen.spec.files import SourceFileError, read_text
from moosegen.spec.kafka_configs import TOPIC_CONFIGS, config_value_problem
from moosegen.spec.model import ProjectConfig, StreamSpec, TableOptions
from moosegen.spec.text import bad_character, text_problems

PROJECT_FILE = "moosegen.yaml"
REGISTRY_DIR = "registry"
IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
TOPIC_MAX = 249


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
    json_schema: jsonschema_stream.JsonSchemaSource | None = None  # a JSON Schema stream's own

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


def real(path: Path) -> Path:
    """The path with symlinks followed; never raises (a loop stays unresolved)."""
    return Path(os.path.realpath(path))


def display(path: Path) -> str:
    """How diagnostics name a file: relative to the working folder when inside it. The
    file's own name is kept, so a symlink is named as the user sees it."""
    shown = real(path.parent) / path.name
    try:
        return str(shown.relative_to(real(Path.cwd())))
    except ValueError:
        return str(path)


def load_project(specs_dir: Path) -> Project:
    diags: list[Diagnostic] = []
    root = real(specs_dir)
    config = _load_config(specs_dir, diags)
    schemas = SchemaSet()
    avsc_docs: dict[Path, tuple[Any, SourceMap]] = {}
    for path in _schema_files(specs_dir, diags):
        loaded = _load_document(path, load_json, diags)
        if loaded is None:
            continue
        data, smap = loaded
        avsc_docs[real(path)] = (data, smap)
        schemas.register(data, smap, (), None)
    raw_streams = []
    for path in sorted(p for p in specs_dir.iterdir() if p.name != PROJECT_FILE):
        if path.suffix not in (".yaml", ".yml") or not _confined(path, root, diags):
            continue
        loaded = _load_document(path, load_yaml, diags)
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
        if spec.schema_ is not None and schema_smap.path.endswith(".json"):
            stream.json_schema = jsonschema_stream.source(
                real(path.parent / spec.schema_), schema_smap.path, diags
            )
            if stream.json_schema is None:
                continue
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
    diags.extend(validate_registry(specs_dir))
    return Project(specs_dir, config, streams, schemas, diags)


def _schema_files(specs_dir: Path, diags: list[Diagnostic]) -> list[Path]:
    """Every `.avsc` outside the registry; symlinked folders are not followed (no loops),
    and a symlink out of the specs folder is refused."""
    root = real(specs_dir)
    found: list[Path] = []

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename or specs_dir)
        diags.append(
            Diagnostic(
                display(where), 1, 1, "error", "FILE_UNREADABLE", f"cannot list: {exc.strerror}"
            )
        )

    for dirpath, dirnames, filenames in os.walk(specs_dir, onerror=unreadable):
        here = Path(dirpath)
        if here == specs_dir:
            dirnames[:] = [d for d in dirnames if d != REGISTRY_DIR]
        dirnames.sort()
        found += [here / n for n in filenames if n.endswith(".avsc")]
        # A folder named like a schema is reported where a spec names it, not here.
    return [p for p in sorted(found) if _confined(p, root, diags)]


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


def _confined(path: Path, root: Path, diags: list[Diagnostic]) -> bool:
    if not path.is_symlink() or real(path).is_relative_to(root):
        return True
    diags.append(
        Diagnostic(
            display(path), 1, 1, "error", "PATH_ESCAPE", "a symlink that leaves the specs folder"
        )
    )
    return False


def _load_document(path: Path, parse: Any, diags: list[Diagnostic]) -> tuple[Any, SourceMap] | None:
    """One YAML or JSON file with its source map, text checked; None when it has errors."""
    shown = display(path)
    try:
        data, smap = parse(read_text(path, shown), shown)
    except (LoadError, SourceFileError) as exc:
        diags.append(exc.diagnostic)
        return None
    problems = text_problems(data, smap)
    diags.extend(problems)
    return None if problems else (data, smap)


def _load_config(specs_dir: Path, diags: list[Diagnostic]) -> ProjectConfig:
    path = specs_dir / PROJECT_FILE
    if not os.path.lexists(path):
        return ProjectConfig()
    loaded = _load_document(path, load_yaml, diags)
    if loaded is None or loaded[0] is None:
        return ProjectConfig()
    data, smap = loaded
    if not isinstance(data, dict):
        diags.append(smap.diag((), "NOT_A_MAPPING", "moosegen.yaml must be a YAML mapping"))
        return ProjectConfig()
    config = _validate(ProjectConfig, data, smap, diags) or ProjectConfig()
    if "output" in data and config.output == data["output"]:
        _check_output(specs_dir, config.output, smap, diags)
    return config


def _check_output(specs_dir: Path, output: str, smap: SourceMap, diags: list[Diagnostic]) -> None:
    """The configured output folder, once symlinks are followed, stays in the project."""
    project = real(specs_dir.resolve().parent)
    target = real(specs_dir.resolve().parent / output)
    if target == project or not target.is_relative_to(project):
        diags.append(
            smap.diag(
                ("output",),
                "PATH_ESCAPE",
                f"output folder {output!r} leads out of the project folder through a symlink",
            )
        )


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
    kind: str = err["type"]
    # An unknown key is the last part of its loc, whatever it is named.
    raw = tuple(err["loc"])
    keep = raw[-1:] if kind == "extra_forbidden" else ()
    loc = tuple(p for p in raw[: len(raw) - len(keep)] if not _is_union_tag(p)) + keep
    if kind.isupper():
        return smap.diag(loc, kind, err["msg"])
    if kind == "extra_forbidden":
        return smap.diag(loc, "UNKNOWN_KEY", _unknown_key_message(model, loc), key=True)
    if kind == "missing" and loc:
        return smap.diag(loc[:-1], "MISSING_KEY", f"missing required key {loc[-1]!r}")
    if kind in ("literal_error", "enum"):
        return smap.diag(loc, "BAD_VALUE", err["msg"])
    if kind.startswith(("greater_than", "less_than")):
        return smap.diag(loc, "OUT_OF_RANGE", err["msg"])
    return smap.diag(loc, "BAD_TYPE", f"{err['msg'].rstrip('.')} (got {err['input']!r})")


def _is_union_tag(part: str | int) -> bool:
    return isinstance(part, str) and ("[" in part or part in _MODEL_NAMES)


def _unknown_key_message(model: type[BaseModel], loc: JsonPath) -> str:
    key = str(loc[-1]) if loc else ""
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


_MODEL_NAMES = {
    cls.__name__
    for cls in vars(spec_model).values()
    if isinstance(cls, type) and issubclass(cls, BaseModel)
}


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
        problem = _schema_path_problem(root, spec_path, schema_file, avsc_docs, not where)
        if problem is None:
            return None  # the file's own load error is already reported
        if problem:
            code, message = problem
            diags.append(smap.diag((*where, "schema"), code, message))
            return None
        target = real(spec_path.parent / schema_file)
        if target not in avsc_docs:  # a JSON Schema: only a stream's own schema may be one
            return jsonschema_stream.lowered_source(
                target, display(target), record_name, namespace, schemas, diags
            )
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


class PathProblem(NamedTuple):
    code: str
    message: str


def _schema_path_problem(
    root: Path, spec_path: Path, schema_file: str, avsc_docs: dict[Path, Any], json_ok: bool
) -> PathProblem | tuple[()] | None:
    """Why `schema:` cannot be used: (code, message); () when it loaded, or is a JSON
    Schema file where one may be (`json_ok`); None when the file itself failed to load
    (and said so)."""
    if bad_character(schema_file) or not schema_file:
        return PathProblem(code="BAD_PATH", message=f"invalid schema path {schema_file!r}")
    target = real(spec_path.parent / schema_file)
    if Path(schema_file).is_absolute() or not target.is_relative_to(root):
        return PathProblem(
            code="PATH_ESCAPE", message=f"schema path {schema_file!r} leaves the specs folder"
        )
    if target in avsc_docs:
        return ()
    if target.is_relative_to(root / REGISTRY_DIR):
        return PathProblem(
            code="PATH_ESCAPE", message=f"schema path {schema_file!r} is inside the registry folder"
        )
    if not os.path.lexists(target):
        return PathProblem(code="FILE_NOT_FOUND", message=f"schema file {schema_file!r} not found")
    if target.is_dir():
        return PathProblem(
            code="NOT_A_FILE", message=f"schema path {schema_file!r} is a folder, not a file"
        )
    if target.suffix == ".json" and json_ok:
        return ()
    if target.suffix != ".avsc":
        return PathProblem(
            code="FILE_NOT_FOUND", message=f"schema file {schema_file!r} must end in .avsc"
        )
    return None


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

    if not spec.dead_letter.topic and len(stream.dead_letter_topic) > TOPIC_MAX:
        diags.append(
            smap.diag(
                ("topic", "name"),
                "BAD_NAME",
                f"dead-letter topic {stream.dead_letter_topic!r} would be longer than "
                f"Kafka's {TOPIC_MAX} characters; shorten the topic or set dead_letter.topic",
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
