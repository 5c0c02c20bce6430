"""`events_models` whose ROWS adapter never returns when a payload says HANG — only in a
child process (a worker), never in the process that started it."""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from tests.runtime.events_models import (  # noqa: F401 - the models contract
    DESTINATIONS,
    MODEL,
    WRITER_SCHEMAS,
)
from tests.runtime.events_models import ROWS as _ROWS


class _Rows:
    def validate_json(self, data: bytes) -> Any:
        while b"HANG" in data and multiprocessing.parent_process() is not None:
            time.sleep(1)  # SIGTERM-deaf as a C call stuck forever would be
        return _ROWS.validate_json(data)

    def validate_python(self, value: Any) -> Any:
        return _ROWS.validate_python(value)


ROWS = _Rows()
DESTINATIONS = {}  # noqa: F811 - every destination takes ROWS (the plain path)
