"""The ingestion entry point: from a submission to a prepared document or a rejection."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from functools import lru_cache

from steward_ingestion._catalog import DocumentCatalog, next_entry
from steward_ingestion._chunking import ChunkingPolicy, SectionChunker, WordPieceCounter
from steward_ingestion._decoding import (
    UndecodableTextError,
    UnsupportedFormatError,
    decode_text,
    looks_binary,
    recognise_format,
)
from steward_ingestion._language import detect_language
from steward_ingestion._models import (
    DocumentFormat,
    DocumentSubmission,
    PreparedChunk,
    PreparedDocument,
    Rejection,
    RejectionReason,
)
from steward_ingestion._parsing import (
    CorruptPdfError,
    Heading,
    Paragraph,
    ParsedDocument,
    Table,
    parse_html,
    parse_markdown,
    parse_pdf,
    parse_text,
)

# Fixed namespace so document and chunk ids are the same in every process and run.
STEWARD_NAMESPACE = uuid.UUID("5f0c6f1e-8a4b-4d38-9a52-3c1b7e2d9f40")


@dataclass(frozen=True)
class IngestionLimits:
    """Bounds that protect ingestion from inputs too large to handle."""

    max_bytes: int = 20 * 1024 * 1024
    max_chunks: int = 20_000

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or self.max_chunks <= 0:
            raise ValueError(
                f"limits must be positive, got max_bytes={self.max_bytes}, "
                f"max_chunks={self.max_chunks}"
            )


class _Refused(Exception):
    """Internal signal carrying the reason a submission is rejected."""

    def __init__(self, reason: RejectionReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@lru_cache(maxsize=1)
def _default_counter() -> WordPieceCounter:
    return WordPieceCounter.for_embedding_model()


def document_id_for(tenant: str, source_id: str) -> str:
    """Return the stable document id of a (tenant, source id) pair."""
    return str(uuid.uuid5(STEWARD_NAMESPACE, f"{tenant}\x1f{source_id}"))


def _read_bytes(submission: DocumentSubmission, limits: IngestionLimits) -> bytes:
    """Return the submitted bytes, refusing oversized input before reading it."""
    if submission.content is not None:
        size = len(submission.content)
        data = submission.content
    else:
        assert submission.path is not None
        try:
            size = submission.path.stat().st_size
            data = b"" if size > limits.max_bytes else submission.path.read_bytes()
        except OSError as error:
            raise _Refused(
                RejectionReason.UNREADABLE,
                f"path {str(submission.path)!r} cannot be read: {error.strerror or error}",
            ) from error

    if size > limits.max_bytes:
        raise _Refused(
            RejectionReason.OVERSIZED,
            f"document is {size} bytes; the limit is {limits.max_bytes} bytes",
        )
    if not data.strip():
        raise _Refused(RejectionReason.EMPTY, "document has no content (0 bytes or only blanks)")
    return data


def _parse(submission: DocumentSubmission, data: bytes) -> tuple[DocumentFormat, ParsedDocument]:
    """Recognise the format and parse the bytes, translating failures into refusals."""
    filename = submission.filename or (submission.path.name if submission.path else None)
    unsupported: UnsupportedFormatError | None = None
    try:
        document_format: DocumentFormat | None = recognise_format(
            data, media_type=submission.media_type, filename=filename
        )
    except UnsupportedFormatError as error:
        document_format, unsupported = None, error

    if document_format is not DocumentFormat.PDF and looks_binary(data):
        raise _Refused(
            RejectionReason.BINARY,
            "content is binary (NUL or control bytes); expected Markdown, HTML, text or PDF",
        )
    if document_format is None:
        raise _Refused(RejectionReason.UNSUPPORTED_TYPE, str(unsupported))

    if document_format is DocumentFormat.PDF:
        try:
            return document_format, parse_pdf(data)
        except CorruptPdfError as error:
            raise _Refused(RejectionReason.CORRUPT_PDF, str(error)) from error

    try:
        text = decode_text(data, submission.charset)
    except UndecodableTextError as error:
        raise _Refused(RejectionReason.UNDECODABLE, str(error)) from error

    parsers = {
        DocumentFormat.MARKDOWN: parse_markdown,
        DocumentFormat.HTML: parse_html,
        DocumentFormat.TEXT: parse_text,
    }
    return document_format, parsers[document_format](text)


def _canonical_text(parsed: ParsedDocument) -> str:
    """Join the document's metadata and elements into the text its hash is taken over."""
    lines = [f"{key}: {value}" for key, value in sorted(parsed.metadata.items())]
    for element in parsed.elements:
        if isinstance(element, Heading):
            lines.append("#" * element.level + " " + element.text)
        elif isinstance(element, Paragraph):
            lines.append(element.text)
        elif isinstance(element, Table):
            lines += [" | ".join(row) for row in (element.header, *element.rows)]
    return "\n".join(lines)


def _title_of(submission: DocumentSubmission, parsed: ParsedDocument) -> str:
    """Pick the most authoritative title available."""
    if submission.title:
        return submission.title
    if parsed.title:
        return parsed.title
    for element in parsed.elements:
        if isinstance(element, Heading) and element.level == 1:
            return element.text
    if submission.filename or submission.path:
        return submission.filename or (submission.path.stem if submission.path else "")
    return submission.source_id


def prepare_document(
    submission: DocumentSubmission,
    *,
    catalog: DocumentCatalog,
    limits: IngestionLimits | None = None,
    policy: ChunkingPolicy | None = None,
    counter: WordPieceCounter | None = None,
) -> PreparedDocument | Rejection:
    """Parse, normalise, chunk and version one submission, or say why it is refused."""
    limits = limits or IngestionLimits()
    try:
        return _prepare(submission, catalog, limits, policy, counter or _default_counter())
    except _Refused as refusal:
        return Rejection(
            tenant=submission.tenant,
            source_id=submission.source_id,
            reason=refusal.reason,
            detail=refusal.detail,
        )


def _prepare(
    submission: DocumentSubmission,
    catalog: DocumentCatalog,
    limits: IngestionLimits,
    policy: ChunkingPolicy | None,
    counter: WordPieceCounter,
) -> PreparedDocument:
    # Read, recognise and parse the bytes.
    data = _read_bytes(submission, limits)
    document_format, parsed = _parse(submission, data)
    canonical = _canonical_text(parsed)
    if not any(not isinstance(element, Heading) for element in parsed.elements):
        raise _Refused(RejectionReason.EMPTY, "document has no text once parsed")

    # Describe the document: title, language, origin.
    title = _title_of(submission, parsed)
    body = "\n".join(element.text for element in parsed.elements if isinstance(element, Paragraph))
    # LIMITATION: language is decided per document; per-chunk detection would label mixed pages.
    language = submission.language or detect_language(body or canonical)
    source_url = submission.source_url or parsed.metadata.get("source_url")

    # Chunk along the headings.
    drafts = SectionChunker(counter, policy).chunk(parsed.elements, title)
    if not drafts:
        raise _Refused(RejectionReason.EMPTY, "document has no text once parsed")
    if len(drafts) > limits.max_chunks:
        raise _Refused(
            RejectionReason.OVERSIZED,
            f"document yields {len(drafts)} chunks; the limit is {limits.max_chunks}",
        )

    # Version only when the content or its classification changed.
    content_hash = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    known = catalog.latest(submission.tenant, submission.source_id)
    entry, changed = next_entry(known, content_hash, submission.classification)
    if changed:
        catalog.record(submission.tenant, submission.source_id, entry)

    document_id = document_id_for(submission.tenant, submission.source_id)
    chunks = tuple(
        PreparedChunk(
            chunk_id=str(uuid.uuid5(STEWARD_NAMESPACE, f"{document_id}\x1f{content_hash}\x1f{n}")),
            ordinal=n,
            text=draft.text,
            embedding_text=draft.embedding_text,
            section_path=draft.section_path,
            token_count=draft.token_count,
        )
        for n, draft in enumerate(drafts)
    )
    return PreparedDocument(
        tenant=submission.tenant,
        source_id=submission.source_id,
        document_id=document_id,
        version=entry.version,
        changed=changed,
        content_hash=content_hash,
        classification=submission.classification,
        format=document_format,
        language=language,
        title=title,
        source_url=source_url,
        metadata=parsed.metadata,
        chunks=chunks,
    )
