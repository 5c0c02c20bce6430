"""The plan of a stream's `models.py`: every decision, as structured values for the templates.

Type hints and defaults are Python expressions decided by `pydantic_mapping`; names
(classes, attributes, constants) are decided by the target. The templates only
lay these out (`templates/models/`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Import:
    """`from module import name`, needed by the type hints and defaults."""

    module: str
    name: str


@dataclass(frozen=True)
class EnumMember:
    name: str  # the Python member name
    symbol: str  # the Avro symbol, the member's value


@dataclass(frozen=True)
class EnumClass:
    name: str
    avro_name: str
    doc: str
    members: tuple[EnumMember, ...]


@dataclass(frozen=True)
class FieldPlan:
    """One field of a model, or one item of a TypedDict (its key is `name`)."""

    name: str  # the Avro field name
    attr: str  # the Python attribute (a model's; a TypedDict keys by `name`)
    type_hint: str
    default: str | None  # the default as a Python expression
    default_factory: str | None  # "list" / "dict" for an empty default collection
    validate_default: bool  # pydantic must validate the default (records, collections)
    alias: str | None
    validation_aliases: tuple[str, ...]  # AliasChoices, the field's own name first
    serialization_alias: str | None
    description: str | None
    is_key: bool
    union_mode: str | None
    in_field: bool  # the options go into `Field(...)` (else a plain default or none)
    forward: bool  # a TypedDict item naming a class defined further down


@dataclass(frozen=True)
class ModelClass:
    name: str
    avro_name: str
    doc: str
    fields: tuple[FieldPlan, ...]


@dataclass(frozen=True)
class RowDict:
    """The TypedDict (row) form of a record; functional when a key is not an identifier."""

    name: str
    avro_name: str
    doc: str
    functional: bool
    items: tuple[FieldPlan, ...]


@dataclass(frozen=True)
class RowsAdapter:
    """A module constant: a TypeAdapter validating a batch of rows."""

    name: str
    row_dict: str


@dataclass(frozen=True)
class Destination:
    table: str
    model: str
    rows: str  # a RowsAdapter's name


@dataclass(frozen=True)
class VersionPlan:
    """One registered schema version, embedded as the constant `constant`."""

    version: int
    id: int
    fingerprint: str
    schema_json: str  # pretty-printed, so a one-field change is a one-line diff
    constant: str
    is_current: bool


@dataclass(frozen=True)
class ModelsPlan:
    stream: str
    topic: str
    format: str
    imports: tuple[Import, ...]
    enums: tuple[EnumClass, ...]
    models: tuple[ModelClass, ...]  # dependencies first
    row_dicts: tuple[RowDict, ...]
    main: str  # the stream's model class
    adapters: tuple[RowsAdapter, ...]  # the main rows ("ROWS") first
    destinations: tuple[Destination, ...]
    versions: tuple[VersionPlan, ...]  # oldest first; the last is the current schema
    key_fields: tuple[str, ...]
    partition_key_fields: tuple[str, ...]

    @property
    def current(self) -> VersionPlan:
        return self.versions[-1]
