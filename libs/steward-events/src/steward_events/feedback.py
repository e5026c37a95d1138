"""Citizens' ratings and corrections of answers."""

from __future__ import annotations

from enum import StrEnum

from steward_events.envelope import EventData, event_type
from steward_events.types import Channel, Identifier, LanguageTag, Pseudonym, Text


class Rating(StrEnum):
    """A thumbs rating."""

    UP = "up"
    DOWN = "down"


@event_type("feedback.submitted", 1)
class FeedbackSubmitted(EventData):
    """A rating, comment or correction of one answer."""

    conversation_id: Identifier
    rating: Rating
    comment: Text | None = None
    correction: Text | None = None
    language: LanguageTag | None = None
    channel: Channel = Channel.API
    subject: Pseudonym | None = None
    training_consent: bool = False
