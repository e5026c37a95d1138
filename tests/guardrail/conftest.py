"""Fixtures for the guardrail service on the real broker: one model, one running service."""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, TopicPartition
from steward_bus import Service
from steward_bus.testing import collected_events, eventually
from steward_events import (
    ChatRequested,
    ChatResponded,
    Envelope,
    EventData,
    GuardrailInputChecked,
    GuardrailOutputChecked,
    ReviewRequested,
)
from steward_guardrail import Guardrail, OriginalsCipher
from steward_guardrail.app import GuardrailService
from steward_guardrail.embedding import shared_embedder
from steward_guardrail.settings import GuardrailSettings
from steward_infra import LocalStack

POLICY_DIR = Path(__file__).resolve().parents[2] / "services" / "guardrail" / "policies"
TENANT = "riverland-revenue"
# What the tests wait on: everything the guardrail publishes.
OUTPUTS = (ChatResponded, GuardrailInputChecked, GuardrailOutputChecked, ReviewRequested)


@pytest.fixture(scope="session")
def pii_key() -> bytes:
    """A fresh AES-256 key for this test session."""
    return os.urandom(32)


@pytest.fixture(scope="session")
def loaded_guardrail(pii_key: bytes) -> Guardrail:
    """A guardrail with the real embedding model, loaded once per test session."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return Guardrail(OriginalsCipher(pii_key), embedder=shared_embedder())


def _settings(stack: LocalStack, namespace: str, root: Path) -> GuardrailSettings:
    """Settings pointing at the session's stack, a namespace and a folder of the test's own."""
    return GuardrailSettings(
        kafka_bootstrap=stack.broker.bootstrap,
        database_url=stack.postgres.dsn,
        topic_namespace=namespace,
        otel_exporter="none",
        retry_initial_seconds=0.01,
        retry_max_seconds=0.05,
        guardrail_policy_dir=POLICY_DIR,
        guardrail_originals_dir=root / "originals",
        guardrail_pii_key_file=root / "pii.key",
    )


@dataclass
class Pipeline:
    """A running guardrail, a gateway that asks it things, and everything it published."""

    settings: GuardrailSettings
    app: GuardrailService
    gateway: Service
    received: dict[str, list[Envelope[Any]]] = field(default_factory=lambda: defaultdict(list))
    # The correlation of a request published before the guardrail started.
    backlog: str = ""

    async def ask(self, question: str, *, tenant: str = TENANT, **fields: Any) -> str:
        """Publish a citizen's question in a conversation of its own; return the correlation."""
        conversation = f"conv-{uuid.uuid4().hex[:12]}"
        request = ChatRequested(conversation_id=conversation, question=question, **fields)
        return await self.send(request, tenant=tenant)

    async def send(self, data: EventData, *, tenant: str = TENANT) -> str:
        """Publish an event as the upstream service would, in a correlation of its own."""
        correlation = f"corr-{uuid.uuid4().hex[:12]}"
        await self.gateway.publish(data, tenant=tenant, correlation_id=correlation)
        return correlation

    def of(self, correlation: str, model: type[EventData]) -> list[Envelope[Any]]:
        """The events of one type published in a correlation, in arrival order."""
        return [e for e in self.received[correlation] if e.type == model.spec.type]

    async def wait_for(
        self, correlation: str, model: type[EventData], count: int = 1
    ) -> list[Envelope[Any]]:
        """Wait until `count` events of a type arrived in a correlation, and return them."""
        await eventually(lambda: len(self.of(correlation, model)) >= count)
        return self.of(correlation, model)

    async def raw_records(self) -> list[tuple[str, bytes]]:
        """Every record of every topic in the namespace, as (topic, value bytes)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        try:
            topics = [t for t in await consumer.topics() if t.startswith(self.namespace)]
            consumer.assign(
                [
                    TopicPartition(topic, partition)
                    for topic in topics
                    for partition in range(self.settings.topic_partitions)
                ]
            )
            await consumer.seek_to_beginning()
            records: list[tuple[str, bytes]] = []
            # The embedded broker cannot tell end offsets: read until a poll comes back empty.
            while batches := await consumer.getmany(timeout_ms=500):
                for batch in batches.values():
                    records.extend((record.topic, record.value or b"") for record in batch)
            return records
        finally:
            await consumer.stop()

    @property
    def namespace(self) -> str:
        """The topic namespace of this pipeline."""
        return self.settings.topic_namespace


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pipeline(
    stack: LocalStack, loaded_guardrail: Guardrail, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Pipeline]:
    """The guardrail service running on the real broker for a whole test module."""
    namespace = f"t{uuid.uuid4().hex[:12]}."
    settings = _settings(stack, namespace, tmp_path_factory.mktemp("guardrail"))
    app = GuardrailService.from_settings(settings, guardrail=loaded_guardrail)
    gateway = Service("gateway", settings)
    pipeline = Pipeline(settings, app, gateway)
    async with gateway:
        # A request already waiting when the guardrail starts, as after a restart.
        pipeline.backlog = await pipeline.ask("Where is my state tax refund?")
        await app.start()
        try:
            # Topics exist once the service started.
            async with collected_events(
                stack.broker.bootstrap,
                [namespace + model.spec.topic for model in OUTPUTS],
                partitions=settings.topic_partitions,
                on_event=lambda event: pipeline.received[event.correlationid].append(event),
            ):
                yield pipeline
        finally:
            await app.stop()


@pytest.fixture
def settings(stack: LocalStack, namespace: str, tmp_path: Path) -> GuardrailSettings:
    """Guardrail settings of a test's own: namespace, key file and originals folder."""
    return _settings(stack, namespace, tmp_path)
