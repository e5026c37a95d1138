"""One trace follows a request from producer to consumer and on to the next event."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from steward_bus import BusSettings, Service
from steward_bus.testing import eventually
from steward_events import ChatRequested, ChatResponded, DecidedBy, Disposition, Envelope

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


async def test_one_trace_spans_producer_and_consumers(
    settings: BusSettings, spans: InMemorySpanExporter
) -> None:
    gateway = Service("gateway", settings)
    guardrail = Service("guardrail", settings)
    subscriber = Service("subscriber", settings)
    seen: list[Envelope[Any]] = []

    @guardrail.handles(ChatRequested)
    async def answer(event: Envelope[Any]) -> None:
        seen.append(event)
        await guardrail.publish(
            ChatResponded(
                conversation_id=event.data.conversation_id,
                disposition=Disposition.ANSWERED,
                answer="Yes.",
                decided_by=DecidedBy.GUARDRAIL,
            )
        )

    @subscriber.handles(ChatResponded)
    async def record(event: Envelope[Any]) -> None:
        seen.append(event)

    async with gateway, guardrail, subscriber:
        with trace.get_tracer("test").start_as_current_span("citizen request") as root:
            await gateway.publish(
                ChatRequested(conversation_id="trace-1", question="Is it open?"),
                tenant="revenue",
                correlation_id="trace-1",
            )
        await eventually(lambda: len(seen) == 2)

    trace_id = root.get_span_context().trace_id
    ours = [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]
    by_name = {(s.name, s.kind): s for s in ours}
    request_topic = settings.topic_namespace + "steward.chat.requested.v1"
    response_topic = settings.topic_namespace + "steward.chat.responded.v1"
    send_request = by_name[(f"send {request_topic}", SpanKind.PRODUCER)]
    process_request = by_name[(f"process {request_topic}", SpanKind.CONSUMER)]
    send_response = by_name[(f"send {response_topic}", SpanKind.PRODUCER)]
    process_response = by_name[(f"process {response_topic}", SpanKind.CONSUMER)]

    assert (
        send_request.parent is not None
        and send_request.parent.span_id == root.get_span_context().span_id
    )
    assert process_request.parent is not None
    assert process_request.parent.span_id == send_request.context.span_id
    assert send_response.parent is not None
    assert send_response.parent.span_id == process_request.context.span_id
    assert process_response.parent is not None
    assert process_response.parent.span_id == send_response.context.span_id

    # The envelope names the same trace, so a reader without Kafka headers can follow it.
    assert seen[0].traceparent is not None
    assert seen[0].traceparent.split("-")[1] == format(trace_id, "032x")
    assert process_request.attributes is not None
    assert process_request.attributes["steward.correlation_id"] == "trace-1"
    assert "Is it open?" not in str(process_request.attributes), "no citizen text in spans"
