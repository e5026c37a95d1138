"""Sample review items, reviewers, a movable clock and token constants for the tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steward_review import NewReviewItem, Passage, Priority, Reviewer

ISSUER = "https://id.agency-a.gov"
AUDIENCE = "steward-review"
LEASE = timedelta(minutes=5)


class MovableClock:
    """A clock the test moves by hand, so leases and SLAs expire without waiting."""

    def __init__(self) -> None:
        self.current = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def new_item(
    item_id: str,
    *,
    tenant: str = "agency-a",
    priority: Priority = Priority.NORMAL,
    reason: str = "low_confidence",
    draft: str = "File by April 15.\nUse Form 1040.\n",
) -> NewReviewItem:
    """Build a review item shaped like what the guardrail sends."""
    return NewReviewItem(
        item_id=item_id,
        tenant=tenant,
        correlation_id=f"corr-{item_id}",
        reason=reason,
        priority=priority,
        question="When is the tax deadline? My SSN is [REDACTED].",
        draft_answer=draft,
        passages=(Passage(chunk_id="c1", text="Taxes are due April 15.", document_id="001"),),
    )


def reviewer(name: str, tenant: str = "agency-a", *, supervisor: bool = False) -> Reviewer:
    """Build a reviewer with a readable pseudonym for assertions."""
    return Reviewer(pseudonym=f"rv-{name}", tenant=tenant, supervisor=supervisor)
