"""`events_models` whose row validation never returns when a `user_id` says HANG — only in
a child process (a worker), never in the process that started it."""

from __future__ import annotations

import multiprocessing
import time

from pydantic import AfterValidator, TypeAdapter

from tests.runtime.events_models import (  # noqa: F401 - the models contract
    DESTINATIONS,
    MODEL,
    WRITER_SCHEMAS,
    rows_trapped,
)


def _hang(user_id: str) -> str:
    while user_id == "HANG" and multiprocessing.parent_process() is not None:
        time.sleep(1)  # SIGTERM-deaf as a C call stuck forever would be
    return user_id


ROWS: TypeAdapter = rows_trapped(AfterValidator(_hang))  # type: ignore[type-arg]
DESTINATIONS = {}  # noqa: F811 - every destination takes ROWS (the plain path)
