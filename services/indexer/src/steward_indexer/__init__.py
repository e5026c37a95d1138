"""Steward indexer: embed chunks into Qdrant and retrieve them by tenant and clearance."""

from steward_indexer._embedding import ChunkEmbedder, TextEmbedder
from steward_indexer._index import DocumentIndex, TenantMismatchError, fuse_rankings
from steward_indexer._language import detect_query_language
from steward_indexer._models import (
    ChunkedDocument,
    DocumentChunk,
    IndexOutcome,
    RetrievalMode,
    RetrievedChunk,
    UnknownClearanceError,
    readable_classifications,
)
from steward_indexer._store import ChunkStore, VersionCatalog, VersionRecord, open_qdrant

__all__ = [
    "ChunkEmbedder",
    "ChunkStore",
    "ChunkedDocument",
    "DocumentChunk",
    "DocumentIndex",
    "IndexOutcome",
    "RetrievalMode",
    "RetrievedChunk",
    "TenantMismatchError",
    "TextEmbedder",
    "UnknownClearanceError",
    "VersionCatalog",
    "VersionRecord",
    "detect_query_language",
    "fuse_rankings",
    "open_qdrant",
    "readable_classifications",
]
