"""ReviewQueue against a real PostgreSQL: enqueue, listing, leases and decisions."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from review_samples import LEASE, MovableClock, new_item, reviewer
from steward_review import (
    DecisionKind,
    DecisionRequest,
    EscalationCause,
    InvalidDecision,
    ItemNotFound,
    ItemStatus,
    ItemUnavailable,
    LeaseNotHeld,
    Priority,
    RecordingSink,
    ReviewDecision,
    ReviewEscalation,
    ReviewQueue,
)


async def test_enqueue_sets_due_time_from_the_tenant_sla(
    queue: ReviewQueue, clock: MovableClock
) -> None:
    urgent = await queue.enqueue(new_item("a", priority=Priority.URGENT))
    low = await queue.enqueue(new_item("b", priority=Priority.LOW))

    assert urgent.due_at - clock.current == timedelta(minutes=15)
    assert low.due_at - clock.current == timedelta(hours=24)
    assert urgent.status is ItemStatus.OPEN
    assert urgent.passages[0].text == "Taxes are due April 15."


async def test_enqueue_repeat_is_ignored(queue: ReviewQueue, clock: MovableClock) -> None:
    first = await queue.enqueue(new_item("a"))
    clock.advance(timedelta(minutes=3))

    again = await queue.enqueue(new_item("a", draft="something else"))

    assert again == first
    assert len(await queue.list_items("agency-a")) == 1


async def test_enqueue_same_id_for_another_tenant_is_refused(queue: ReviewQueue) -> None:
    await queue.enqueue(new_item("a"))

    with pytest.raises(ItemUnavailable, match="another tenant"):
        await queue.enqueue(new_item("a", tenant="courts"))


async def test_list_orders_by_priority_then_due_and_shows_time_left(
    queue: ReviewQueue, clock: MovableClock
) -> None:
    await queue.enqueue(new_item("normal-1"))
    clock.advance(timedelta(minutes=1))
    await queue.enqueue(new_item("normal-2"))
    await queue.enqueue(new_item("urgent", priority=Priority.URGENT))
    clock.advance(timedelta(minutes=9))

    entries = await queue.list_items("agency-a")

    assert [entry.item.item_id for entry in entries] == ["urgent", "normal-1", "normal-2"]
    assert entries[0].time_left == timedelta(minutes=6)
    assert entries[1].time_left == timedelta(minutes=230)


async def test_list_filters(queue: ReviewQueue, clock: MovableClock) -> None:
    await queue.enqueue(new_item("a", priority=Priority.URGENT, reason="citizen_asked"))
    await queue.enqueue(new_item("b", priority=Priority.LOW))
    await queue.enqueue(new_item("other", tenant="courts"))
    clock.advance(timedelta(minutes=20))

    by_priority = await queue.list_items("agency-a", priority=Priority.LOW)
    by_reason = await queue.list_items("agency-a", reason="citizen_asked")
    overdue = await queue.list_items("agency-a", overdue_only=True)
    escalated = await queue.list_items("agency-a", statuses=[ItemStatus.ESCALATED])

    assert [entry.item.item_id for entry in by_priority] == ["b"]
    assert [entry.item.item_id for entry in by_reason] == ["a"]
    assert [entry.item.item_id for entry in overdue] == ["a"]
    assert overdue[0].time_left == timedelta(minutes=-5)
    assert escalated == []


async def test_tenant_cannot_see_or_claim_another_tenants_items(queue: ReviewQueue) -> None:
    await queue.enqueue(new_item("courts-1", tenant="courts"))

    assert await queue.list_items("agency-a") == []
    assert await queue.claim_next(reviewer("ann")) is None
    with pytest.raises(ItemNotFound):
        await queue.claim(reviewer("ann"), "courts-1")
    with pytest.raises(ItemNotFound):
        await queue.get("agency-a", "courts-1")


async def test_claim_next_hands_out_most_urgent_and_never_twice(queue: ReviewQueue) -> None:
    await queue.enqueue(new_item("normal"))
    await queue.enqueue(new_item("urgent", priority=Priority.URGENT))

    first = await queue.claim_next(reviewer("ann"))
    second = await queue.claim_next(reviewer("ann"))
    third = await queue.claim_next(reviewer("cy"))

    assert first is not None
    assert first.item_id == "urgent"
    assert first.claimed_by == "rv-ann"
    assert second is not None
    assert second.item_id == "normal"
    assert third is None


async def test_abandoned_lease_returns_the_item(
    queue: ReviewQueue, clock: MovableClock, sink: RecordingSink
) -> None:
    await queue.enqueue(new_item("a"))
    assert await queue.claim_next(reviewer("ann")) is not None
    assert await queue.claim_next(reviewer("bob")) is None

    clock.advance(LEASE + timedelta(seconds=1))
    taken_over = await queue.claim_next(reviewer("bob"))

    assert taken_over is not None
    assert taken_over.item_id == "a"
    assert taken_over.claimed_by == "rv-bob"
    with pytest.raises(LeaseNotHeld, match="claim the item"):
        await queue.decide(reviewer("ann"), "a", DecisionRequest(kind=DecisionKind.APPROVE))
    assert sink.decisions == []


async def test_own_expired_lease_cannot_decide(queue: ReviewQueue, clock: MovableClock) -> None:
    await queue.enqueue(new_item("a"))
    await queue.claim(reviewer("ann"), "a")
    clock.advance(LEASE)

    with pytest.raises(LeaseNotHeld, match="expired"):
        await queue.decide(reviewer("ann"), "a", DecisionRequest(kind=DecisionKind.APPROVE))


async def test_claim_by_id_explains_refusals(queue: ReviewQueue, clock: MovableClock) -> None:
    await queue.enqueue(new_item("a"))
    await queue.claim(reviewer("ann"), "a")

    with pytest.raises(ItemUnavailable, match="another reviewer holds"):
        await queue.claim(reviewer("bob"), "a")
    renewed = await queue.claim(reviewer("ann"), "a")
    with pytest.raises(ItemNotFound):
        await queue.claim(reviewer("ann"), "missing")

    assert renewed.lease_expires_at == clock.current + LEASE


async def test_release_frees_the_item_at_once(queue: ReviewQueue) -> None:
    await queue.enqueue(new_item("a"))
    await queue.claim(reviewer("ann"), "a")

    await queue.release(reviewer("ann"), "a")

    assert (await queue.claim(reviewer("bob"), "a")).claimed_by == "rv-bob"


async def test_approve_hands_the_draft_to_the_sink(
    queue: ReviewQueue, clock: MovableClock, sink: RecordingSink
) -> None:
    await queue.enqueue(new_item("a"))
    clock.advance(timedelta(minutes=7))
    await queue.claim(reviewer("ann"), "a")

    outcome = await queue.decide(reviewer("ann"), "a", DecisionRequest(kind=DecisionKind.APPROVE))

    assert outcome.status is ItemStatus.DECIDED
    assert sink.decisions == [outcome.decision]
    decision = sink.decisions[0]
    assert decision.citizen_answer == "File by April 15.\nUse Form 1040.\n"
    assert decision.reviewer_ids == ("rv-ann",)
    assert decision.correlation_id == "corr-a"
    assert decision.time_to_decision_s == 420.0
    assert decision.declined is False
    assert (await queue.get("agency-a", "a")).status is ItemStatus.DECIDED
    with pytest.raises(ItemUnavailable, match="already decided"):
        await queue.claim(reviewer("bob"), "a")


async def test_edit_carries_the_edited_text_and_a_diff(
    queue: ReviewQueue, sink: RecordingSink
) -> None:
    await queue.enqueue(new_item("a"))
    await queue.claim(reviewer("ann"), "a")

    await queue.decide(
        reviewer("ann"),
        "a",
        DecisionRequest(
            kind=DecisionKind.EDIT, edited_answer="File by April 15.\nUse Form 1040-SR.\n"
        ),
    )

    decision = sink.decisions[0]
    assert decision.kind is DecisionKind.EDIT
    assert decision.citizen_answer == "File by April 15.\nUse Form 1040-SR."
    assert decision.diff is not None
    assert "-Use Form 1040.\n" in decision.diff
    assert "+Use Form 1040-SR.\n" in decision.diff
    assert decision.diff.startswith("--- draft\n+++ edited\n")


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (DecisionRequest(kind=DecisionKind.REJECT), "needs a reason"),
        (DecisionRequest(kind=DecisionKind.REJECT, reason="   "), "needs a reason"),
        (DecisionRequest(kind=DecisionKind.EDIT), "needs the edited answer"),
        (
            DecisionRequest(
                kind=DecisionKind.EDIT, edited_answer="File by April 15.\nUse Form 1040."
            ),
            "equals the draft",
        ),
    ],
)
async def test_malformed_decisions_are_refused_and_change_nothing(
    queue: ReviewQueue, sink: RecordingSink, request_: DecisionRequest, message: str
) -> None:
    await queue.enqueue(new_item("a"))
    await queue.claim(reviewer("ann"), "a")

    with pytest.raises(InvalidDecision, match=message):
        await queue.decide(reviewer("ann"), "a", request_)

    assert (await queue.get("agency-a", "a")).claimed_by == "rv-ann"
    assert sink.decisions == []


async def test_reject_declines_with_the_agency_contact_route(
    queue: ReviewQueue, sink: RecordingSink
) -> None:
    await queue.enqueue(new_item("a"))
    await queue.claim(reviewer("ann"), "a")

    await queue.decide(
        reviewer("ann"),
        "a",
        DecisionRequest(kind=DecisionKind.REJECT, reason="passage is out of date"),
    )

    decision = sink.decisions[0]
    assert decision.declined is True
    assert decision.reason == "passage is out of date"
    assert "311 or help@agency-a.gov" in decision.citizen_answer
    assert "April" not in decision.citizen_answer


async def test_escalation_goes_to_supervisors_only(
    queue: ReviewQueue, sink: RecordingSink
) -> None:
    await queue.enqueue(new_item("a"))
    await queue.claim(reviewer("ann"), "a")

    outcome = await queue.decide(
        reviewer("ann"), "a", DecisionRequest(kind=DecisionKind.ESCALATE, reason="legal")
    )

    assert outcome.status is ItemStatus.ESCALATED
    assert sink.escalations[0].cause is EscalationCause.REVIEWER
    assert sink.escalations[0].holding_message
    assert await queue.claim_next(reviewer("bob")) is None
    with pytest.raises(ItemUnavailable, match="needs a supervisor"):
        await queue.claim(reviewer("bob"), "a")

    boss = reviewer("boss", supervisor=True)
    claimed = await queue.claim_next(boss)
    assert claimed is not None
    assert claimed.status is ItemStatus.ESCALATED
    with pytest.raises(InvalidDecision, match="already escalated"):
        await queue.decide(boss, "a", DecisionRequest(kind=DecisionKind.ESCALATE))
    settled = await queue.decide(boss, "a", DecisionRequest(kind=DecisionKind.APPROVE))

    assert settled.status is ItemStatus.DECIDED
    assert sink.decisions[0].reviewer_ids == ("rv-boss",)


async def test_high_impact_tenant_needs_two_reviewers_who_agree(
    queue: ReviewQueue, sink: RecordingSink
) -> None:
    await queue.enqueue(new_item("c", tenant="courts"))
    ann, bob = reviewer("ann", "courts"), reviewer("bob", "courts")
    edit = DecisionRequest(kind=DecisionKind.EDIT, edited_answer="Ask the clerk.")

    await queue.claim(ann, "c")
    first = await queue.decide(ann, "c", edit)

    assert first.status is ItemStatus.AWAITING_SECOND
    assert first.decision is None
    assert sink.decisions == []
    assert await queue.claim_next(ann) is None
    with pytest.raises(ItemUnavailable, match="already voted"):
        await queue.claim(ann, "c")

    claimed = await queue.claim_next(bob)
    assert claimed is not None
    assert claimed.votes == 1
    second = await queue.decide(bob, "c", edit)

    assert second.status is ItemStatus.DECIDED
    assert [decision.reviewer_ids for decision in sink.decisions] == [("rv-ann", "rv-bob")]
    assert sink.decisions[0].citizen_answer == "Ask the clerk."


@pytest.mark.parametrize(
    "second",
    [
        DecisionRequest(kind=DecisionKind.REJECT, reason="wrong court"),
        DecisionRequest(kind=DecisionKind.EDIT, edited_answer="Call the clerk."),
    ],
)
async def test_high_impact_disagreement_escalates(
    queue: ReviewQueue, sink: RecordingSink, second: DecisionRequest
) -> None:
    await queue.enqueue(new_item("c", tenant="courts"))
    ann, bob = reviewer("ann", "courts"), reviewer("bob", "courts")
    await queue.claim(ann, "c")
    await queue.decide(ann, "c", DecisionRequest(kind=DecisionKind.EDIT, edited_answer="Ask."))
    await queue.claim(bob, "c")

    outcome = await queue.decide(bob, "c", second)

    assert outcome.status is ItemStatus.ESCALATED
    assert sink.decisions == []
    assert sink.escalations[0].cause is EscalationCause.DISAGREEMENT
    assert sink.escalations[0].reviewer_ids == ("rv-ann", "rv-bob")


async def test_ordinary_tenant_decides_with_one_reviewer(
    queue: ReviewQueue, sink: RecordingSink
) -> None:
    await queue.enqueue(new_item("a"))
    await queue.claim(reviewer("ann"), "a")

    outcome = await queue.decide(reviewer("ann"), "a", DecisionRequest(kind=DecisionKind.APPROVE))

    assert outcome.status is ItemStatus.DECIDED
    assert len(sink.decisions) == 1


async def test_overdue_items_are_escalated_once(
    queue: ReviewQueue, clock: MovableClock, sink: RecordingSink
) -> None:
    await queue.enqueue(new_item("urgent", priority=Priority.URGENT))
    await queue.enqueue(new_item("normal"))
    await queue.enqueue(new_item("decided", priority=Priority.URGENT))
    await queue.claim(reviewer("ann"), "decided")
    await queue.decide(reviewer("ann"), "decided", DecisionRequest(kind=DecisionKind.APPROVE))
    clock.advance(timedelta(minutes=16))

    first = await queue.escalate_overdue()
    again = await queue.escalate_overdue()

    assert [escalation.item_id for escalation in first] == ["urgent"]
    assert first[0].cause is EscalationCause.OVERDUE
    assert again == []
    assert sink.escalations == first
    still_workable = await queue.get("agency-a", "urgent")
    assert still_workable.status is ItemStatus.OPEN
    assert still_workable.escalation_reason == "overdue"


class FlakySink(RecordingSink):
    """Fails until told to work, like a bus that is briefly down."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    async def decided(self, decision: ReviewDecision) -> None:
        if self.down:
            raise ConnectionError("bus unavailable")
        await super().decided(decision)

    async def escalated(self, escalation: ReviewEscalation) -> None:
        if self.down:
            raise ConnectionError("bus unavailable")
        await super().escalated(escalation)


async def test_decision_survives_a_sink_failure_and_is_delivered_later(
    pool: asyncpg.Pool, queue: ReviewQueue, clock: MovableClock
) -> None:
    flaky = FlakySink()
    desk = ReviewQueue(pool, policies=queue.policies, sink=flaky, lease=LEASE, clock=clock)
    await desk.enqueue(new_item("a"))
    await desk.claim(reviewer("ann"), "a")

    outcome = await desk.decide(reviewer("ann"), "a", DecisionRequest(kind=DecisionKind.APPROVE))
    assert outcome.status is ItemStatus.DECIDED
    assert flaky.decisions == []
    assert await desk.deliver_pending() == 0

    flaky.down = False
    delivered = await desk.deliver_pending()
    delivered_again = await desk.deliver_pending()

    assert (delivered, delivered_again) == (1, 0)
    assert flaky.decisions == [outcome.decision]


async def test_edited_answer_line_ends_are_normalised(
    queue: ReviewQueue, sink: RecordingSink
) -> None:
    await queue.enqueue(new_item("a"))
    await queue.claim(reviewer("ann"), "a")

    await queue.decide(
        reviewer("ann"),
        "a",
        DecisionRequest(kind=DecisionKind.EDIT, edited_answer="Line one.\r\nLine two.\r\n"),
    )

    assert sink.decisions[0].citizen_answer == "Line one.\nLine two."


async def test_expired_lease_on_urgent_item_beats_fresh_normal_item(
    queue: ReviewQueue, clock: MovableClock
) -> None:
    await queue.enqueue(new_item("urgent", priority=Priority.URGENT))
    await queue.claim(reviewer("ann"), "urgent")
    await queue.enqueue(new_item("normal"))
    clock.advance(LEASE + timedelta(seconds=1))

    first = await queue.claim_next(reviewer("bob"))
    second = await queue.claim_next(reviewer("bob"))

    assert first is not None
    assert first.item_id == "urgent"
    assert second is not None
    assert second.item_id == "normal"
