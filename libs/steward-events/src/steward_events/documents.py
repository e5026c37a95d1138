"""Agency documents on their way from submission to the vector index."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from steward_events.common import Part
from steward_events.envelope import EventData, event_type
from steward_events.types import (
    Classification,
    HttpUrl,
    Identifier,
    Labels,
    LanguageTag,
    LongText,
    Name,
    NonNegativeInt,
    PositiveInt,
    SectionPath,
    Sha256Hex,
    ShortText,
    Text,
)


@event_type("document.submitted", 1)
class DocumentSubmitted(EventData):
    """A document to ingest, with its content inline or at a path the ingestion service reads."""

    source_id: Identifier
    classification: Classification
    source_url: HttpUrl | None = None
    title: Name | None = None
    language: LanguageTag | None = None
    media_type: Name | None = Field(default=None, description="e.g. 'text/markdown'.")
    filename: Name | None = None
    content: LongText | None = Field(default=None, description="UTF-8 text content.")
    content_base64: LongText | None = Field(default=None, description="Binary content.")
    path: ShortText | None = Field(default=None, description="A file the service may read.")
    metadata: Labels = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_content_source(self) -> DocumentSubmitted:
        given = [self.content is not None, self.content_base64 is not None, self.path is not None]
        if sum(given) != 1:
            raise ValueError("exactly one of content, content_base64 or path must be given")
        return self


class DocumentChunk(Part):
    """One heading-aware chunk of a document version."""

    chunk_id: Identifier
    index: NonNegativeInt
    text: Text
    section_path: SectionPath = Field(default_factory=list)
    token_count: NonNegativeInt
    content_hash: Sha256Hex


@event_type("document.chunked", 1)
class DocumentChunked(EventData):
    """A parsed document split into chunks; the indexer assigns its version."""

    document_id: Identifier
    source_id: Identifier
    content_hash: Sha256Hex
    title: Name | None = None
    language: LanguageTag | None = None
    classification: Classification
    source_url: HttpUrl | None = None
    media_type: Name | None = None
    metadata: Labels = Field(default_factory=dict)
    chunks: list[DocumentChunk] = Field(min_length=1, max_length=5_000)


class RejectionReason(StrEnum):
    """Why a document was not ingested."""

    EMPTY = "empty"
    UNDECODABLE = "undecodable"
    UNSUPPORTED = "unsupported"
    OVERSIZED = "oversized"
    CORRUPT = "corrupt"
    UNREADABLE = "unreadable"
    INVALID = "invalid"


@event_type("document.rejected", 1)
class DocumentRejected(EventData):
    """A document that could not be ingested, and why."""

    source_id: Identifier
    reason: RejectionReason
    detail: ShortText
    filename: Name | None = None
    size_bytes: NonNegativeInt | None = None


@event_type("document.indexed", 1)
class DocumentIndexed(EventData):
    """A document version is searchable and its older versions are retired."""

    document_id: Identifier
    source_id: Identifier
    version: PositiveInt
    content_hash: Sha256Hex
    chunk_count: NonNegativeInt
    retired_versions: list[PositiveInt] = Field(default_factory=list, max_length=1_000)
    embedding_model: Name
    collection: Name
    unchanged: bool = Field(
        default=False,
        description="True when the content hash matched the indexed version.",
    )
    title: Name | None = None
    detail: Text | None = None
