"""Steward ingestion: turn submitted documents into versioned, heading-aware chunks."""

from steward_ingestion._catalog import CatalogEntry, DocumentCatalog, InMemoryDocumentCatalog
from steward_ingestion._chunking import ChunkingPolicy, WordPieceCounter
from steward_ingestion._language import detect_language
from steward_ingestion._models import (
    Classification,
    DocumentFormat,
    DocumentSubmission,
    PreparedChunk,
    PreparedDocument,
    Rejection,
    RejectionReason,
)
from steward_ingestion._preparation import IngestionLimits, document_id_for, prepare_document

__all__ = [
    "CatalogEntry",
    "ChunkingPolicy",
    "Classification",
    "DocumentCatalog",
    "DocumentFormat",
    "DocumentSubmission",
    "InMemoryDocumentCatalog",
    "IngestionLimits",
    "PreparedChunk",
    "PreparedDocument",
    "Rejection",
    "RejectionReason",
    "WordPieceCounter",
    "detect_language",
    "document_id_for",
    "prepare_document",
]
