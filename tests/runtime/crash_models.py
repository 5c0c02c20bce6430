"""`events_models` whose row validation kills the process it runs in when a `user_id` says
CRASH — only in a child process (a worker), never in the process that started it."""

from __future__ import annotations

import multiprocessing
import os

from pydantic import AfterValidator, TypeAdapter

from tests.runtime.events_models import (  # noqa: F401 - the models contract
    DESTINATIONS,
    MODEL,
    WRITER_SCHEMAS,
    rows_trapped,
)


def _crash(user_id: str) -> str:
    if user_id == "CRASH" and multiprocessing.parent_process() is not None:
        os._exit(3)
    return user_id


ROWS: TypeAdapter = rows_trapped(AfterValidator(_crash))  # type: ignore[type-arg]
DESTINATIONS = {}  # noqa: F811 - every destination takes ROWS (the plain path)
