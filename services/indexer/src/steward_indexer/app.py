"""The indexer on the bus: stores chunked documents, retrieves passages for screened questions."""

from __future__ import annotations

import asyncio
import contextvars
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from pydantic import ValidationError
from steward_bus import PermanentError, Service, configure_logging, current_event
from steward_events import (
    DocumentChunked,
    Envelope,
    EventData,
    GuardrailInputChecked,
    InputVerdict,
)

from steward_indexer._embedding import ChunkEmbedder
from steward_indexer._events import chunked_document, indexed_event, retrieval_event
from steward_indexer._index import DocumentIndex
from steward_indexer._language import detect_query_language
from steward_indexer.settings import IndexerSettings

if TYPE_CHECKING:
    from collections.abc import Callable

    from steward_indexer._embedding import TextEmbedder
    from steward_indexer._models import IndexOutcome, RetrievedChunk
    from steward_indexer._store import VersionRecord

_log = structlog.get_logger("steward.indexer")
_T = TypeVar("_T")

SERVICE_NAME = "indexer"


class IndexerService:
    """Consumes document.chunked and guardrail.input_checked; publishes indexed and retrieved."""

    def __init__(self, settings: IndexerSettings, index: DocumentIndex) -> None:
        self.settings = settings
        self.index = index
        # One worker: the embedding model, Qdrant local mode and the keyword index are shared
        # and not made for concurrent use; the event loop stays free meanwhile.
        # LIMITATION: a question waits behind a large document being embedded; a second
        # process with its own read replica of the index would answer meanwhile.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexer")
        self.service = Service(SERVICE_NAME, settings)
        self.service.subscribe(DocumentChunked, self._on_document_chunked)
        # Retrieval serves replays too; documents are never replayed.
        self.service.subscribe(GuardrailInputChecked, self._on_input_checked, replayable=True)

    @classmethod
    def from_settings(
        cls, settings: IndexerSettings, *, embedder: TextEmbedder | None = None
    ) -> IndexerService:
        """Load the embedding model and open Qdrant: a server by URL, else local mode."""
        index = DocumentIndex.open(
            settings.indexer_qdrant_path,
            url=settings.indexer_qdrant_url,
            embedder=embedder
            or ChunkEmbedder(
                batch_size=settings.indexer_embedding_batch,
                threads=settings.indexer_embedding_threads,
            ),
            collection=settings.indexer_collection,
        )
        return cls(settings, index)

    async def start(self) -> None:
        """Connect to the bus and start consuming."""
        await self.service.start()

    async def stop(self) -> None:
        """Stop consuming, let the worker finish, and release Qdrant."""
        await self.service.stop()
        self._executor.shutdown(wait=True)
        self.index.close()

    async def __aenter__(self) -> IndexerService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _on_document_chunked(self, event: Envelope[Any]) -> None:
        """Index one document version and say what became of it."""
        chunked: DocumentChunked = event.data
        try:
            document = chunked_document(event.tenant, chunked)
        except ValidationError as error:
            # Chunk ids that are not UUIDs cannot become Qdrant points, now or on a retry.
            raise PermanentError(f"document.chunked cannot be indexed: {error}") from None

        def index() -> tuple[VersionRecord | None, IndexOutcome]:
            previous = self.index.catalog.latest(document.tenant, document.source_id)
            return previous, self.index.index_document(document)

        previous, outcome = await self._in_worker(index)
        await self._publish(
            "document.indexed",
            indexed_event(outcome, chunked, previous, collection=self.index.store.collection),
        )
        _log.info(
            "indexer.indexed",
            source_id=outcome.source_id,
            document_id=outcome.document_id,
            version=outcome.version,
            status=outcome.status,
            chunks=len(outcome.chunk_ids),
            retired_chunks=outcome.retired_chunks,
        )

    async def _on_input_checked(self, event: Envelope[Any]) -> None:
        """Retrieve passages for a question the input guardrail let through."""
        checked: GuardrailInputChecked = event.data
        if checked.verdict is not InputVerdict.PASS:
            return
        question = checked.redacted_question
        clearance = checked.clearance.value if checked.clearance is not None else None
        language = checked.language

        def retrieve() -> tuple[list[RetrievedChunk], str | None]:
            if not question.strip():
                return [], language
            # The tenant comes from the envelope, never from the payload.
            found = self.index.retrieve(
                question,
                tenant=event.tenant,
                clearance=clearance,
                limit=self.settings.indexer_top_k,
                mode="hybrid",
                language=language,
            )
            return found, language or detect_query_language(question)

        # LIMITATION: a retrieval that keeps failing ends in the dead-letter topic, and the
        # request then gets no chat.responded; an inference.failed-like event would end it.
        started = time.perf_counter()
        chunks, language = await self._in_worker(retrieve)
        latency_ms = (time.perf_counter() - started) * 1_000
        await self._publish(
            "retrieval.completed",
            retrieval_event(checked, chunks, language=language, latency_ms=latency_ms),
        )
        _log.info(
            "indexer.retrieved",
            passages=len(chunks),
            clearance=clearance or "none",
            language=language,
            latency_ms=round(latency_ms, 1),
        )

    async def _in_worker(self, work: Callable[[], _T]) -> _T:
        """Run blocking work on the worker thread, with the handler's log context."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(self._executor, context.run, work)

    async def _publish(self, role: str, data: EventData) -> None:
        """Publish for the handled event, with an id derived from it and the event's role."""
        # A redelivered event then publishes the same id, and consumers drop the repeat.
        cause = current_event()
        event_id = str(uuid.uuid5(uuid.UUID(cause.id), role)) if cause is not None else None
        await self.service.publish(data, event_id=event_id)


async def serve(indexer: IndexerService) -> None:
    """Run the indexer until SIGTERM or SIGINT, then stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with indexer:
        await stop.wait()
    _log.info("indexer.stopped")


def main() -> None:
    """Entry point of `python -m steward_indexer`: load the model, open Qdrant, run."""
    settings = IndexerSettings()
    configure_logging(SERVICE_NAME, settings)
    asyncio.run(serve(IndexerService.from_settings(settings)))
