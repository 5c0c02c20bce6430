# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Classify failures: what is worth retrying, what is the data's fault."""

from __future__ import annotations

import re

# ClickHouse error codes caused by the inserted values themselves: dead-letter the rows.
DATA_ERROR_CODES = frozenset(
    {
        6,  # CANNOT_PARSE_TEXT
        26,  # CANNOT_PARSE_QUOTED_STRING
        27,  # CANNOT_PARSE_INPUT_ASSERTION_FAILED
        32,  # ATTEMPT_TO_READ_AFTER_EOF
        33,  # CANNOT_READ_ALL_DATA
        36,  # BAD_ARGUMENTS
        38,  # CANNOT_PARSE_DATE
        41,  # CANNOT_PARSE_DATETIME
        53,  # TYPE_MISMATCH
        69,  # ARGUMENT_OUT_OF_BOUND
        70,  # CANNOT_CONVERT_TYPE
        72,  # CANNOT_PARSE_NUMBER
        117,  # INCORRECT_DATA
        131,  # TOO_LARGE_STRING_SIZE
        321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
        349,  # CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
        377,  # CANNOT_PARSE_UUID... (reserved in some versions)
        407,  # DECIMAL_OVERFLOW
        691,  # UNKNOWN_ELEMENT_OF_ENUM
    }
)
CODE_RE = re.compile(r"Code:\s*(\d+)")


class TransientError(Exception):
    """Something outside the data failed (network, broker, server load): back off and retry."""


class DataError(Exception):
    """The values of a block cannot be stored: find the offending rows and dead-letter them."""


def clickhouse_code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    match = CODE_RE.search(str(exc))
    return int(match.group(1)) if match else None


def is_data_error(exc: BaseException) -> bool:
    """True when an insert failed because of the values (client-side or server-side)."""
    if isinstance(exc, (TypeError, ValueError, OverflowError, KeyError, AttributeError)):
        return True
    name = type(exc).__name__
    if name == "DataError":  # clickhouse-connect's serialisation failures
        return True
    if name == "OperationalError":  # network, timeouts
        return False
    code = clickhouse_code(exc)
    return code is not None and code in DATA_ERROR_CODES
