"""Replays of chat requests: publish into the replay namespace and collect each outcome."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from steward_events import (
    DLQ_SUFFIX,
    ChatRequested,
    ChatResponded,
    DeadLettered,
    GuardrailInputChecked,
    GuardrailOutputChecked,
    InferenceCompleted,
    InferenceFailed,
    RetrievalCompleted,
)

from steward_bus.runtime import BusError, Service

if TYPE_CHECKING:
    from types import TracebackType

    from steward_events import Envelope, Replay

    from steward_bus.settings import BusSettings

RESPONDED = ChatResponded.spec.type
SCREENED = GuardrailInputChecked.spec.type
CHECKED = GuardrailOutputChecked.spec.type
DRAFTED = InferenceCompleted.spec.type
FAILED = InferenceFailed.spec.type
RETRIEVED = RetrievalCompleted.spec.type
# What a replay's outcome is read from, on the replay namespace's topics.
OUTCOME_SPECS = (
    ChatResponded.spec,
    GuardrailInputChecked.spec,
    GuardrailOutputChecked.spec,
    InferenceCompleted.spec,
    InferenceFailed.spec,
    RetrievalCompleted.spec,
)


class ReplayError(BusError):
    """A replay that cannot start or did not finish; the message says why."""


class ReplayTimeout(ReplayError):
    """A replay's outcome did not arrive in time."""


@dataclass
class ReplayTrace:
    """The events one replayed request produced (CloudEvents dicts, in the order they came)."""

    correlation_id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    dead_lettered: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether a response ended the replay and every verdict before it has arrived."""
        kinds = {event.get("type"): event.get("data") or {} for event in self.events}
        if RESPONDED not in kinds or SCREENED not in kinds:
            return False
        # Past a passing input check, the response follows an output check or a failed draft.
        if kinds[SCREENED].get("verdict") == "pass":
            return CHECKED in kinds or FAILED in kinds
        return True

    @property
    def finished(self) -> bool:
        """Complete, or cut short by a step that was dead-lettered."""
        return self.complete or bool(self.dead_lettered)

    def data_of(self, event_type: str) -> dict[str, Any] | None:
        """The data of the last event of a type, or None when none came."""
        found = [e.get("data") for e in self.events if e.get("type") == event_type]
        last = found[-1] if found else None
        return last if isinstance(last, dict) else None

    def envelopes_of(self, event_type: str) -> list[dict[str, Any]]:
        """Every event of a type, envelope and data."""
        return [event for event in self.events if event.get("type") == event_type]


class ReplaySession:
    """Publishes chat requests into the replay namespace and collects each one's outcome.

    One consumer, assigned rather than joined (no group to wait for and no group offsets left
    behind), reads the replay namespace's outcome topics and their dead-letter twins and hands
    each event to the replay whose correlation id is its record key.
    """

    def __init__(self, settings: BusSettings, *, name: str = "replay") -> None:
        self.settings = settings.model_copy(update={"serve_replay": True})
        self.service = Service(name, self.settings)
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._traces: dict[str, ReplayTrace] = {}
        self._finished: dict[str, asyncio.Event] = {}

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start publishing, and reading the replay topics from their start."""
        settings = self.settings
        topics = [settings.replay_namespace + spec.topic for spec in OUTCOME_SPECS]
        topics += [topic + DLQ_SUFFIX for topic in topics]
        await self.service.start()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=settings.consumer_timing().fetch_max_wait_ms,
        )
        await consumer.start()
        self._consumer = consumer
        consumer.assign(
            [
                TopicPartition(topic, partition)
                for topic in topics
                for partition in range(settings.topic_partitions)
            ]
        )
        # LIMITATION: the replay topics are read from their start and filtered by key, since the
        # embedded broker cannot tell end offsets; a long-lived replay namespace makes this slower.
        await consumer.seek_to_beginning()
        self._reader = asyncio.create_task(self._read(consumer))

    async def stop(self) -> None:
        """Stop reading and publishing."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
        await self.service.stop()

    async def request(
        self,
        data: ChatRequested,
        *,
        tenant: str,
        correlation_id: str,
        replay: Replay,
        subject: str | None = None,
    ) -> Envelope[Any]:
        """Publish one chat request as a replay; its outcome is collected from now on."""
        if self._consumer is None:
            raise ReplayError("the replay session is not started")
        self._traces.setdefault(correlation_id, ReplayTrace(correlation_id))
        self._finished.setdefault(correlation_id, asyncio.Event())
        return await self.service.publish(
            data, tenant=tenant, correlation_id=correlation_id, subject=subject, replay=replay
        )

    async def outcome(self, correlation_id: str, *, within: float) -> ReplayTrace:
        """The events of a requested replay once finished; `ReplayTimeout` after `within` s."""
        finished = self._finished.get(correlation_id)
        if finished is None or self._reader is None:
            raise ReplayError(f"no replay {correlation_id!r} was requested in this session")
        waiting = asyncio.create_task(finished.wait())
        done, _ = await asyncio.wait(
            {waiting, self._reader}, timeout=within, return_when=asyncio.FIRST_COMPLETED
        )
        waiting.cancel()
        trace = self._traces[correlation_id]
        if self._reader in done:
            error = self._reader.exception()
            raise ReplayError(f"reading the replay topics stopped: {error!r}")
        if waiting not in done:
            seen = ", ".join(str(e.get("type")) for e in trace.events) or "nothing"
            raise ReplayTimeout(
                f"no outcome of replay {correlation_id} within {within:.0f} s (seen: {seen}); "
                "are the guardrail, indexer and inference running with replays served?"
            )
        return trace

    async def run(
        self,
        data: ChatRequested,
        *,
        tenant: str,
        correlation_id: str,
        replay: Replay,
        within: float,
        subject: str | None = None,
    ) -> ReplayTrace:
        """Publish one chat request as a replay and wait for its outcome."""
        await self.request(
            data, tenant=tenant, correlation_id=correlation_id, replay=replay, subject=subject
        )
        return await self.outcome(correlation_id, within=within)

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        """Hand every event on the replay topics to the replay its key names."""
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    key = record.key.decode() if record.key else None
                    trace = self._traces.get(key) if key else None
                    if trace is None or not record.value:
                        continue
                    event = json.loads(record.value)
                    if event.get("type") == DeadLettered.spec.type:
                        error = (event.get("data") or {}).get("error")
                        trace.dead_lettered.append(str(error))
                    else:
                        trace.events.append(event)
                    if trace.finished:
                        self._finished[trace.correlation_id].set()
