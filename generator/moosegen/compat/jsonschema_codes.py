"""The JSON Schema compatibility codes: code -> (category, meaning), and each code's inverse.

Pairwise codes name the change from the writer's schema to the reader's, as BACKWARD
sees it (writer = old, reader = new): a reader `maximum` below the writer's is
`JSON_MAXIMUM_DECREASED`. When the candidate is the writer (FORWARD), the same finding
is the opposite change, seen from the candidate: `JSON_MAXIMUM_INCREASED`.
"""

from __future__ import annotations

# Bounds that a reader narrows by raising (lower bounds) or lowering (upper bounds).
_LOWER_BOUNDS = ("MINIMUM", "EXCLUSIVE_MINIMUM", "MIN_LENGTH", "MIN_ITEMS", "MIN_PROPERTIES")
_UPPER_BOUNDS = ("MAXIMUM", "EXCLUSIVE_MAXIMUM", "MAX_LENGTH", "MAX_ITEMS", "MAX_PROPERTIES")


def _bound_codes() -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for name in _LOWER_BOUNDS + _UPPER_BOUNDS:
        word = name.lower().replace("_", " ")
        tighter, looser = (
            ("INCREASED", "DECREASED") if name in _LOWER_BOUNDS else ("DECREASED", "INCREASED")
        )
        out[f"JSON_{name}_ADDED"] = ("BOUNDS", f"a {word} bound was added")
        out[f"JSON_{name}_REMOVED"] = ("BOUNDS", f"a {word} bound was removed")
        out[f"JSON_{name}_{tighter}"] = ("BOUNDS", f"the {word} bound was tightened")
        out[f"JSON_{name}_{looser}"] = ("BOUNDS", f"the {word} bound was loosened")
    return out


JSON_SCHEMA_CODES: dict[str, tuple[str, str]] = {
    # properties and the content model of objects
    "JSON_PROPERTY_ADDED_TO_OPEN_MODEL": (
        "PROPERTY",
        "a constrained property was added to an open object (old data may hold any value there)",
    ),
    "JSON_PROPERTY_REMOVED_FROM_OPEN_MODEL": (
        "PROPERTY",
        "a constrained property was removed from an open object (it may now hold any value)",
    ),
    "JSON_PROPERTY_ADDED_TO_CLOSED_MODEL": (
        "PROPERTY",
        "a property was added to a closed object (additionalProperties false): "
        "old readers reject it",
    ),
    "JSON_PROPERTY_REMOVED_FROM_CLOSED_MODEL": (
        "PROPERTY",
        "a property was removed from a closed object: data that has it is now rejected",
    ),
    "JSON_PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_MODEL": (
        "PROPERTY",
        "an added property is narrower than the patternProperties/additionalProperties "
        "schema that covered it",
    ),
    "JSON_PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_MODEL": (
        "PROPERTY",
        "a removed property falls to a patternProperties/additionalProperties schema "
        "that does not accept its values",
    ),
    "JSON_CONTENT_MODEL_CLOSED": (
        "CONTENT_MODEL",
        "additionalProperties/unevaluatedProperties/additional items became false",
    ),
    "JSON_CONTENT_MODEL_OPENED": (
        "CONTENT_MODEL",
        "additionalProperties/unevaluatedProperties/additional items were false and are not now",
    ),
    "JSON_ITEM_ADDED_TO_OPEN_MODEL": (
        "CONTENT_MODEL",
        "a constrained tuple item was added where any extra item was allowed",
    ),
    "JSON_ITEM_REMOVED_FROM_OPEN_MODEL": (
        "CONTENT_MODEL",
        "a constrained tuple item was removed, so any value is allowed there",
    ),
    "JSON_ITEM_ADDED_TO_CLOSED_MODEL": (
        "CONTENT_MODEL",
        "a tuple item was added where extra items were forbidden: old readers reject it",
    ),
    "JSON_ITEM_REMOVED_FROM_CLOSED_MODEL": (
        "CONTENT_MODEL",
        "a tuple item was removed and extra items are forbidden: data that has it is rejected",
    ),
    "JSON_ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_MODEL": (
        "CONTENT_MODEL",
        "an added tuple item is narrower than the schema for extra items that covered it",
    ),
    "JSON_ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_MODEL": (
        "CONTENT_MODEL",
        "a removed tuple item falls to an extra-items schema that does not accept its values",
    ),
    "JSON_KEYWORD_ADDED": (
        "CONTENT_MODEL",
        "a constraint compared only by equality (if/then/else, contains, propertyNames, ...) "
        "was added",
    ),
    "JSON_KEYWORD_REMOVED": (
        "CONTENT_MODEL",
        "a constraint compared only by equality (if/then/else, contains, propertyNames, ...) "
        "was removed",
    ),
    "JSON_KEYWORD_CHANGED": (
        "CONTENT_MODEL",
        "a constraint compared only by equality (if/then/else, contains, propertyNames, ...) "
        "changed",
    ),
    # types
    "JSON_TYPE_NARROWED": (
        "TYPE",
        "fewer types are accepted (e.g. number became integer, a type left a type array)",
    ),
    "JSON_TYPE_WIDENED": (
        "TYPE",
        "more types are accepted (e.g. integer became number, a type joined a type array)",
    ),
    "JSON_TYPE_CHANGED": ("TYPE", "the accepted types changed to ones the other side rejects"),
    "JSON_FALSE_SCHEMA_ADDED": ("TYPE", "a schema became false: no value is accepted there"),
    "JSON_FALSE_SCHEMA_REMOVED": ("TYPE", "a false schema (no value accepted) now accepts values"),
    # required properties and dependencies
    "JSON_REQUIRED_ADDED": (
        "REQUIRED",
        "a property became required and has no default: old data may lack it",
    ),
    "JSON_REQUIRED_REMOVED": (
        "REQUIRED",
        "a required property is no longer required: old readers need it",
    ),
    "JSON_DEPENDENT_REQUIRED_ADDED": (
        "REQUIRED",
        "a dependentRequired/dependencies entry was added or extended",
    ),
    "JSON_DEPENDENT_REQUIRED_REMOVED": (
        "REQUIRED",
        "a dependentRequired/dependencies entry was removed or reduced",
    ),
    "JSON_DEPENDENT_SCHEMA_ADDED": (
        "REQUIRED",
        "a dependentSchemas/dependencies schema was added",
    ),
    "JSON_DEPENDENT_SCHEMA_REMOVED": (
        "REQUIRED",
        "a dependentSchemas/dependencies schema was removed",
    ),
    # enum and const
    "JSON_ENUM_VALUE_REMOVED": ("ENUM", "enum values were removed: old data may hold them"),
    "JSON_ENUM_VALUE_ADDED": ("ENUM", "enum values were added: old readers reject them"),
    "JSON_ENUM_ADDED": ("ENUM", "an enum was added where any value of the type was accepted"),
    "JSON_ENUM_REMOVED": ("ENUM", "an enum was removed, so values beyond it are accepted"),
    "JSON_CONST_ADDED": ("ENUM", "a const was added where other values were accepted"),
    "JSON_CONST_REMOVED": ("ENUM", "a const was removed, so other values are accepted"),
    "JSON_CONST_CHANGED": ("ENUM", "the const value changed"),
    # bounds and other value constraints
    **_bound_codes(),
    "JSON_MULTIPLE_OF_ADDED": ("BOUNDS", "a multipleOf was added"),
    "JSON_MULTIPLE_OF_REMOVED": ("BOUNDS", "a multipleOf was removed"),
    "JSON_MULTIPLE_OF_CHANGED": (
        "BOUNDS",
        "multipleOf changed to a value the old one is not a multiple of",
    ),
    "JSON_PATTERN_ADDED": ("BOUNDS", "a pattern was added"),
    "JSON_PATTERN_REMOVED": ("BOUNDS", "a pattern was removed"),
    "JSON_PATTERN_CHANGED": ("BOUNDS", "the pattern changed"),
    "JSON_FORMAT_ADDED": ("BOUNDS", "a format was added"),
    "JSON_FORMAT_REMOVED": ("BOUNDS", "a format was removed"),
    "JSON_FORMAT_CHANGED": ("BOUNDS", "the format changed"),
    "JSON_UNIQUE_ITEMS_ADDED": ("BOUNDS", "uniqueItems became true"),
    "JSON_UNIQUE_ITEMS_REMOVED": ("BOUNDS", "uniqueItems is no longer true"),
    # combined schemas
    "JSON_SUBSCHEMA_REMOVED": (
        "COMBINED",
        "an anyOf/oneOf sub-schema was removed (or narrowed): no sub-schema accepts its values",
    ),
    "JSON_SUBSCHEMA_ADDED": (
        "COMBINED",
        "an anyOf/oneOf sub-schema was added (or widened): no old sub-schema accepts its values",
    ),
    "JSON_COMBINED_TYPE_NARROWED": (
        "COMBINED",
        "an anyOf/oneOf became a schema that accepts only some of its sub-schemas",
    ),
    "JSON_COMBINED_TYPE_WIDENED": (
        "COMBINED",
        "a schema became an anyOf/oneOf with sub-schemas beyond it",
    ),
    "JSON_COMBINED_TYPE_CHANGED": (
        "COMBINED",
        "the combined schema changed: no sub-schema of the new one accepts the old values "
        "(or anyOf became oneOf)",
    ),
    "JSON_NOT_ADDED": ("COMBINED", "a `not` was added"),
    "JSON_NOT_REMOVED": ("COMBINED", "a `not` was removed"),
    "JSON_NOT_WIDENED": ("COMBINED", "the schema under `not` was widened, so fewer values pass"),
    "JSON_NOT_NARROWED": ("COMBINED", "the schema under `not` was narrowed, so more values pass"),
    # references
    "JSON_REFERENCE_CHANGED": (
        "REFERENCE",
        "a non-local $ref (not followed) changed or was added or removed",
    ),
}


_SWAPS = {
    "ADDED": "REMOVED",
    "REMOVED": "ADDED",
    "TO": "FROM",
    "FROM": "TO",
    "INCREASED": "DECREASED",
    "DECREASED": "INCREASED",
    "NARROWED": "WIDENED",
    "WIDENED": "NARROWED",
}


def _inverse(code: str) -> str:
    """The opposite change: swap added/removed (to/from), increased/decreased, ..."""
    if code.endswith(("_CLOSED", "_OPENED")):
        return code[: -len("CLOSED")] + ("OPENED" if code.endswith("_CLOSED") else "CLOSED")
    return "_".join(_SWAPS.get(token, token) for token in code.split("_"))


# The same finding seen from the other side: code -> the code of the opposite change
# (*_CHANGED is its own inverse).
INVERSE: dict[str, str] = {code: _inverse(code) for code in JSON_SCHEMA_CODES}
