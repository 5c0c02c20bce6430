# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""Dead-letter queue: the retry policy, the error handler's choice, and acknowledged produce."""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import TransientError
from .pipeline import Failure

log = logging.getLogger("moosegen.runtime.deadletter")

HEADER_PREFIX = "x-moosegen-"
CHOICES = ("retry", "dead_letter", "drop")
NEVER_RETRY = ("decode", "oversized", "validate", "destination", "insert")
MAX_MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class ErrorContext:
    """What an error handler is told about a failure."""

    stage: str
    error_type: str
    topic: str
    partition: int
    offset: int
    attempt: int
    max_retries: int
    key: bytes | None
    headers: list[tuple[str, bytes]]


def context_for(failure: Failure, attempt: int, max_retries: int) -> ErrorContext:
    msg = failure.msg
    return ErrorContext(
        failure.stage,
        failure.error_type,
        msg.topic(),
        msg.partition(),
        msg.offset(),
        attempt,
        max_retries,
        msg.key(),
        list(msg.headers() or []),
    )


def decide(
    failure: Failure, attempt: int, max_retries: int, handler: Callable[..., Any] | None
) -> str:
    """retry | dead_letter | drop for a failure seen `attempt` times (1 = first failure)."""
    choice: Any = None
    if handler is not None:
        record = failure.record if failure.record is not None else failure.msg.value()
        try:
            choice = handler(failure.error, record, context_for(failure, attempt, max_retries))
        except Exception:  # noqa: BLE001 - a broken handler must not stop the stream
            log.exception("error handler raised; using the default policy")
            choice = None
        if choice is not None and choice not in CHOICES:
            log.warning("error handler returned %r; expected one of %s", choice, CHOICES)
            choice = None
    if choice is None:
        choice = "retry" if failure.retryable else "dead_letter"
    if choice == "retry" and (failure.stage in NEVER_RETRY or attempt > max_retries):
        choice = "dead_letter"
    return str(choice)


def headers_for(
    failure: Failure, attempts: int, now: _dt.datetime | None = None
) -> list[tuple[str, bytes]]:
    msg = failure.msg
    now = now or _dt.datetime.now(_dt.timezone.utc)
    text = f"{type(failure.error).__name__}: {failure.error}"[:MAX_MESSAGE_CHARS]
    ours = [
        ("error-type", failure.error_type),
        ("error-stage", failure.stage),
        ("error-message", text),
        ("source-topic", str(msg.topic())),
        ("source-partition", str(msg.partition())),
        ("source-offset", str(msg.offset())),
        ("attempts", str(attempts)),
        ("failed-at", now.isoformat(timespec="milliseconds").replace("+00:00", "Z")),
    ]
    original = [
        (k, v if isinstance(v, bytes) or v is None else str(v).encode())
        for k, v in (msg.headers() or [])
    ]
    return [(k, v) for k, v in original if v is not None] + [
        (HEADER_PREFIX + k, v.encode("utf-8", "replace")) for k, v in ours
    ]


class DeadLetterWriter:
    """Produces failures to the dead-letter topic and waits for every acknowledgement."""

    def __init__(self, producer: Any, topic: str, flush_timeout_s: float = 30.0) -> None:
        self.producer = producer
        self.topic = topic
        self.flush_timeout_s = flush_timeout_s

    def send(self, failures: Sequence[tuple[Failure, int]]) -> None:
        if not failures:
            return
        errors: list[str] = []
        delivered = [0]

        def on_delivery(err: Any, _msg: Any) -> None:
            if err is not None:
                errors.append(str(err))
            else:
                delivered[0] += 1

        for failure, attempts in failures:
            msg = failure.msg
            value = msg.value()
            while True:
                try:
                    self.producer.produce(
                        self.topic,
                        value=value,
                        key=msg.key(),
                        headers=headers_for(failure, attempts),
                        on_delivery=on_delivery,
                    )
                    break
                except BufferError:
                    self.producer.poll(0.1)
        remaining = self.producer.flush(self.flush_timeout_s)
        if remaining or errors or delivered[0] != len(failures):
            raise TransientError(
                f"dead-letter produce not acknowledged: {remaining} pending, errors: {errors[:3]}"
            )
