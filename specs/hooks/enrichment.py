"""Transforms that change the shape of a record: the guide's transform example and its
event-streaming pattern. Each returns the event's fields plus ones only its table declares."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

# Stream ids are derived from the event id, so a replayed event gets the same one.
STREAM_NAMESPACE = uuid.UUID("6f1c2a9e-3d4b-4c5a-9e8f-7a6b5c4d3e2f")


def add_processing(event: Any) -> dict[str, Any]:
    """`{...event, processedAt: new Date(), processedBy: 'stream-processor'}`."""
    return {
        **event.model_dump(),
        "processed_at": datetime.now(timezone.utc),
        "processed_by": "stream-processor",
    }


def add_stream_info(event: Any) -> dict[str, Any]:
    """`{...event, streamedAt: new Date(), streamId: generateStreamId()}`."""
    return {
        **event.model_dump(),
        "streamed_at": datetime.now(timezone.utc),
        "stream_id": str(uuid.uuid5(STREAM_NAMESPACE, event.id)),
    }
