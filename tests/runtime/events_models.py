"""A hand-written stand-in for `generated/events/models.py`, following the models contract
(MODEL, ROWS, DESTINATIONS, ...), so the runtime is tested before and apart from the
models target. Only what the runtime touches is here."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Annotated, Optional

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from typing_extensions import NotRequired, TypedDict


class EventType(str, enum.Enum):
    click = "click"
    view = "view"
    purchase = "purchase"
    analytics = "analytics"
    important = "important"


Amount = Annotated[decimal.Decimal, Field(max_digits=18, decimal_places=4)]


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: uuid.UUID
    timestamp: dt.datetime
    user_id: str
    event_type: EventType = EventType.click
    amount: Optional[Amount] = None  # noqa: UP045
    data: dict[str, str] = {}
    processed_by: Optional[str] = None  # noqa: UP045


class EventDict(TypedDict):
    id: uuid.UUID
    timestamp: dt.datetime
    user_id: str
    event_type: NotRequired[EventType]
    amount: NotRequired[Optional[Amount]]  # noqa: UP045
    data: NotRequired[dict[str, str]]
    processed_by: NotRequired[Optional[str]]  # noqa: UP045


class AnalyticsEvent(BaseModel):
    id: uuid.UUID
    timestamp: dt.datetime
    user_id: str
    event_type: EventType


class AnalyticsEventDict(TypedDict):
    id: uuid.UUID
    timestamp: dt.datetime
    user_id: str
    event_type: EventType


MODEL = Event
ROWS: TypeAdapter[list[EventDict]] = TypeAdapter(list[EventDict])
ANALYTICS_ROWS: TypeAdapter[list[AnalyticsEventDict]] = TypeAdapter(list[AnalyticsEventDict])
DESTINATIONS = {"events": (Event, ROWS), "analytics_events": (AnalyticsEvent, ANALYTICS_ROWS)}
WRITER_SCHEMAS: dict[int, str] = {}


def encode_json(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()


def rows_trapped(check: object) -> TypeAdapter[list[dict[str, object]]]:
    """ROWS whose `user_id` also goes through `check` (an `AfterValidator`): the models of
    the test doubles whose validation misbehaves in a worker."""
    fields = dict(EventDict.__annotations__)
    fields["user_id"] = Annotated[str, check]
    trapped = TypedDict("TrappedEventDict", fields)  # type: ignore[operator]
    return TypeAdapter(list[trapped])  # type: ignore[valid-type]
