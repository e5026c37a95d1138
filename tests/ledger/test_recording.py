"""The ledger service against the real broker and PostgreSQL: once each, in order, nothing lost."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC
from typing import Any

import pytest
from ledger_waiting import until
from steward_bus import Service
from steward_events import (
    ChatRequested,
    ChatResponded,
    DeadLettered,
    DecidedBy,
    Disposition,
    Envelope,
    LedgerCheckpoint,
)
from steward_ledger import EventQuery
from steward_ledger.app import LedgerService
from steward_ledger.settings import LedgerSettings
from steward_ledger_proofs import Checkpoint, verify_checkpoint

pytestmark = pytest.mark.asyncio(loop_scope="session")

REQUESTED = ChatRequested.spec.type
DEAD_LETTERED = DeadLettered.spec.type


def _request(conversation: str) -> ChatRequested:
    return ChatRequested(conversation_id=conversation, question="When is my tax return due?")


def _answer(conversation: str) -> ChatResponded:
    return ChatResponded(
        conversation_id=conversation,
        disposition=Disposition.ANSWERED,
        answer="April 15.",
        decided_by=DecidedBy.GUARDRAIL,
    )


def _signed(event: LedgerCheckpoint) -> Checkpoint:
    """Rebuild the signed checkpoint from its event; the time is written as the signer wrote it."""
    moment = event.checkpoint_time.astimezone(UTC)
    return Checkpoint(
        tree_size=event.tree_size,
        root_hash=bytes.fromhex(event.root_hash),
        time=moment.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        key_id=event.key_id,
        signature=base64.b64decode(event.signature),
    )


async def _count(ledger: LedgerService, event_type: str, tenant: str | None = None) -> int:
    page = await ledger.store.search(EventQuery(tenant=tenant, types=[event_type]), limit=10_000)
    return len(page.events)


async def test_events_are_recorded_once_in_arrival_order_with_dead_letters_and_checkpoints(
    ledger_settings: LedgerSettings,
) -> None:
    settings = ledger_settings.model_copy(update={"ledger_checkpoint_every_events": 4})
    gateway = Service("gateway", settings)
    watcher = Service("checkpoint-watcher", settings)
    announced: list[Envelope[Any]] = []

    @watcher.handles(LedgerCheckpoint)
    async def keep(event: Envelope[Any]) -> None:
        announced.append(event)

    ledger = LedgerService(settings)
    topic = settings.topic_namespace + ChatRequested.spec.topic
    async with gateway, watcher, ledger:
        requests = [
            await gateway.publish(_request("c-1"), tenant="revenue", correlation_id="corr-1")
            for _ in range(3)
        ]
        answer = await gateway.publish(_answer("c-1"), tenant="revenue", correlation_id="corr-1")

        # A duplicate delivery (the very bytes again) and a value that is no event at all.
        await gateway.send_raw(topic, requests[0].model_dump_json().encode(), key=b"corr-1")
        await gateway.send_raw(topic, b"{not json", key=b"corr-1")

        async def settled() -> bool:
            return (
                await _count(ledger, DEAD_LETTERED, "system") == 1
                and ledger.stats.duplicates >= 1
                and len(announced) >= 1
            )

        await until(settled)
        timeline = await ledger.store.timeline("corr-1", tenant="revenue")
        dead = (await ledger.store.search(EventQuery(types=[DEAD_LETTERED]))).events
        public_key = ledger.store.public_key
        stored = {cp.tree_size: cp for cp in await ledger.store.checkpoints()}

    # Each event once; the requests share a key, so one partition, in the order published.
    ids = [recorded.event_id for recorded in timeline]
    assert sorted(ids) == sorted([envelope.id for envelope in requests] + [answer.id])
    seqs = {recorded.event_id: recorded.seq for recorded in timeline}
    assert [seqs[envelope.id] for envelope in requests] == sorted(seqs[e.id] for e in requests)
    first = next(recorded for recorded in timeline if recorded.event_id == requests[0].id)
    assert first.event["data"]["question"] == "When is my tax return due?"

    # The unreadable value went to the DLQ, and the DLQ record was recorded as it was.
    assert len(dead) == 1
    assert dead[0].event["data"]["topic"] == topic
    assert base64.b64decode(dead[0].event["data"]["original_value_base64"]) == b"{not json"
    assert dead[0].event["data"]["consumer_group"] == settings.topic_namespace + "steward-ledger"

    # The checkpoint event carries a signature that verifies, over the root the ledger stored.
    event = announced[0]
    assert event.tenant == "system"
    assert event.correlationid == f"ledger-checkpoint-{event.data.tree_size}"
    checkpoint = _signed(event.data)
    verify_checkpoint(checkpoint, public_key)
    assert stored[checkpoint.tree_size].root_hash == checkpoint.root_hash


async def test_a_ledger_stopped_mid_stream_and_restarted_loses_and_duplicates_nothing(
    ledger_settings: LedgerSettings,
) -> None:
    gateway = Service("gateway", ledger_settings)
    published: list[str] = []

    async def stream(count: int) -> None:
        for n in range(count):
            envelope = await gateway.publish(
                _request(f"c-{n}"), tenant="revenue", correlation_id=f"corr-{n % 4}"
            )
            published.append(envelope.id)

    async with gateway:
        first = LedgerService(ledger_settings)
        await first.start()
        await stream(20)

        async def first_part_recorded() -> bool:
            return first.store.tree_size >= 20

        # Stop while the stream goes on, then publish more while no ledger runs at all.
        await until(first_part_recorded)
        streaming = asyncio.create_task(stream(100))
        await first.stop()
        await streaming
        await stream(80)

        second = LedgerService(ledger_settings)
        async with second:

            async def all_recorded() -> bool:
                return await _count(second, REQUESTED) == len(published)

            await until(all_recorded)
            page = await second.store.search(EventQuery(types=[REQUESTED]), limit=10_000)
            total = second.store.tree_size

        # The worst crash: a consumer that never committed reads every record once more.
        replayed = LedgerService(ledger_settings, group="steward-ledger-replayed")
        async with replayed:

            async def all_seen_again() -> bool:
                return replayed.stats.duplicates >= total

            await until(all_seen_again)
            assert replayed.store.tree_size == total

    # The first ledger stopped with part of the stream still to come.
    assert len(published) == 200
    assert first.stats.recorded >= 20
    assert second.stats.recorded >= 80
    assert first.stats.recorded + second.stats.recorded == total
    assert replayed.stats.recorded == 0
    assert sorted(recorded.event_id for recorded in page.events) == sorted(published)
    assert [recorded.seq for recorded in page.events] == sorted(r.seq for r in page.events)
