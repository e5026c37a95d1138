"""Typed inputs and outputs of indexing and retrieval."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Classification = Literal["public", "internal", "restricted"]
RetrievalMode = Literal["dense", "keyword", "hybrid"]

# What each clearance may read; no clearance at all reads public chunks only.
READABLE_BY_CLEARANCE: dict[str | None, tuple[str, ...]] = {
    None: ("public",),
    "public": ("public",),
    "internal": ("public", "internal"),
    "restricted": ("public", "internal", "restricted"),
}


class UnknownClearanceError(ValueError):
    """A caller presented a clearance that is not one of the known levels."""


def readable_classifications(clearance: str | None) -> tuple[str, ...]:
    """Return the classifications a caller with this clearance may read."""
    if clearance not in READABLE_BY_CLEARANCE:
        raise UnknownClearanceError(
            f"clearance {clearance!r} is unknown; expected None, 'public', 'internal' "
            "or 'restricted'"
        )
    return READABLE_BY_CLEARANCE[clearance]


class DocumentChunk(BaseModel):
    """One chunk as ingestion prepared it."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    ordinal: int
    text: str
    embedding_text: str
    section_path: tuple[str, ...] = ()

    @field_validator("chunk_id")
    @classmethod
    def _canonical_uuid(cls, value: str) -> str:
        # Qdrant stores point ids as canonical UUIDs; the same spelling keeps lookups exact.
        try:
            return str(uuid.UUID(value))
        except ValueError as error:
            raise ValueError(
                f"chunk_id {value!r} is not a UUID; expected a UUID string"
            ) from error


class ChunkedDocument(BaseModel):
    """A document version as ingestion emits it, ready to embed and store."""

    model_config = ConfigDict(frozen=True)

    tenant: str = Field(min_length=1)
    source_id: str = Field(min_length=1)
    document_id: str = Field(min_length=1)
    version: int = Field(ge=1)
    content_hash: str = Field(min_length=1)
    classification: Classification
    language: str = "und"
    title: str = ""
    source_url: str | None = None
    chunks: tuple[DocumentChunk, ...]


class IndexOutcome(BaseModel):
    """What indexing one document version did."""

    model_config = ConfigDict(frozen=True)

    tenant: str
    source_id: str
    document_id: str
    version: int
    content_hash: str
    status: Literal["indexed", "unchanged"]
    chunk_ids: tuple[str, ...]
    retired_chunks: int


class RetrievedChunk(BaseModel):
    """One ranked passage returned to a caller, with what is needed to cite and replay it."""

    model_config = ConfigDict(frozen=True)

    rank: int
    score: float
    chunk_id: str
    document_id: str
    source_id: str
    version: int
    content_hash: str
    title: str
    source_url: str | None
    section_path: tuple[str, ...]
    language: str
    classification: Classification
    text: str
