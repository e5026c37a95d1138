"""Items sent to people for review, and their decisions."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from steward_events.common import Finding, Passage, PolicyRef
from steward_events.envelope import EventData, event_type
from steward_events.types import (
    Identifier,
    LanguageTag,
    Name,
    NonNegativeFloat,
    Pseudonym,
    ShortText,
    Text,
)


class ReviewStage(StrEnum):
    """Which guardrail stage asked for review."""

    INPUT = "input"
    OUTPUT = "output"


class ReviewPriority(StrEnum):
    """How soon a reviewer should look."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


@event_type("review.requested", 1)
class ReviewRequested(EventData):
    """A question or draft answer that needs a person before the citizen sees anything."""

    conversation_id: Identifier
    stage: ReviewStage
    reason: ShortText
    priority: ReviewPriority = ReviewPriority.NORMAL
    question: Text = Field(description="The redacted question.")
    draft_answer: Text | None = None
    passages: list[Passage] = Field(default_factory=list, max_length=50)
    findings: list[Finding] = Field(default_factory=list, max_length=200)
    groundedness: float | None = None
    language: LanguageTag | None = None
    policy: PolicyRef
    inference_event_id: Identifier | None = None
    subject: Pseudonym | None = None
    training_consent: bool = False


class ReviewDecision(StrEnum):
    """What a reviewer decided."""

    APPROVE = "approve"
    EDIT = "edit"
    REJECT = "reject"
    ESCALATE = "escalate"


@event_type("review.decided", 1)
class ReviewDecided(EventData):
    """A reviewer's decision on one item."""

    review_id: Identifier
    conversation_id: Identifier
    reviewer: Pseudonym
    decision: ReviewDecision
    question: Text | None = None
    draft_answer: Text | None = None
    final_answer: Text | None = None
    diff: Text | None = None
    reason: ShortText | None = None
    seconds_to_decision: NonNegativeFloat
    second_reviewer: Pseudonym | None = None
    training_consent: bool = False


@event_type("review.escalated", 1)
class ReviewEscalated(EventData):
    """An item passed its due time, or a reviewer escalated it."""

    review_id: Identifier
    conversation_id: Identifier
    due_at: AwareDatetime
    reason: ShortText
    holding_message: ShortText | None = None
    escalated_by: Name = Field(description="'sla' or a pseudonymous reviewer id.")
