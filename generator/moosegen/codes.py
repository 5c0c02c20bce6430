"""Every diagnostic code moosegen emits: its category, default severity and meaning.

One table, listed by `moosegen codes` and in the README. A test scans the
generator's source and the error corpus for codes, and fails naming any code
that is emitted but missing here. Categories are those of `Diagnostic.category`
(`cli.FINDING_CATEGORIES` says which are findings about a valid project, exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from moosegen.compat.jsonschema_codes import JSON_SCHEMA_CODES
from moosegen.compat.modes import MODE_RULES
from moosegen.compat.rules import RULES
from moosegen.diagnostics import Severity


@dataclass(frozen=True)
class Code:
    code: str
    category: str
    severity: Severity
    description: str


def _codes(category: str, severity: Severity, table: dict[str, str]) -> tuple[Code, ...]:
    return tuple(Code(code, category, severity, text) for code, text in table.items())


_SPEC = _codes(
    "SPEC",
    "error",
    {
        "YAML_SYNTAX": "the file is not valid YAML",
        "YAML_DUPLICATE_KEY": "a YAML mapping has the same key twice",
        "YAML_TAG": "a YAML tag other than the standard ones (e.g. !!python/object)",
        "JSON_SYNTAX": "an .avsc file is not valid JSON",
        "JSON_DUPLICATE_KEY": "a JSON object in an .avsc file has the same key twice",
        "ENCODING": "a spec or schema file is not UTF-8",
        "NOT_A_MAPPING": "a stream spec or moosegen.yaml is not a YAML mapping",
        "UNKNOWN_KEY": "a key the spec language does not have (with a did-you-mean)",
        "MISSING_KEY": "a required key is missing",
        "BAD_TYPE": "a value has the wrong type",
        "BAD_VALUE": "a value is not one of the allowed ones",
        "OUT_OF_RANGE": "a number is outside its allowed range",
        "BAD_NAME": "an invalid stream, table or topic name (or a Python keyword)",
        "BAD_HOOK": "a hook is not 'package.module:function'",
        "BAD_DURATION": "a duration is not a number with a unit (ms s m h d w) or 'forever'",
        "BAD_TOPIC_CONFIG": "a topic config value Kafka would refuse",
        "UNKNOWN_TOPIC_CONFIG": "a topic config key Kafka does not know",
        "SCHEMA_AND_FIELDS": "a stream gives both 'schema:' and 'fields:'",
        "MISSING_SCHEMA": "a stream gives neither 'schema:' nor 'fields:'",
        "FILE_NOT_FOUND": "the schema file a spec names does not exist",
        "FILE_UNREADABLE": "a spec, schema or folder cannot be read (permissions, I/O error)",
        "FILE_TOO_LARGE": "a spec or schema file is over the 16 MiB limit",
        "NOT_A_FILE": "a path that must be a regular file is a folder, FIFO, device or socket",
        "BAD_PATH": "a path (schema:, output:) with characters or a form moosegen refuses",
        "CONTROL_CHARACTER": "a control character or lone surrogate in a spec or schema text",
        "TOO_DEEP": "YAML or JSON nested deeper than 64 levels",
        "TOO_LARGE": "a YAML document with more than 100,000 nodes",
        "YAML_ALIAS_BOMB": "a YAML alias that refers to itself or expands past the node limit",
        "YAML_BAD_VALUE": "a YAML scalar Python cannot convert (a bad date, a huge integer)",
        "PATH_ESCAPE": "a schema path leads outside the specs folder",
        "NOT_A_RECORD": "a stream's schema is not an Avro record at the top level",
        "UNKNOWN_FIELD": "a key, order_by, engine column or column override names no field",
        "DUPLICATE_DESTINATION": "a stream writes to the same table twice",
        "DUPLICATE_STREAM": "two specs claim the same stream, subject, topic or table name",
    },
)

_SCHEMA = (
    *_codes(
        "SCHEMA",
        "error",
        {
            "AVRO_BAD_SCHEMA": "an Avro schema object is malformed (no type, no fields, ...)",
            "AVRO_BAD_NAME": "an invalid Avro name, namespace, alias or enum symbol",
            "AVRO_DUPLICATE_TYPE": "two named types have the same full name",
            "AVRO_DUPLICATE_FIELD": "a record has two fields of the same name",
            "AVRO_DUPLICATE_SYMBOL": "an enum has the same symbol twice",
            "AVRO_UNKNOWN_TYPE": "a type name that no schema in the specs folder defines",
            "AVRO_BAD_UNION": "a union is empty, nests a union or repeats a branch type",
            "AVRO_BAD_DEFAULT": "a default does not match its field's type (or the enum's symbols)",
            "SHORTHAND_BAD_FIELDS": "the YAML shorthand's 'fields' is not a mapping",
            "SHORTHAND_UNKNOWN_KEY": "a field option the YAML shorthand does not have",
            "JSON_SCHEMA_INVALID": "a JSON Schema document is malformed or uses a keyword wrongly",
            "JSONSCHEMA_UNMAPPABLE": "a JSON Schema stream's construct has no ClickHouse column",
            "JSONSCHEMA_MODELS_FAILED": "datamodel-code-generator refused a stream's JSON Schema",
        },
    ),
    Code(
        "AVRO_BAD_LOGICAL_TYPE",
        "SCHEMA",
        "warning",
        "a logical type Avro cannot apply (wrong base type or size): the base type is used",
    ),
    Code(
        "AVRO_UNION_DEFAULT_NOT_FIRST",
        "SCHEMA",
        "warning",
        "a union default matches a later branch, not the first (Avro Java accepts it)",
    ),
)

_CLICKHOUSE = (
    *_codes(
        "CLICKHOUSE",
        "error",
        {
            "CH_BAD_TYPE": "a column type override is not a valid ClickHouse type",
            "CH_BAD_EXPRESSION": "a codec, default, key, partition, TTL or sharding expression "
            "is not valid SQL",
            "CH_BAD_SETTING": "an invalid table setting name",
            "CH_LOW_CARDINALITY": "low_cardinality on a column that is not a string",
            "CH_LINEAGE_CLASH": "a lineage column has the name of a field",
            "CH_NULLABLE_KEY": "a Nullable column in the sorting or primary key",
            "CH_ENGINE_COLUMNS": "an engine's version, sign or sum columns are missing",
            "CH_PRIMARY_KEY": "the primary key is not a prefix of order_by",
            "CH_FIELD_WITHOUT_DEFAULT": "a migration adds a non-Nullable column without a default",
            "CH_TYPE_NOT_MIGRATABLE": "a column type change ClickHouse cannot convert in place",
            "CH_NO_COLUMNS": "a table would have no column ClickHouse can store",
            "CH_JSON_OPTIONS": "JSON column options on a column that is not JSON, or invalid ones",
        },
    ),
    *_codes(
        "CLICKHOUSE",
        "warning",
        {
            "CH_NULL_TYPE": "a null-only type inside a composite is stored as Nullable(Nothing)",
            "CH_NULL_COLUMN": "a field that can only be null gets no column",
            "CH_LOSSY_DECIMAL": "a decimal beyond 76 digits is stored as String",
            "CH_RECURSIVE_RECORD": "a recursive record is stored as String (JSON)",
            "CH_NULLABLE_COMPOSITE": "an optional array, map or record is stored non-Nullable "
            "(null becomes empty)",
            "CH_UNION_MERGED": "union branches that map to the same ClickHouse type are merged",
            "CH_SIGN_INT8": "a collapsing engine's sign column is stored as Int8",
            "CH_NO_ORDER_BY": "a table without order_by and without a key: ORDER BY tuple()",
            "CH_DEFAULT_NOT_RENDERED": "an added field's default has no ClickHouse literal",
            "CH_LOSSY_PROMOTION": "a migration widens integers to floats, losing precision",
            "CH_COLUMN_KEPT": "a removed field's column is kept (allow_destructive is off)",
        },
    ),
)

# Schema compatibility (`moosegen build`/`check` against the history), from the engines'
# own tables; the pairwise Avro codes are what `compat.can_read` reports.
_COMPAT = (
    *(Code(code, cat, "error", meaning) for code, (cat, meaning) in MODE_RULES.items()),
    *(
        Code(code, cat, "error", f"pairwise: {meaning}")
        for code, (cat, meaning, _) in RULES.items()
        if code not in MODE_RULES
    ),
    *(Code(code, cat, "error", meaning) for code, (cat, meaning) in JSON_SCHEMA_CODES.items()),
)

_PIPELINE = (
    Code("REGISTRY_INVALID", "REGISTRY", "error", "specs/registry/ is unreadable or malformed"),
    Code(
        "REGISTRY_STALE",
        "REGISTRY",
        "error",
        "check: a compatible schema change is not registered yet; run `moosegen build`",
    ),
    Code(
        "REGISTRY_INCOMPATIBLE",
        "REGISTRY",
        "error",
        "registry push: the Schema Registry refused a version as incompatible",
    ),
    Code(
        "REGISTRY_UNBUILT",
        "REGISTRY",
        "warning",
        "registry push: the current schema is not registered locally yet (build first)",
    ),
    Code(
        "REGISTRY_NOT_PUSHED",
        "REGISTRY",
        "warning",
        "check --registry: local versions missing from the Schema Registry",
    ),
    Code(
        "REGISTRY_IDS_LOCAL",
        "REGISTRY",
        "warning",
        "build: Confluent framing uses local ids, not every version is pushed to the registry",
    ),
    Code(
        "SPEC_CHANGED_SINCE_BUILD",
        "OUTPUT",
        "error",
        "check: a spec or schema file changed since the output was built",
    ),
    Code("OUTPUT_CHANGED", "OUTPUT", "error", "check: a generated file is stale or was edited"),
    Code("OUTPUT_MISSING", "OUTPUT", "error", "check: a generated file is missing"),
    Code("OUTPUT_EXTRA", "OUTPUT", "error", "check: a file the current specs do not generate"),
    Code(
        "TEMPLATE_ERROR",
        "TEMPLATE",
        "error",
        "a template (built-in or from --templates) failed to render; located at its line",
    ),
    Code("NOT_UNICODE", "TEMPLATE", "error", "a template produced text that is not Unicode"),
    Code("FORMAT_FAILED", "TEMPLATE", "error", "the pinned ruff could not format generated code"),
    Code(
        "GENERATED_INVALID",
        "TEMPLATE",
        "error",
        "a generated Python file does not compile (nothing is written)",
    ),
    Code(
        "WIRE_SCHEMA_FAILED",
        "TEMPLATE",
        "error",
        "a generated models.py could not be imported to write the stream's schema.json",
    ),
)

CODES: tuple[Code, ...] = (*_SPEC, *_SCHEMA, *_CLICKHOUSE, *_COMPAT, *_PIPELINE)
BY_CODE: dict[str, Code] = {c.code: c for c in CODES}
assert len(BY_CODE) == len(CODES), "a code is listed twice"


def markdown_table() -> str:
    """The README's table of codes."""
    rows = ["| code | category | severity | meaning |", "|---|---|---|---|"]
    rows += [f"| `{c.code}` | {c.category} | {c.severity} | {c.description} |" for c in CODES]
    return "\n".join(rows) + "\n"
