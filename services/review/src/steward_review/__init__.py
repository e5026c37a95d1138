"""Steward's human review desk: a lease-based review queue, decisions and a reviewer web page."""

from steward_review.errors import (
    InvalidDecision,
    ItemNotFound,
    ItemUnavailable,
    LeaseNotHeld,
    PolicyError,
    ReviewError,
)
from steward_review.model import (
    Claim,
    DecisionKind,
    DecisionOutcome,
    DecisionRequest,
    EscalationCause,
    GuardrailFinding,
    ItemStatus,
    NewReviewItem,
    Passage,
    Priority,
    QueueEntry,
    ReviewDecision,
    Reviewer,
    ReviewEscalation,
    ReviewItem,
)
from steward_review.policy import PolicyBook, TenantPolicy
from steward_review.pseudonym import ReviewerPseudonyms
from steward_review.queue import ReviewQueue, answer_diff
from steward_review.sink import DecisionSink, RecordingSink

__all__ = [
    "Claim",
    "DecisionKind",
    "DecisionOutcome",
    "DecisionRequest",
    "DecisionSink",
    "EscalationCause",
    "GuardrailFinding",
    "InvalidDecision",
    "ItemNotFound",
    "ItemStatus",
    "ItemUnavailable",
    "LeaseNotHeld",
    "NewReviewItem",
    "Passage",
    "PolicyBook",
    "PolicyError",
    "Priority",
    "QueueEntry",
    "RecordingSink",
    "ReviewDecision",
    "ReviewError",
    "ReviewEscalation",
    "ReviewItem",
    "ReviewQueue",
    "Reviewer",
    "ReviewerPseudonyms",
    "TenantPolicy",
    "answer_diff",
]
