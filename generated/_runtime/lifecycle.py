# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Shutdown requests: SIGTERM/SIGINT set one event, installed before anything slow starts."""

from __future__ import annotations

import signal
import threading
from typing import Any

STOP = threading.Event()


def install() -> None:
    def handler(signum: int, _frame: Any) -> None:
        STOP.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
