"""Where final decisions and escalations go once the queue has stored them."""

from __future__ import annotations

from typing import Protocol

from steward_review.model import ReviewDecision, ReviewEscalation


class DecisionSink(Protocol):
    """Receives each decision and escalation at least once, after it is committed."""

    async def decided(self, decision: ReviewDecision) -> None:
        """Publish a final decision (review.decided, then chat.responded for the citizen)."""

    async def escalated(self, escalation: ReviewEscalation) -> None:
        """Publish an escalation (review.escalated, with its optional holding message)."""


class RecordingSink:
    """Keeps what it receives in memory, for tests and the embedded profile's inspection."""

    def __init__(self) -> None:
        self.decisions: list[ReviewDecision] = []
        self.escalations: list[ReviewEscalation] = []

    async def decided(self, decision: ReviewDecision) -> None:
        """Remember a decision."""
        self.decisions.append(decision)

    async def escalated(self, escalation: ReviewEscalation) -> None:
        """Remember an escalation."""
        self.escalations.append(escalation)
