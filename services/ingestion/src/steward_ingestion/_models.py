"""Typed inputs and outputs of document preparation."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Classification = Literal["public", "internal", "restricted"]


class DocumentFormat(StrEnum):
    """The source formats ingestion can parse."""

    MARKDOWN = "markdown"
    HTML = "html"
    TEXT = "text"
    PDF = "pdf"


class RejectionReason(StrEnum):
    """Why a submitted document could not be prepared."""

    EMPTY = "empty"
    UNDECODABLE = "undecodable"
    UNSUPPORTED_TYPE = "unsupported_type"
    OVERSIZED = "oversized"
    CORRUPT_PDF = "corrupt_pdf"
    BINARY = "binary"
    UNREADABLE = "unreadable"


class DocumentSubmission(BaseModel):
    """One document handed to ingestion, with its content inline or by a readable path."""

    model_config = ConfigDict(frozen=True)

    tenant: str = Field(min_length=1)
    source_id: str = Field(min_length=1)
    classification: Classification = "public"
    content: bytes | None = None
    path: Path | None = None
    filename: str | None = None
    media_type: str | None = None
    charset: str | None = None
    source_url: str | None = None
    title: str | None = None
    language: str | None = None

    @model_validator(mode="after")
    def _one_content_source(self) -> DocumentSubmission:
        if (self.content is None) == (self.path is None):
            raise ValueError(
                f"submission {self.source_id!r} must carry exactly one of content or path"
            )
        return self


class PreparedChunk(BaseModel):
    """One retrievable piece of a document, sized for the embedding model."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    ordinal: int
    text: str
    embedding_text: str
    section_path: tuple[str, ...]
    token_count: int


class PreparedDocument(BaseModel):
    """A parsed, normalised and chunked document version ready for indexing."""

    model_config = ConfigDict(frozen=True)

    tenant: str
    source_id: str
    document_id: str
    version: int
    changed: bool
    content_hash: str
    classification: Classification
    format: DocumentFormat
    language: str
    title: str
    source_url: str | None
    metadata: dict[str, str]
    chunks: tuple[PreparedChunk, ...]


class Rejection(BaseModel):
    """A submission that ingestion refused, with a reason a caller can act on."""

    model_config = ConfigDict(frozen=True)

    tenant: str
    source_id: str
    reason: RejectionReason
    detail: str
