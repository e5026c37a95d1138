"""A citizen's request and the one response that ends it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from steward_events.common import Citation, FindingKind
from steward_events.envelope import EventData, event_type
from steward_events.types import (
    Channel,
    Classification,
    Identifier,
    LanguageTag,
    Name,
    Pseudonym,
    ShortText,
    Text,
)


@event_type("chat.requested", 1)
class ChatRequested(EventData):
    """A citizen asked a question; the only event that carries the unredacted text."""

    conversation_id: Identifier
    question: Text = Field(min_length=1)
    locale: LanguageTag | None = None
    channel: Channel = Channel.API
    human_requested: bool = False
    clearance: Classification | None = Field(
        default=None,
        description="The caller's clearance; none means public documents only.",
    )
    subject: Pseudonym | None = Field(
        default=None,
        description="Pseudonymous id of the citizen, for consent and erasure.",
    )
    training_consent: bool = False


class Disposition(StrEnum):
    """How a request ended."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    DECLINED = "declined"
    UNDER_REVIEW = "under_review"
    UNAVAILABLE = "unavailable"


class DecidedBy(StrEnum):
    """The service that ended the request."""

    GUARDRAIL = "guardrail"
    REVIEW = "review"


@event_type("chat.responded", 1)
class ChatResponded(EventData):
    """The answer a citizen sees; exactly one ends every request."""

    conversation_id: Identifier
    disposition: Disposition
    answer: Text
    citations: list[Citation] = Field(default_factory=list, max_length=20)
    ai_notice: ShortText | None = None
    language: LanguageTag | None = None
    decided_by: DecidedBy
    reason: ShortText | None = Field(
        default=None,
        description="Plain words on why a request was declined or not answered.",
    )
    reason_kind: FindingKind | None = None
    final: bool = Field(
        default=True,
        description="False for a holding message; a final response follows.",
    )
    review_id: Name | None = None
