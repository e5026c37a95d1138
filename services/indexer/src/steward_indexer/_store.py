"""Chunk vectors and payloads in Qdrant, and the catalog of document versions beside them."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from qdrant_client import QdrantClient, models

from steward_indexer._embedding import EMBEDDING_DIMENSIONS

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

IN_MEMORY = ":memory:"
_CATALOG_NAMESPACE = uuid.UUID("0b6f4f4e-51a7-4c1e-93e2-6a1d0f7c2b58")
_SCROLL_PAGE = 1024


def open_qdrant(
    location: str | Path = Path(".steward/qdrant"), url: str | None = None
) -> QdrantClient:
    """Open a Qdrant server by URL, or local mode persisted under a folder (or in memory)."""
    if url:
        return QdrantClient(url=url)
    if str(location) == IN_MEMORY:
        return QdrantClient(location=IN_MEMORY)

    # Local mode keeps one client per folder; a second process on it is refused by Qdrant.
    folder = Path(location)
    folder.mkdir(parents=True, exist_ok=True)
    return QdrantClient(path=str(folder))


def _scope(
    tenant: str,
    readable: tuple[str, ...],
    language: str | None = None,
) -> models.Filter:
    """Build the filter every search carries: one tenant, readable classifications only."""
    must: list[models.Condition] = [
        models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant)),
        models.FieldCondition(key="classification", match=models.MatchAny(any=list(readable))),
    ]
    if language is not None:
        must.append(models.FieldCondition(key="language", match=models.MatchValue(value=language)))
    return models.Filter(must=must)


class ChunkStore:
    """The chunk collection: one point per chunk, its vector and its citation payload."""

    def __init__(self, client: QdrantClient, collection: str = "steward_chunks") -> None:
        self._client = client
        self.collection = collection
        if not client.collection_exists(collection):
            client.create_collection(
                collection,
                vectors_config=models.VectorParams(
                    size=EMBEDDING_DIMENSIONS, distance=models.Distance.COSINE
                ),
            )
            # Local mode ignores payload indexes and warns; a Qdrant server needs them.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                for key in ("tenant", "document_id", "classification", "language"):
                    client.create_payload_index(collection, key, models.PayloadSchemaType.KEYWORD)

    def upsert(self, payloads: list[dict[str, Any]], vectors: NDArray[np.float32]) -> None:
        """Store chunks whose payload carries their 'chunk_id'."""
        if len(payloads) != len(vectors):
            raise ValueError(
                f"{len(payloads)} payloads but {len(vectors)} vectors; expected equal"
            )
        points = [
            models.PointStruct(id=payload["chunk_id"], vector=vector.tolist(), payload=payload)
            for payload, vector in zip(payloads, vectors, strict=True)
        ]
        self._client.upsert(self.collection, points, wait=True)

    def retire(self, tenant: str, document_id: str, keep_version: int) -> list[str]:
        """Delete a document's chunks of every version but one, returning their ids."""
        selector = models.Filter(
            must=[
                models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant)),
                models.FieldCondition(
                    key="document_id", match=models.MatchValue(value=document_id)
                ),
            ],
            must_not=[
                models.FieldCondition(key="version", match=models.MatchValue(value=keep_version)),
            ],
        )
        retired = [str(point_id) for point_id, _ in self._scroll(selector, with_payload=False)]
        if retired:
            self._client.delete(self.collection, models.PointIdsList(points=retired), wait=True)
        return retired

    def search(
        self,
        vector: NDArray[np.float32],
        *,
        tenant: str,
        readable: tuple[str, ...],
        language: str | None,
        limit: int,
    ) -> list[tuple[dict[str, Any], float]]:
        """Return the nearest readable chunks of one tenant with their cosine scores."""
        response = self._client.query_points(
            self.collection,
            query=vector.tolist(),
            query_filter=_scope(tenant, readable, language),
            limit=limit,
            with_payload=True,
        )
        return [(dict(point.payload or {}), float(point.score)) for point in response.points]

    def payloads(self, chunk_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Fetch stored payloads by chunk id."""
        if not chunk_ids:
            return {}
        records = self._client.retrieve(self.collection, ids=chunk_ids, with_payload=True)
        return {str(record.id): dict(record.payload or {}) for record in records}

    def all_payloads(self) -> Iterator[dict[str, Any]]:
        """Yield the payload of every stored chunk, for rebuilding in-memory indexes."""
        for _, payload in self._scroll(None, with_payload=True):
            yield payload

    def count(self, tenant: str | None = None) -> int:
        """Count stored chunks, of one tenant or of all."""
        scope = None
        if tenant is not None:
            scope = models.Filter(
                must=[models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant))]
            )
        return int(self._client.count(self.collection, count_filter=scope, exact=True).count)

    def _scroll(
        self, selector: models.Filter | None, *, with_payload: bool
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        offset: Any = None
        while True:
            records, offset = self._client.scroll(
                self.collection,
                scroll_filter=selector,
                limit=_SCROLL_PAGE,
                offset=offset,
                with_payload=with_payload,
                with_vectors=False,
            )
            for record in records:
                yield str(record.id), dict(record.payload or {})
            if offset is None:
                return


class VersionRecord(NamedTuple):
    """One indexed version of a document."""

    version: int
    content_hash: str
    classification: str


class VersionCatalog:
    """Which versions of each document were indexed, kept in a vectorless Qdrant collection."""

    def __init__(
        self, client: QdrantClient, collection: str = "steward_document_versions"
    ) -> None:
        self._client = client
        self.collection = collection
        if not client.collection_exists(collection):
            client.create_collection(collection, vectors_config={})

    def latest(self, tenant: str, source_id: str) -> VersionRecord | None:
        """Return the newest indexed version of a document, or None if it was never indexed."""
        versions = self.versions(tenant, source_id)
        return versions[-1] if versions else None

    def versions(self, tenant: str, source_id: str) -> list[VersionRecord]:
        """Return every indexed version of a document, oldest first."""
        selector = models.Filter(
            must=[
                models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant)),
                models.FieldCondition(key="source_id", match=models.MatchValue(value=source_id)),
            ]
        )
        records, _ = self._client.scroll(
            self.collection, scroll_filter=selector, limit=100_000, with_payload=True
        )
        found = [
            VersionRecord(
                int(payload["version"]),
                str(payload["content_hash"]),
                str(payload["classification"]),
            )
            for payload in (record.payload or {} for record in records)
        ]
        return sorted(found)

    def record(self, tenant: str, source_id: str, entry: VersionRecord) -> None:
        """Remember an indexed version; recording the same version twice is harmless."""
        point_id = str(
            uuid.uuid5(_CATALOG_NAMESPACE, f"{tenant}\x1f{source_id}\x1f{entry.version}")
        )
        payload = {
            "tenant": tenant,
            "source_id": source_id,
            "version": entry.version,
            "content_hash": entry.content_hash,
            "classification": entry.classification,
        }
        self._client.upsert(
            self.collection, [models.PointStruct(id=point_id, vector={}, payload=payload)]
        )
