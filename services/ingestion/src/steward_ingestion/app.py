"""Ingestion on the bus: every submitted document becomes chunks or a rejection with a reason."""

from __future__ import annotations

import asyncio
import contextvars
import signal
import uuid
from typing import TYPE_CHECKING, Any

import structlog
from steward_bus import Service, configure_logging, current_event
from steward_events import DocumentSubmitted, Envelope, EventData
from steward_events import RejectionReason as EventReason

from steward_ingestion._catalog import InMemoryDocumentCatalog
from steward_ingestion._chunking import WordPieceCounter
from steward_ingestion._events import (
    SubmissionRefused,
    chunked_event,
    oversized_detail,
    rejected_event,
    rejection_reason,
    submission_from_event,
)
from steward_ingestion._models import PreparedDocument
from steward_ingestion._preparation import IngestionLimits, prepare_document
from steward_ingestion.settings import IngestionSettings

if TYPE_CHECKING:
    from steward_ingestion._models import DocumentSubmission, Rejection

_log = structlog.get_logger("steward.ingestion")

SERVICE_NAME = "ingestion"


class IngestionService:
    """Consumes document.submitted; publishes document.chunked or document.rejected."""

    def __init__(
        self, settings: IngestionSettings, *, counter: WordPieceCounter | None = None
    ) -> None:
        self.settings = settings
        self.limits = IngestionLimits(
            max_bytes=settings.ingestion_max_bytes, max_chunks=settings.ingestion_max_chunks
        )
        self._counter = counter or WordPieceCounter.for_embedding_model()
        self.service = Service(SERVICE_NAME, settings)
        self.service.subscribe(DocumentSubmitted, self._on_document_submitted)

    async def start(self) -> None:
        """Connect to the bus and start consuming."""
        await self.service.start()

    async def stop(self) -> None:
        """Stop consuming, flushing what was handled."""
        await self.service.stop()

    async def __aenter__(self) -> IngestionService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def prepare(self, submission: DocumentSubmission) -> PreparedDocument | Rejection:
        """Parse and chunk one submission; blocking, so handlers run it in a worker thread."""
        # Ingestion keeps no state: the indexer's catalog decides versions, so each document
        # is prepared against an empty catalog and always comes out as chunks.
        return prepare_document(
            submission,
            catalog=InMemoryDocumentCatalog(),
            limits=self.limits,
            counter=self._counter,
        )

    async def _on_document_submitted(self, event: Envelope[Any]) -> None:
        """Prepare the submitted document and publish its chunks, or why it was refused."""
        submitted: DocumentSubmitted = event.data

        # Check what the event names before any file is touched.
        try:
            submission, size = submission_from_event(
                event.tenant, submitted, self.settings.ingestion_allowed_roots
            )
        except SubmissionRefused as refused:
            await self._reject(submitted, refused.reason, refused.detail, refused.size_bytes)
            return

        # Parsing, tokenizing and reading files block: they run off the event loop.
        context = contextvars.copy_context()
        prepared = await asyncio.to_thread(context.run, self.prepare, submission)
        if not isinstance(prepared, PreparedDocument):
            await self._reject(submitted, rejection_reason(prepared), prepared.detail, size)
            return

        # A document whose chunks cannot travel as one event is refused whole.
        chunked = chunked_event(prepared, submitted)
        too_large = oversized_detail(chunked, self.settings.ingestion_max_event_bytes)
        if too_large is not None:
            await self._reject(submitted, EventReason.OVERSIZED, too_large, size)
            return
        await self._publish("document.chunked", chunked)
        _log.info(
            "ingestion.chunked",
            source_id=submitted.source_id,
            document_id=prepared.document_id,
            chunks=len(prepared.chunks),
            format=prepared.format.value,
            language=prepared.language,
        )

    async def _reject(
        self,
        submitted: DocumentSubmitted,
        reason: EventReason,
        detail: str,
        size_bytes: int | None,
    ) -> None:
        await self._publish(
            "document.rejected", rejected_event(reason, detail, submitted, size_bytes)
        )
        _log.info("ingestion.rejected", source_id=submitted.source_id, reason=reason.value)

    async def _publish(self, role: str, data: EventData) -> None:
        """Publish for the handled event, with an id derived from it and the event's role."""
        # A redelivered submission then publishes the same id, and consumers drop the repeat.
        cause = current_event()
        event_id = str(uuid.uuid5(uuid.UUID(cause.id), role)) if cause is not None else None
        await self.service.publish(data, event_id=event_id)


async def serve(ingestion: IngestionService) -> None:
    """Run ingestion until SIGTERM or SIGINT, then stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with ingestion:
        await stop.wait()
    _log.info("ingestion.stopped")


def main() -> None:
    """Entry point of `python -m steward_ingestion`: start, run until told to stop."""
    settings = IngestionSettings()
    configure_logging(SERVICE_NAME, settings)
    asyncio.run(serve(IngestionService(settings)))
