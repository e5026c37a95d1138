"""The bus runtime against the real local broker and PostgreSQL."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from steward_bus import BusSettings, PermanentError, Service
from steward_bus.testing import eventually
from steward_events import (
    ChatRequested,
    ChatResponded,
    DeadLettered,
    DecidedBy,
    Disposition,
    Envelope,
    new_envelope,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _request(conversation: str = "conv-1") -> ChatRequested:
    return ChatRequested(conversation_id=conversation, question="When is my tax return due?")


def _answer(conversation: str) -> ChatResponded:
    return ChatResponded(
        conversation_id=conversation,
        disposition=Disposition.ANSWERED,
        answer="April 15.",
        decided_by=DecidedBy.GUARDRAIL,
    )


async def test_envelope_fields_survive_a_round_trip_and_causation_follows(
    settings: BusSettings,
) -> None:
    gateway = Service("gateway", settings)
    guardrail = Service("guardrail", settings)
    subscriber = Service("subscriber", settings)
    requests: list[Envelope[Any]] = []
    responses: list[Envelope[Any]] = []

    @guardrail.handles(ChatRequested)
    async def answer(event: Envelope[Any]) -> None:
        requests.append(event)
        await guardrail.publish(_answer(event.data.conversation_id))

    @subscriber.handles(ChatResponded)
    async def record(event: Envelope[Any]) -> None:
        responses.append(event)

    async with gateway, guardrail, subscriber:
        sent = await gateway.publish(
            _request("conv-42"), tenant="revenue", correlation_id="corr-42", subject="q-1"
        )
        await eventually(lambda: len(responses) == 1)

    received = requests[0]
    assert received == sent
    assert received.model_dump() == sent.model_dump()
    assert received.type == "steward.chat.requested.v1"
    assert received.source == "/steward/gateway"
    assert received.dataschema == "urn:steward:schema:steward.chat.requested.v1"
    assert received.time.tzinfo is not None
    assert received.id[14] == "7", "ids are UUIDv7"

    response = responses[0]
    assert response.causationid == sent.id
    assert response.correlationid == "corr-42"
    assert response.tenant == "revenue"
    assert response.source == "/steward/guardrail"
    assert response.data.answer == "April 15."


async def test_a_duplicate_delivery_is_handled_once_even_across_restarts(
    settings: BusSettings,
) -> None:
    publisher = Service("publisher", settings)
    handled: list[str] = []

    def consumer() -> Service:
        service = Service("indexer", settings)

        @service.handles(ChatRequested)
        async def handle(event: Envelope[Any]) -> None:
            handled.append(event.id)

        return service

    envelope = new_envelope(
        _request(), source="/steward/gateway", tenant="revenue", correlation_id="corr-dup"
    )
    value = envelope.model_dump_json().encode()
    topic = settings.topic_namespace + "steward.chat.requested.v1"

    async with publisher:
        first = consumer()
        async with first:
            await publisher.send_raw(topic, value, key=b"corr-dup")
            await publisher.send_raw(topic, value, key=b"corr-dup")
            await eventually(lambda: first.stats.duplicates == 1)
            assert handled == [envelope.id]

        # A new process of the same group, after the redelivery of an old event.
        second = consumer()
        async with second:
            await publisher.send_raw(topic, value, key=b"corr-dup")
            fresh = await publisher.publish(_request(), tenant="revenue", correlation_id="c2")
            await eventually(lambda: fresh.id in handled)
        assert second.stats.duplicates == 1
    assert handled == [envelope.id, fresh.id]


async def test_malformed_unknown_and_invalid_messages_reach_the_dlq_and_consuming_goes_on(
    settings: BusSettings, read_topic: Any
) -> None:
    producer = Service("producer", settings)
    consumer = Service("guardrail", settings)
    handled: list[str] = []

    @consumer.handles(ChatRequested)
    async def handle(event: Envelope[Any]) -> None:
        handled.append(event.data.conversation_id)

    topic = settings.topic_namespace + "steward.chat.requested.v1"
    good = new_envelope(
        _request("c-ok"), source="/steward/gateway", tenant="revenue", correlation_id="c-ok"
    )
    future_version = json.loads(good.model_dump_json())
    future_version["type"] = "steward.chat.requested.v2"
    invalid = json.loads(good.model_dump_json())
    invalid["data"]["question"] = ""
    invalid["tenant"] = "Not A Tenant!"

    async with producer, consumer:
        await producer.send_raw(topic, b"{not json", key=b"k1")
        await producer.send_raw(topic, b"[" * 5_000, key=b"k0")
        await producer.send_raw(topic, json.dumps(future_version).encode(), key=b"k2")
        await producer.send_raw(topic, json.dumps(invalid).encode(), key=b"k3")
        await producer.publish(_request("c-after"), tenant="revenue", correlation_id="c-after")
        await eventually(lambda: "c-after" in handled)
        dead = await read_topic(topic + ".dlq", 4)

    assert handled == ["c-after"]
    assert consumer.stats.dead_lettered == {"malformed": 2, "unknown_type": 1, "invalid": 1}
    nested = [r for r in dead if b"RecursionError" in r.value]
    assert len(nested) == 1, "a deeply nested array is dead-lettered, not retried forever"
    letters = {
        DeadLettered.spec.envelope.model_validate_json(r.value).data.reason.value: r
        for r in dead
        if r not in nested
    }
    assert set(letters) == {"malformed", "unknown_type", "invalid"}

    malformed = DeadLettered.spec.envelope.model_validate_json(letters["malformed"].value)
    assert base64.b64decode(malformed.data.original_value_base64) == b"{not json"
    assert malformed.tenant == "system"
    assert malformed.data.consumer_group == settings.topic_namespace + "steward-guardrail"

    unknown = DeadLettered.spec.envelope.model_validate_json(letters["unknown_type"].value)
    assert "steward.chat.requested.v2" in unknown.data.error
    assert unknown.correlationid == "c-ok"

    bad = DeadLettered.spec.envelope.model_validate_json(letters["invalid"].value)
    assert "data.question" in bad.data.error and "tenant" in bad.data.error
    assert "Not A Tenant!" not in bad.data.error, "errors name fields, never values"


async def test_transient_failures_are_retried_and_persistent_ones_dead_lettered(
    settings: BusSettings, read_topic: Any
) -> None:
    producer = Service("producer", settings)
    consumer = Service("review", settings)
    attempts: dict[str, int] = {}
    handled: list[str] = []

    @consumer.handles(ChatRequested)
    async def flaky(event: Envelope[Any]) -> None:
        name = event.data.conversation_id
        attempts[name] = attempts.get(name, 0) + 1
        if name == "twice" and attempts[name] <= 2:
            raise ConnectionError("database restarting")
        if name == "always":
            raise ConnectionError("database gone")
        if name == "permanent":
            raise PermanentError("a rule this event can never satisfy")
        handled.append(name)

    async with producer, consumer:
        for name in ("twice", "always", "permanent", "last"):
            await producer.publish(_request(name), tenant="revenue", correlation_id="same-key")
        await eventually(lambda: "last" in handled)
        dead = await read_topic(settings.topic_namespace + "steward.chat.requested.v1.dlq", 2)

    assert handled == ["twice", "last"]
    assert attempts == {"twice": 3, "always": 3, "permanent": 1, "last": 1}
    letters = [DeadLettered.spec.envelope.model_validate_json(r.value).data for r in dead]
    assert sorted((d.reason.value, d.attempts) for d in letters) == [
        ("handler_failed", 1),
        ("handler_failed", 3),
    ]
    assert any("ConnectionError: database gone" in d.error for d in letters)
    assert consumer.stats.retries == 4


async def test_publishing_outside_a_handler_needs_tenant_and_correlation(
    settings: BusSettings,
) -> None:
    from steward_bus import MissingContext

    async with Service("gateway", settings) as gateway:
        with pytest.raises(MissingContext, match="tenant"):
            await gateway.publish(_request())


async def test_a_records_subscription_sees_several_topics_and_rereads_a_failed_batch(
    settings: BusSettings, read_topic: Any
) -> None:
    from steward_events import DeadLetterReason

    producer = Service("producer", settings)
    recorder = Service("ledger", settings)
    seen: list[bytes] = []
    failures = {"left": 1}

    async def record(records: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database restarting")
        for item in records:
            if item.value == b"not an event":
                await recorder.dead_letter(item, DeadLetterReason.MALFORMED, "not JSON")
            else:
                seen.append(item.value)

    requested = settings.topic_namespace + "steward.chat.requested.v1"
    responded = settings.topic_namespace + "steward.chat.responded.v1"
    recorder.subscribe_records([requested, responded], record)

    async with producer, recorder:
        sent = await producer.publish(_request("c-1"), tenant="revenue", correlation_id="c-1")
        answered = await producer.publish(_answer("c-1"), tenant="revenue", correlation_id="c-1")
        await producer.send_raw(requested, b"not an event", key=b"c-1")
        await eventually(lambda: len(seen) == 2)
        dead = await read_topic(requested + ".dlq", 1)

    ids = {json.loads(value)["id"] for value in seen}
    assert ids == {sent.id, answered.id}
    assert failures["left"] == 0, "the failed batch was read again"
    letter = DeadLettered.spec.envelope.model_validate_json(dead[0].value)
    assert letter.data.consumer_group == settings.topic_namespace + "steward-ledger"
    assert base64.b64decode(letter.data.original_value_base64) == b"not an event"
