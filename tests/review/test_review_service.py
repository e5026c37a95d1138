"""The review service against the real broker and PostgreSQL, driven through its HTTP API."""

from __future__ import annotations

import asyncio
import hashlib
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from steward_bus.testing import eventually
from steward_events import (
    DecidedBy,
    Disposition,
    Envelope,
    Finding,
    FindingKind,
    Passage,
    PolicyRef,
    ReviewPriority,
    ReviewRequested,
    ReviewStage,
    new_envelope,
)
from steward_review import ItemNotFound, ItemStatus, ReviewItem

sys.path.insert(0, str(Path(__file__).parent))

from review_wiring_samples import CONTACT_ROUTE, OTHER_TENANT, TENANT, Desk

pytestmark = pytest.mark.asyncio(loop_scope="session")

POLICY_REF = PolicyRef(policy_id=TENANT, version="2026-12-01", sha256="a" * 64)
DRAFT = "File by April 15 [1]. Extensions move the date to October 15 [2]."


def _passage(number: int, text: str) -> Passage:
    return Passage(
        chunk_id=f"doc-{number}:c0",
        document_id=f"doc-{number}",
        document_version=3,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        text=text,
        score=0.8,
        title=f"Guide {number}",
        source_url=f"https://agency-a.gov/guide-{number}",
        section_path=["Deadlines"],
    )


def _request(conversation: str, **changes: Any) -> ReviewRequested:
    fields: dict[str, Any] = {
        "conversation_id": conversation,
        "stage": ReviewStage.OUTPUT,
        "reason": "The answer is not well supported by the passages.",
        "priority": ReviewPriority.HIGH,
        "question": "When is my return due, [NAME]?",
        "draft_answer": DRAFT,
        "passages": [
            _passage(1, "Returns are due April 15."),
            _passage(2, "An extension moves the due date to October 15."),
            _passage(3, "Payments can be made online."),
        ],
        "findings": [Finding(kind=FindingKind.UNGROUNDED, label="low_groundedness", score=0.4)],
        "groundedness": 0.41,
        "language": "en",
        "policy": POLICY_REF,
        "subject": "citizen-7f3a9c",
        "training_consent": True,
    }
    fields.update(changes)
    return ReviewRequested(**fields)


async def _ask(desk: Desk, correlation: str, **changes: Any) -> Envelope[Any]:
    """Publish a review request as the guardrail would and wait until it is queued."""
    sent = await desk.guardrail.publish(
        _request(f"conv-{correlation}", **changes), tenant=TENANT, correlation_id=correlation
    )
    await _queued(desk, sent.id)
    return sent


async def _queued(desk: Desk, item_id: str) -> ReviewItem:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        try:
            return await desk.review.queue.get(TENANT, item_id)
        except ItemNotFound:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.02)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _claim_and_decide(desk: Desk, item_id: str, body: dict[str, Any]) -> Any:
    headers = _bearer(desk.token())
    claimed = await desk.http.post(f"/api/tenants/{TENANT}/items/{item_id}/claim", headers=headers)
    assert claimed.status_code == 200, claimed.text
    return await desk.http.post(
        f"/api/tenants/{TENANT}/items/{item_id}/decision", headers=headers, json=body
    )


def _correlation() -> str:
    return f"corr-{uuid.uuid4().hex[:12]}"


async def test_a_review_request_lands_in_the_queue_with_its_provenance(desk: Desk) -> None:
    correlation = _correlation()

    sent = await _ask(desk, correlation)
    item = await desk.review.queue.get(TENANT, sent.id)

    assert item.item_id == sent.id
    assert item.correlation_id == correlation
    assert item.status is ItemStatus.OPEN
    assert item.priority.value == "high"
    assert item.due_at == sent.time + timedelta(minutes=60)
    assert item.draft_answer == DRAFT
    assert [p.document_version for p in item.passages] == [3, 3, 3]
    assert item.findings[0].check == "ungrounded"
    context = item.context
    assert (context.conversation_id, context.stage, context.language) == (
        f"conv-{correlation}",
        "output",
        "en",
    )
    assert (context.policy_version, context.groundedness) == ("2026-12-01", 0.41)
    assert (context.subject, context.training_consent) == ("citizen-7f3a9c", True)


async def test_an_approval_publishes_the_decision_and_the_final_answer(desk: Desk) -> None:
    correlation = _correlation()
    sent = await _ask(desk, correlation)

    answer = await _claim_and_decide(desk, sent.id, {"kind": "approve"})
    assert answer.status_code == 200, answer.text
    await eventually(lambda: len(desk.observed.responded[correlation]) == 1)
    await eventually(lambda: len(desk.observed.decided[correlation]) == 1)

    decided = desk.observed.decided[correlation][0]
    assert (decided.tenant, decided.causationid) == (TENANT, sent.id)
    assert decided.source == "/steward/review"
    assert decided.data.review_id == sent.id
    assert decided.data.decision.value == "approve"
    assert decided.data.reviewer.startswith("rv-") and "ann" not in decided.data.reviewer
    assert decided.data.final_answer == DRAFT
    assert decided.data.question == "When is my return due, [NAME]?"
    assert decided.data.training_consent is True
    assert decided.data.seconds_to_decision >= 0

    responded = desk.observed.responded[correlation][0]
    assert responded.causationid == sent.id
    response = responded.data
    assert response.decided_by is DecidedBy.REVIEW
    assert response.disposition is Disposition.ANSWERED
    assert response.final is True
    assert response.answer == DRAFT
    assert response.conversation_id == f"conv-{correlation}"
    assert [(c.number, c.document_id, c.document_version) for c in response.citations] == [
        (1, "doc-1", 3),
        (2, "doc-2", 3),
    ]
    assert response.review_id == sent.id


async def test_an_edit_cites_what_the_edited_text_cites(desk: Desk) -> None:
    correlation = _correlation()
    sent = await _ask(desk, correlation)
    edited = "Returns are due April 15 [1]; you can pay online [3]."

    answer = await _claim_and_decide(desk, sent.id, {"kind": "edit", "edited_answer": edited})
    assert answer.status_code == 200, answer.text
    await eventually(lambda: len(desk.observed.responded[correlation]) == 1)
    await eventually(lambda: len(desk.observed.decided[correlation]) == 1)

    response = desk.observed.responded[correlation][0].data
    assert response.answer == edited
    assert [c.number for c in response.citations] == [1, 3]
    decided = desk.observed.decided[correlation][0].data
    assert decided.final_answer == edited
    assert decided.diff and "+Returns are due April 15 [1]" in decided.diff


async def test_a_rejection_declines_with_the_agency_contact_route(desk: Desk) -> None:
    correlation = _correlation()
    sent = await _ask(desk, correlation)

    answer = await _claim_and_decide(
        desk, sent.id, {"kind": "reject", "reason": "The passages do not cover this case."}
    )
    assert answer.status_code == 200, answer.text
    await eventually(lambda: len(desk.observed.responded[correlation]) == 1)
    await eventually(lambda: len(desk.observed.decided[correlation]) == 1)

    response = desk.observed.responded[correlation][0].data
    assert response.disposition is Disposition.DECLINED
    assert response.decided_by is DecidedBy.REVIEW
    assert CONTACT_ROUTE in response.answer
    assert response.citations == []
    decided = desk.observed.decided[correlation][0].data
    assert decided.decision.value == "reject"
    assert decided.reason == "The passages do not cover this case."
    assert decided.final_answer is None


async def test_a_question_without_a_draft_must_be_answered_by_the_reviewer(desk: Desk) -> None:
    correlation = _correlation()
    sent = await _ask(desk, correlation, stage=ReviewStage.INPUT, draft_answer=None, passages=[])

    refused = await _claim_and_decide(desk, sent.id, {"kind": "approve"})
    assert refused.status_code == 422
    written = "A person will call you back about your return."
    answer = await _claim_and_decide(desk, sent.id, {"kind": "edit", "edited_answer": written})
    assert answer.status_code == 200, answer.text
    await eventually(lambda: len(desk.observed.responded[correlation]) == 1)

    response = desk.observed.responded[correlation][0].data
    assert (response.answer, response.disposition) == (written, Disposition.ANSWERED)
    assert response.ai_notice is None, "no AI drafted this answer"


async def test_an_overdue_item_is_escalated_once_with_a_holding_message(desk: Desk) -> None:
    correlation = _correlation()
    # The guardrail asked two hours ago; an urgent item is due within fifteen minutes.
    late = new_envelope(
        _request(f"conv-{correlation}", priority=ReviewPriority.URGENT),
        source="/steward/guardrail",
        tenant=TENANT,
        correlation_id=correlation,
        time=datetime.now(UTC) - timedelta(hours=2),
    )
    topic = desk.review.service.topic(ReviewRequested.spec)
    await desk.guardrail.send_raw(topic, late.model_dump_json().encode(), key=correlation.encode())

    await eventually(lambda: len(desk.observed.escalated[correlation]) == 1)
    await eventually(lambda: len(desk.observed.responded[correlation]) == 1)

    escalated = desk.observed.escalated[correlation][0]
    assert escalated.causationid == late.id
    assert escalated.data.escalated_by == "sla"
    assert escalated.data.due_at == late.time + timedelta(minutes=15)
    assert escalated.data.holding_message
    holding = desk.observed.responded[correlation][0].data
    assert (holding.disposition, holding.final) == (Disposition.UNDER_REVIEW, False)
    assert holding.answer == escalated.data.holding_message
    item = await desk.review.queue.get(TENANT, late.id)
    assert item.escalated_at is not None and item.status is ItemStatus.OPEN

    # Later timer runs leave it alone: one escalation per item.
    await desk.review.queue.escalate_overdue()
    assert len(desk.observed.escalated[correlation]) == 1


async def test_another_tenants_token_cannot_see_the_item(desk: Desk) -> None:
    sent = await _ask(desk, _correlation())
    stranger = _bearer(desk.token(tenant=OTHER_TENANT))

    through_our_path = await desk.http.get(
        f"/api/tenants/{TENANT}/items/{sent.id}", headers=stranger
    )
    through_their_path = await desk.http.get(
        f"/api/tenants/{OTHER_TENANT}/items/{sent.id}", headers=stranger
    )
    claim = await desk.http.post(
        f"/api/tenants/{OTHER_TENANT}/items/{sent.id}/claim", headers=stranger
    )
    listed = await desk.http.get(f"/api/tenants/{OTHER_TENANT}/items", headers=stranger)

    assert through_our_path.status_code == 403
    assert through_their_path.status_code == 404
    assert claim.status_code == 404
    assert listed.status_code == 200 and listed.json() == []
    unsigned = await desk.http.get(f"/api/tenants/{TENANT}/items/{sent.id}")
    assert unsigned.status_code == 401


async def test_a_redelivered_decision_reuses_its_event_ids(desk: Desk) -> None:
    correlation = _correlation()
    sent = await _ask(desk, correlation)
    answer = await _claim_and_decide(desk, sent.id, {"kind": "approve"})
    assert answer.status_code == 200, answer.text
    await eventually(lambda: len(desk.observed.responded[correlation]) == 1)
    duplicates_before = desk.observer.stats.duplicates

    # As after a crash between publishing and marking the outbox record delivered.
    async with desk.review.queue._pool.acquire() as connection:
        await connection.execute(
            "UPDATE review.outbox SET delivered_at = NULL WHERE item_id = $1", sent.id
        )
    assert await desk.review.queue.deliver_pending() >= 1

    await eventually(lambda: desk.observer.stats.duplicates >= duplicates_before + 2)
    assert len(desk.observed.responded[correlation]) == 1
    assert len(desk.observed.decided[correlation]) == 1
