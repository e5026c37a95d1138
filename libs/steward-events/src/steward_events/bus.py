"""Messages that a consumer could not handle, as recorded on a dead-letter topic."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from steward_events.common import Part
from steward_events.envelope import EventData, event_type
from steward_events.types import Name, NonNegativeInt, ShortText, Text


class DeadLetterReason(StrEnum):
    """Why a message went to a dead-letter topic."""

    MALFORMED = "malformed"
    INVALID = "invalid"
    UNKNOWN_TYPE = "unknown_type"
    HANDLER_FAILED = "handler_failed"


class KafkaHeader(Part):
    """One Kafka record header, value base64-encoded."""

    key: Annotated[str, StringConstraints(max_length=256)]
    value_base64: Annotated[str, StringConstraints(max_length=8_192)]


@event_type("bus.dead_lettered", 1, own_topic=False)
class DeadLettered(EventData):
    """A message a consumer gave up on, with the error and the original bytes."""

    reason: DeadLetterReason
    error: Text
    topic: Name
    partition: NonNegativeInt
    offset: NonNegativeInt
    consumer_group: Name
    attempts: NonNegativeInt
    original_event_id: Name | None = None
    original_type: Name | None = None
    original_value_base64: Annotated[str, StringConstraints(max_length=14_000_000)]
    original_headers: list[KafkaHeader] = Field(default_factory=list, max_length=64)
    detail: ShortText | None = None
