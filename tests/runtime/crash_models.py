"""`events_models` whose ROWS adapter kills the process it runs in when a payload says
CRASH — only in a child process (a worker), never in the process that started it."""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from tests.runtime.events_models import (  # noqa: F401 - the models contract
    DESTINATIONS,
    MODEL,
    WRITER_SCHEMAS,
)
from tests.runtime.events_models import ROWS as _ROWS


class _Rows:
    def validate_json(self, data: bytes) -> Any:
        if b"CRASH" in data and multiprocessing.parent_process() is not None:
            os._exit(3)
        return _ROWS.validate_json(data)

    def validate_python(self, value: Any) -> Any:
        return _ROWS.validate_python(value)


ROWS = _Rows()
DESTINATIONS = {}  # noqa: F811 - every destination takes ROWS (the plain path)
