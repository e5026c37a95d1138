"""Fixtures for ingestion and the indexer on the real broker: one model, both services running."""

from __future__ import annotations

import os
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from steward_bus import Service
from steward_bus.testing import collected_events, eventually
from steward_events import (
    DocumentChunked,
    DocumentIndexed,
    DocumentRejected,
    DocumentSubmitted,
    Envelope,
    EventData,
    GuardrailInputChecked,
    InputVerdict,
    PolicyRef,
    RetrievalCompleted,
)
from steward_indexer import ChunkEmbedder
from steward_indexer.app import IndexerService
from steward_indexer.settings import IndexerSettings
from steward_infra import LocalStack
from steward_ingestion import WordPieceCounter
from steward_ingestion.app import IngestionService
from steward_ingestion.settings import IngestionSettings

ROOT = Path(__file__).resolve().parents[2]
# The command line's own source, so `steward ingest` is tested as this tree has it.
sys.path.insert(0, str(ROOT / "libs" / "steward-cli" / "src"))

CORPUS = Path(os.environ.get("STEWARD_CORPUS", ROOT.parent / "shared" / "corpus"))
OUTPUTS = (DocumentChunked, DocumentIndexed, DocumentRejected, RetrievalCompleted)
POLICY = PolicyRef(policy_id="test-policy", version="1", sha256="0" * 64)
# Embedding a whole document set on two busy cores takes a while.
WAIT_S = 180.0


@pytest.fixture(scope="session")
def embedder() -> ChunkEmbedder:
    """The packaged all-MiniLM-L6-v2 model, loaded once per test session."""
    return ChunkEmbedder()


@pytest.fixture(scope="session")
def counter() -> WordPieceCounter:
    """The embedding model's tokenizer, as ingestion counts with it."""
    return WordPieceCounter.for_embedding_model()


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus folder beside the repository (or at STEWARD_CORPUS)."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS


@dataclass
class Pipeline:
    """Ingestion and the indexer running, a client that talks to them, and what they said."""

    ingestion: IngestionSettings
    indexer: IndexerSettings
    indexer_app: IndexerService
    client: Service
    inbox: Path
    received: dict[str, list[Envelope[Any]]] = field(default_factory=lambda: defaultdict(list))

    async def submit(self, source_id: str, *, tenant: str, **fields: Any) -> str:
        """Publish a document.submitted in a correlation of its own; return the correlation."""
        fields.setdefault("classification", "public")
        correlation = f"doc-{uuid.uuid4().hex[:12]}"
        await self.client.publish(
            DocumentSubmitted(source_id=source_id, **fields),
            tenant=tenant,
            correlation_id=correlation,
        )
        return correlation

    async def ask(
        self,
        question: str,
        *,
        tenant: str,
        clearance: str | None = None,
        language: str | None = None,
        verdict: InputVerdict = InputVerdict.PASS,
    ) -> str:
        """Publish a screened question as the input guardrail would; return the correlation."""
        correlation = f"ask-{uuid.uuid4().hex[:12]}"
        await self.client.publish(
            GuardrailInputChecked(
                conversation_id=f"conv-{uuid.uuid4().hex[:12]}",
                verdict=verdict,
                redacted_question=question,
                policy=POLICY,
                language=language,
                clearance=clearance,
                channel="chat",
                subject="subject-0001",
                training_consent=True,
            ),
            tenant=tenant,
            correlation_id=correlation,
        )
        return correlation

    async def retrieved(self, question: str, **fields: Any) -> RetrievalCompleted:
        """Ask a question and return the retrieval.completed that answers it."""
        correlation = await self.ask(question, **fields)
        [completed] = await self.wait_for(correlation, RetrievalCompleted)
        data: RetrievalCompleted = completed.data
        return data

    def of(self, correlation: str, model: type[EventData]) -> list[Envelope[Any]]:
        """The events of one type published in a correlation, in arrival order."""
        return [e for e in self.received[correlation] if e.type == model.spec.type]

    async def wait_for(
        self, correlation: str, model: type[EventData], count: int = 1
    ) -> list[Envelope[Any]]:
        """Wait until `count` events of a type arrived in a correlation, and return them."""
        await eventually(lambda: len(self.of(correlation, model)) >= count, within=WAIT_S)
        return self.of(correlation, model)

    async def outcome(self, correlation: str) -> Envelope[Any]:
        """Wait for the document.indexed or document.rejected that ends a submission."""

        def ended() -> list[Envelope[Any]]:
            return self.of(correlation, DocumentIndexed) + self.of(correlation, DocumentRejected)

        await eventually(lambda: bool(ended()), within=WAIT_S)
        [event] = ended()
        return event


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pipeline(
    stack: LocalStack,
    embedder: ChunkEmbedder,
    counter: WordPieceCounter,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Pipeline]:
    """Both services running on the real broker for a whole test module."""
    namespace = f"t{uuid.uuid4().hex[:12]}."
    inbox = tmp_path_factory.mktemp("inbox")
    bus: dict[str, Any] = {
        "kafka_bootstrap": stack.broker.bootstrap,
        "database_url": stack.postgres.dsn,
        "topic_namespace": namespace,
        "otel_exporter": "none",
        "retry_initial_seconds": 0.01,
        "retry_max_seconds": 0.05,
    }
    ingestion_settings = IngestionSettings(**bus, ingestion_allowed_roots=[inbox])
    indexer_settings = IndexerSettings(**bus, indexer_qdrant_path=Path(":memory:"))
    ingestion = IngestionService(ingestion_settings, counter=counter)
    indexer = IndexerService.from_settings(indexer_settings, embedder=embedder)
    client = Service("test-client", ingestion_settings)
    pipeline = Pipeline(ingestion_settings, indexer_settings, indexer, client, inbox)
    async with client, ingestion, indexer:
        # Topics exist once the services started.
        async with collected_events(
            stack.broker.bootstrap,
            [namespace + model.spec.topic for model in OUTPUTS],
            partitions=ingestion_settings.topic_partitions,
            on_event=lambda event: pipeline.received[event.correlationid].append(event),
        ):
            yield pipeline
