"""The desk's DecisionSink on the bus: decisions and escalations as events, with stable ids."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from steward_bus.runtime import CONTENT_TYPE
from steward_events import (
    ChatResponded,
    Citation,
    DecidedBy,
    Disposition,
    EventData,
    ReviewDecided,
    ReviewEscalated,
    new_envelope,
)
from steward_events import ReviewDecision as DecisionKindEvent

from steward_review.citations import cited_passages
from steward_review.model import EscalationCause

if TYPE_CHECKING:
    from datetime import datetime

    from steward_bus import Service
    from steward_events import Envelope

    from steward_review.model import Passage, ReviewContext, ReviewDecision, ReviewEscalation
    from steward_review.policy import PolicyBook

log = structlog.get_logger("steward_review.publishing")
_tracer = trace.get_tracer("steward.review")

MAX_TEXT = 20_000
MAX_SHORT_TEXT = 1_000
MAX_CITATIONS = 20
_EVENT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DECLINED_REASON = "A person reviewed this question and could not answer it here."


class BusDecisionSink:
    """Publishes review.decided, review.escalated and the citizen's chat.responded."""

    def __init__(self, service: Service, policies: PolicyBook) -> None:
        self._service = service
        self._policies = policies

    async def decided(self, decision: ReviewDecision) -> None:
        """Publish the decision, then the final answer (or decline) the citizen sees."""
        policy = self._policies.for_tenant(decision.tenant)
        decided = ReviewDecided(
            review_id=decision.item_id,
            conversation_id=_conversation(decision.context, decision.correlation_id),
            reviewer=decision.reviewer_ids[0],
            second_reviewer=decision.reviewer_ids[1] if len(decision.reviewer_ids) > 1 else None,
            decision=DecisionKindEvent(decision.kind.value),
            question=_bounded(decision.question, MAX_TEXT) or None,
            draft_answer=_bounded(decision.draft_answer, MAX_TEXT) or None,
            final_answer=None
            if decision.declined
            else _bounded(decision.citizen_answer, MAX_TEXT),
            diff=_bounded(decision.diff, MAX_TEXT) if decision.diff else None,
            reason=_bounded(decision.reason, MAX_SHORT_TEXT) if decision.reason else None,
            seconds_to_decision=max(decision.time_to_decision_s, 0.0),
            training_consent=decision.context.training_consent,
        )

        # A declined answer names the agency's contact route; an approved one its sources.
        if decision.declined:
            response = ChatResponded(
                conversation_id=decided.conversation_id,
                disposition=Disposition.DECLINED,
                answer=_bounded(decision.citizen_answer, MAX_TEXT),
                language=decision.context.language,
                decided_by=DecidedBy.REVIEW,
                reason=_bounded(f"{_DECLINED_REASON} Contact {policy.contact_route}.", 1_000),
                review_id=decision.item_id,
            )
        else:
            response = ChatResponded(
                conversation_id=decided.conversation_id,
                disposition=Disposition.ANSWERED,
                answer=_bounded(decision.citizen_answer, MAX_TEXT),
                citations=citations(decision.citizen_answer, decision.passages),
                # A person wrote the answer from scratch when there was no draft.
                ai_notice=policy.ai_notice if decision.draft_answer.strip() else None,
                language=decision.context.language,
                decided_by=DecidedBy.REVIEW,
                review_id=decision.item_id,
            )

        # Redelivery republishes the same ids, so consumers that dedupe see each event once.
        first = await self._send(decided, decision.decision_id, decision, decision.decided_at)
        second = await self._send(
            response, _derived_id(decision.decision_id), decision, decision.decided_at
        )
        log.info(
            "review.published",
            item_id=decision.item_id,
            correlation_id=decision.correlation_id,
            tenant=decision.tenant,
            outcome=response.disposition.value,
            decision=decision.kind.value,
            event_ids=[first.id, second.id],
        )

    async def escalated(self, escalation: ReviewEscalation) -> None:
        """Publish the escalation and, when the policy has one, a holding message."""
        escalated_by = "sla"
        if escalation.cause is not EscalationCause.OVERDUE and escalation.reviewer_ids:
            escalated_by = escalation.reviewer_ids[-1]
        holding = _bounded(escalation.holding_message, MAX_SHORT_TEXT) or None
        event = ReviewEscalated(
            review_id=escalation.item_id,
            conversation_id=_conversation(escalation.context, escalation.correlation_id),
            due_at=escalation.due_at,
            reason=_bounded(escalation.reason, MAX_SHORT_TEXT),
            holding_message=holding,
            escalated_by=escalated_by,
        )

        sent = [
            await self._send(event, escalation.escalation_id, escalation, escalation.escalated_at)
        ]
        if holding:
            waiting = ChatResponded(
                conversation_id=event.conversation_id,
                disposition=Disposition.UNDER_REVIEW,
                answer=holding,
                language=escalation.context.language,
                decided_by=DecidedBy.REVIEW,
                final=False,
                review_id=escalation.item_id,
            )
            derived = _derived_id(escalation.escalation_id)
            sent.append(await self._send(waiting, derived, escalation, escalation.escalated_at))
        log.info(
            "review.published",
            item_id=escalation.item_id,
            correlation_id=escalation.correlation_id,
            tenant=escalation.tenant,
            outcome="escalated",
            cause=escalation.cause.value,
            event_ids=[envelope.id for envelope in sent],
        )

    async def _send(
        self,
        data: EventData,
        event_id: str,
        record: ReviewDecision | ReviewEscalation,
        time: datetime,
    ) -> Envelope[Any]:
        """Publish one event under a chosen id, caused by the review request, in its trace."""
        topic = self._service.topic(type(data).spec)
        # The request's trace continues here, however long the person took.
        traceparent = record.context.traceparent
        parent = propagate.extract({"traceparent": traceparent}) if traceparent else None
        with _tracer.start_as_current_span(
            f"send {topic}",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": topic,
                "messaging.message.id": event_id,
                "steward.tenant": record.tenant,
                "steward.correlation_id": record.correlation_id,
            },
        ):
            headers: dict[str, str] = {}
            propagate.inject(headers)
            # Service.publish mints a fresh id per call; an outbox redelivery must not.
            envelope = new_envelope(
                data,
                source=self._service.source,
                tenant=record.tenant,
                correlation_id=record.correlation_id,
                # The item id is the review.requested event's id when the item came off the bus.
                causation_id=record.item_id if _EVENT_ID.match(record.item_id) else None,
                traceparent=headers.get("traceparent"),
                event_id=event_id,
                time=time,
            )
            headers.update(
                {"content-type": CONTENT_TYPE, "ce_type": envelope.type, "ce_id": envelope.id}
            )
            await self._service.send_raw(
                topic,
                envelope.model_dump_json().encode(),
                key=record.correlation_id.encode(),
                headers=headers,
            )
        return envelope


def citations(answer: str, passages: tuple[Passage, ...]) -> list[Citation]:
    """Cite each stored passage the final answer refers to as [n]."""
    cited = []
    for number, passage in cited_passages(answer, passages):
        # A passage without a document cannot be cited in the contract's terms.
        if not passage.document_id:
            continue
        cited.append(
            Citation(
                number=number,
                chunk_id=passage.chunk_id,
                document_id=passage.document_id,
                document_version=passage.document_version,
                title=passage.title or None,
                source_url=passage.source_url,
                section_path=list(passage.section_path),
            )
        )
    return cited[:MAX_CITATIONS]


def _conversation(context: ReviewContext, correlation_id: str) -> str:
    """The conversation an item answers, falling back to its correlation id."""
    return context.conversation_id or correlation_id


def _derived_id(event_id: str) -> str:
    """A second stable id derived from the first, for the citizen-facing event."""
    return str(uuid.uuid5(uuid.UUID(event_id), "chat.responded"))


def _bounded(text: str | None, limit: int) -> str:
    """Cut a text to an event field's limit."""
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
