"""Records the review desk stores, hands out and reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Priority(StrEnum):
    """How soon a person must look at an item; the order is the order of urgency."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Sort key: 0 is the most urgent."""
        return list(Priority).index(self)

    @classmethod
    def from_rank(cls, rank: int) -> Priority:
        """Return the priority stored as this rank."""
        return list(Priority)[rank]


class ItemStatus(StrEnum):
    """Where an item stands in the review workflow."""

    OPEN = "open"
    AWAITING_SECOND = "awaiting_second"
    ESCALATED = "escalated"
    DECIDED = "decided"


class DecisionKind(StrEnum):
    """What a reviewer can do with a claimed item."""

    APPROVE = "approve"
    EDIT = "edit"
    REJECT = "reject"
    ESCALATE = "escalate"


class EscalationCause(StrEnum):
    """Why an item went to the supervisors."""

    OVERDUE = "overdue"
    REVIEWER = "reviewer"
    DISAGREEMENT = "disagreement"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# The longest answer and reason the desk accepts: what an event can carry to the citizen.
MAX_ANSWER_CHARS = 20_000
MAX_REASON_CHARS = 1_000


class Passage(_Record):
    """A retrieved passage the draft answer was built from, numbered [n] in the answer."""

    chunk_id: str
    text: str
    document_id: str = ""
    title: str = ""
    score: float | None = None
    document_version: int | None = None
    content_hash: str | None = None
    source_url: str | None = None
    section_path: tuple[str, ...] = ()


class GuardrailFinding(_Record):
    """One guardrail verdict that sent the answer to a person."""

    check: str
    verdict: str
    detail: str = ""
    score: float | None = None


class ReviewContext(_Record):
    """Where an item came from; the desk keeps it and hands it back with the outcome."""

    conversation_id: str | None = None
    stage: str | None = Field(default=None, description="'input' or 'output'.")
    language: str | None = None
    groundedness: float | None = None
    policy_id: str | None = None
    policy_version: str | None = None
    policy_sha256: str | None = None
    subject: str | None = Field(default=None, description="The citizen's pseudonym.")
    training_consent: bool = False
    traceparent: str | None = None


class NewReviewItem(_Record):
    """An answer the guardrail wants a person to see, as the queue receives it."""

    item_id: str = Field(min_length=1, max_length=200)
    tenant: str = Field(min_length=1, max_length=200)
    correlation_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)
    priority: Priority = Priority.NORMAL
    question: str
    draft_answer: str = Field(description="Empty when the question itself is under review.")
    passages: tuple[Passage, ...] = ()
    findings: tuple[GuardrailFinding, ...] = ()
    requested_at: datetime | None = None
    context: ReviewContext = ReviewContext()


class ReviewItem(_Record):
    """An item as stored, with its workflow state."""

    item_id: str
    tenant: str
    correlation_id: str
    reason: str
    priority: Priority
    question: str
    draft_answer: str
    passages: tuple[Passage, ...]
    findings: tuple[GuardrailFinding, ...]
    status: ItemStatus
    enqueued_at: datetime
    due_at: datetime
    claimed_by: str | None
    lease_expires_at: datetime | None
    escalated_at: datetime | None
    escalation_reason: str | None
    votes: int
    context: ReviewContext = ReviewContext()

    def time_left(self, now: datetime) -> timedelta:
        """Time until the SLA due time; negative once overdue."""
        return self.due_at - now

    def lease_live(self, now: datetime) -> bool:
        """Tell whether someone holds an unexpired lease on the item."""
        return self.lease_expires_at is not None and self.lease_expires_at > now


class Claim(_Record):
    """A lease on one item: who holds it and until when."""

    item_id: str
    tenant: str
    priority: Priority
    status: ItemStatus
    due_at: datetime
    claimed_by: str
    lease_expires_at: datetime
    votes: int


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One row of the queue as a reviewer sees it."""

    item: ReviewItem
    time_left: timedelta
    lease_live: bool


@dataclass(frozen=True, slots=True)
class Reviewer:
    """A person acting on the queue, known only by pseudonym, within one tenant."""

    pseudonym: str
    tenant: str
    supervisor: bool = False


class DecisionRequest(_Record):
    """What a reviewer submits for a claimed item."""

    kind: DecisionKind
    edited_answer: str | None = Field(default=None, max_length=MAX_ANSWER_CHARS)
    reason: str | None = Field(default=None, max_length=MAX_REASON_CHARS)

    @field_validator("edited_answer")
    @classmethod
    def _unix_newlines(cls, text: str | None) -> str | None:
        """Normalise line ends, since browsers submit textarea text with CRLF."""
        return None if text is None else text.replace("\r\n", "\n").replace("\r", "\n")


class ReviewDecision(_Record):
    """A final decision on an item, ready to become review.decided and chat.responded."""

    decision_id: str
    item_id: str
    tenant: str
    correlation_id: str
    kind: DecisionKind
    reviewer_ids: tuple[str, ...]
    draft_answer: str
    edited_answer: str | None
    diff: str | None
    reason: str | None
    citizen_answer: str
    declined: bool
    enqueued_at: datetime
    decided_at: datetime
    time_to_decision_s: float
    question: str = ""
    passages: tuple[Passage, ...] = ()
    context: ReviewContext = ReviewContext()


class ReviewEscalation(_Record):
    """An item handed to supervisors, ready to become review.escalated."""

    escalation_id: str
    item_id: str
    tenant: str
    correlation_id: str
    cause: EscalationCause
    reason: str
    reviewer_ids: tuple[str, ...]
    holding_message: str | None
    due_at: datetime
    escalated_at: datetime
    context: ReviewContext = ReviewContext()


class DecisionOutcome(_Record):
    """What came of a reviewer's submission: a final decision, a vote, or an escalation."""

    item_id: str
    status: ItemStatus
    decision: ReviewDecision | None = None
    escalation: ReviewEscalation | None = None
