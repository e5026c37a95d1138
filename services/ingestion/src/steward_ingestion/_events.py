"""Translation between the bus's document events and the ingestion domain."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from steward_events import DocumentChunk, DocumentChunked, DocumentRejected, DocumentSubmitted
from steward_events import RejectionReason as EventReason

from steward_ingestion._models import (
    DocumentFormat,
    DocumentSubmission,
    PreparedDocument,
    Rejection,
    RejectionReason,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# The bounds of the event contract's field types.
MAX_NAME = 200
MAX_SHORT_TEXT = 1_000
MAX_TEXT = 20_000
MAX_LABELS = 50
MAX_SECTION_DEPTH = 12
_URL = re.compile(r"^https?://\S{1,2040}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")

# The event contract has no separate reason for binary content: it is an unsupported type.
REASONS: dict[RejectionReason, EventReason] = {
    RejectionReason.EMPTY: EventReason.EMPTY,
    RejectionReason.UNDECODABLE: EventReason.UNDECODABLE,
    RejectionReason.UNSUPPORTED_TYPE: EventReason.UNSUPPORTED,
    RejectionReason.OVERSIZED: EventReason.OVERSIZED,
    RejectionReason.CORRUPT_PDF: EventReason.CORRUPT,
    RejectionReason.BINARY: EventReason.UNSUPPORTED,
    RejectionReason.UNREADABLE: EventReason.UNREADABLE,
}
MEDIA_TYPES = {
    DocumentFormat.MARKDOWN: "text/markdown",
    DocumentFormat.HTML: "text/html",
    DocumentFormat.TEXT: "text/plain",
    DocumentFormat.PDF: "application/pdf",
}


class SubmissionRefused(Exception):
    """A submitted event that cannot even be handed to the domain, with the reason to publish."""

    def __init__(self, reason: EventReason, detail: str, size_bytes: int | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.size_bytes = size_bytes


def submission_from_event(
    tenant: str, submitted: DocumentSubmitted, allowed_roots: Sequence[Path]
) -> tuple[DocumentSubmission, int | None]:
    """Build the domain's submission and the size in bytes, or raise SubmissionRefused."""
    content: bytes | None = None
    path: Path | None = None
    charset: str | None = None
    if submitted.content is not None:
        content, charset = submitted.content.encode("utf-8"), "utf-8"
    elif submitted.content_base64 is not None:
        try:
            content = base64.b64decode(submitted.content_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise SubmissionRefused(
                EventReason.INVALID, f"content_base64 is not valid base64: {error}"
            ) from None
    else:
        assert submitted.path is not None
        path = allowed_path(submitted.path, allowed_roots)

    submission = DocumentSubmission(
        tenant=tenant,
        source_id=submitted.source_id,
        classification=submitted.classification.value,
        content=content,
        path=path,
        filename=submitted.filename,
        media_type=submitted.media_type,
        charset=charset,
        source_url=submitted.source_url,
        title=submitted.title,
        language=submitted.language,
    )
    return submission, len(content) if content is not None else _size_of(path)


def allowed_path(raw: str, allowed_roots: Sequence[Path]) -> Path:
    """Resolve a submitted path, refusing any that lies outside the allowed roots."""
    path = Path(raw)
    if not path.is_absolute():
        raise SubmissionRefused(
            EventReason.UNREADABLE, f"path {raw!r} is relative; expected an absolute path"
        )

    # Resolving follows symbolic links and '..', so neither can lead out of a root.
    resolved = path.resolve()
    for root in allowed_roots:
        if resolved.is_relative_to(root.resolve()):
            return resolved
    raise SubmissionRefused(
        EventReason.UNREADABLE,
        f"path {raw!r} is outside the folders this service may read "
        "(STEWARD_INGESTION_ALLOWED_ROOTS)",
    )


def _size_of(path: Path | None) -> int | None:
    try:
        return path.stat().st_size if path is not None else None
    except OSError:
        return None


def chunked_event(prepared: PreparedDocument, submitted: DocumentSubmitted) -> DocumentChunked:
    """The document.chunked event of a prepared document, its fields cut to the contract."""
    chunks = [
        DocumentChunk(
            chunk_id=chunk.chunk_id,
            index=chunk.ordinal,
            text=chunk.text,
            section_path=section_path(chunk.section_path),
            token_count=chunk.token_count,
            content_hash=hashlib.sha256(chunk.text.encode("utf-8")).hexdigest(),
        )
        for chunk in prepared.chunks
    ]
    return DocumentChunked(
        document_id=prepared.document_id,
        source_id=prepared.source_id,
        content_hash=prepared.content_hash,
        title=name(prepared.title),
        language=prepared.language if _LANGUAGE.match(prepared.language) else None,
        classification=prepared.classification,
        source_url=url(prepared.source_url),
        media_type=name(submitted.media_type) or MEDIA_TYPES[prepared.format],
        # What the submitter said about the document wins over what the file says of itself.
        metadata=labels({**prepared.metadata, **submitted.metadata}),
        chunks=chunks,
    )


def rejected_event(
    reason: EventReason,
    detail: str,
    submitted: DocumentSubmitted,
    size_bytes: int | None,
) -> DocumentRejected:
    """The document.rejected event for a refused submission."""
    filename = submitted.filename or (Path(submitted.path).name if submitted.path else None)
    return DocumentRejected(
        source_id=submitted.source_id,
        reason=reason,
        detail=detail[:MAX_SHORT_TEXT],
        filename=name(filename),
        size_bytes=size_bytes,
    )


def rejection_reason(rejection: Rejection) -> EventReason:
    """The event contract's reason for a domain rejection."""
    return REASONS[rejection.reason]


def oversized_detail(chunked: DocumentChunked, max_event_bytes: int) -> str | None:
    """Say why a document.chunked event would be too large for the bus, or return None."""
    long_chunks = [chunk.index for chunk in chunked.chunks if len(chunk.text) > MAX_TEXT]
    if long_chunks:
        return (
            f"chunk {long_chunks[0]} has more than {MAX_TEXT} characters; "
            "expected every chunk to fit the event contract"
        )
    size = len(chunked.model_dump_json())
    if size > max_event_bytes:
        return (
            f"document yields {len(chunked.chunks)} chunks, {size} bytes as one event; "
            f"the bound is {max_event_bytes} bytes: split the document"
        )
    return None


def name(value: str | None) -> str | None:
    """A value cut to the contract's Name bound, or None when blank."""
    value = (value or "").strip()[:MAX_NAME].strip()
    return value or None


def url(value: str | None) -> str | None:
    """An http(s) URL the contract accepts, or None."""
    return value if value and _URL.match(value) else None


def section_path(path: Sequence[str]) -> list[str]:
    """Headings cut to the contract's bounds, keeping the innermost when a path is too deep."""
    names = [cut for cut in (name(heading) for heading in path) if cut]
    return names[-MAX_SECTION_DEPTH:]


def labels(metadata: Mapping[str, str]) -> dict[str, str]:
    """Metadata cut to the contract's label bounds: 50 entries, bounded keys and values."""
    bounded: dict[str, str] = {}
    for key, value in metadata.items():
        cut = name(key)
        if cut and len(bounded) < MAX_LABELS:
            bounded[cut] = str(value)[:MAX_SHORT_TEXT]
    return bounded
