"""The indexer's domain facade: index document versions and retrieve passages."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward_indexer._embedding import ChunkEmbedder, TextEmbedder
from steward_indexer._keyword import KeywordIndex
from steward_indexer._language import detect_query_language
from steward_indexer._models import (
    ChunkedDocument,
    IndexOutcome,
    RetrievalMode,
    RetrievedChunk,
    readable_classifications,
)
from steward_indexer._store import ChunkStore, VersionCatalog, VersionRecord, open_qdrant

if TYPE_CHECKING:
    from collections.abc import Sequence

    from qdrant_client import QdrantClient

# Reciprocal rank fusion constant from Cormack et al.; it damps the top ranks' weight.
RRF_K = 60


class TenantMismatchError(RuntimeError):
    """A stored chunk outside the caller's tenant or clearance reached a result list."""


class DocumentIndex:
    """Chunks of every tenant in Qdrant, with an in-memory BM25 index rebuilt on open."""

    def __init__(
        self,
        client: QdrantClient,
        embedder: TextEmbedder,
        *,
        collection: str = "steward_chunks",
        candidates: int = 50,
    ) -> None:
        self.store = ChunkStore(client, collection)
        self.catalog = VersionCatalog(client, f"{collection}_versions")
        self.embedder = embedder
        self.candidates = candidates
        self._keywords = KeywordIndex()
        self._payloads: dict[str, dict[str, Any]] = {}
        self._languages: dict[str, Counter[str]] = {}

        # LIMITATION: the keyword index is per process; replicas sharing one Qdrant server
        # see each other's writes only on reopen, which Qdrant sparse vectors would lift.
        for payload in self.store.all_payloads():
            self._remember(payload)
        self._client = client

    @classmethod
    def open(
        cls,
        location: str | Path = Path(".steward/qdrant"),
        *,
        url: str | None = None,
        embedder: TextEmbedder | None = None,
        collection: str = "steward_chunks",
    ) -> DocumentIndex:
        """Open the index in local mode under a folder, in memory, or on a Qdrant server."""
        return cls(open_qdrant(location, url), embedder or ChunkEmbedder(), collection=collection)

    def close(self) -> None:
        """Release the Qdrant client; local mode frees its folder for the next opener."""
        self._client.close()

    def index_document(self, document: ChunkedDocument) -> IndexOutcome:
        """Embed and store one document version, retiring the chunks of older versions."""
        return self.index_documents([document])[0]

    def index_documents(self, documents: Sequence[ChunkedDocument]) -> list[IndexOutcome]:
        """Index several document versions, embedding all their chunks in one batched pass."""
        identities = [(document.tenant, document.source_id) for document in documents]
        if len(set(identities)) != len(identities):
            # Two versions of one document must be decided in order, one after the other.
            return [
                outcome for document in documents for outcome in self.index_documents([document])
            ]

        # Decide which documents changed and which version each will carry.
        plans: list[tuple[ChunkedDocument, int | None, bool]] = []
        for document in documents:
            known = self.catalog.latest(document.tenant, document.source_id)
            unchanged = known is not None and (known.content_hash, known.classification) == (
                document.content_hash,
                document.classification,
            )
            version = (
                None if unchanged else max(document.version, known.version + 1 if known else 1)
            )
            plans.append((document, version, known is not None))

        # Embed every chunk that will be stored, in one call so batches stay full.
        texts = [
            chunk.embedding_text
            for document, version, _ in plans
            if version is not None
            for chunk in document.chunks
        ]
        vectors = self.embedder.embed(texts)

        # Store each version, then retire what it replaces.
        outcomes: list[IndexOutcome] = []
        offset = 0
        for document, version, replaces in plans:
            if version is None:
                outcomes.append(self._unchanged(document))
                continue
            count = len(document.chunks)
            outcomes.append(
                self._store_version(document, version, vectors[offset : offset + count], replaces)
            )
            offset += count
        return outcomes

    def _unchanged(self, document: ChunkedDocument) -> IndexOutcome:
        known = self.catalog.latest(document.tenant, document.source_id)
        assert known is not None
        return IndexOutcome(
            tenant=document.tenant,
            source_id=document.source_id,
            document_id=document.document_id,
            version=known.version,
            content_hash=document.content_hash,
            status="unchanged",
            chunk_ids=tuple(chunk.chunk_id for chunk in document.chunks),
            retired_chunks=0,
        )

    def _store_version(
        self, document: ChunkedDocument, version: int, vectors: Any, replaces: bool
    ) -> IndexOutcome:
        payloads = [
            {
                "chunk_id": chunk.chunk_id,
                "tenant": document.tenant,
                "source_id": document.source_id,
                "document_id": document.document_id,
                "version": version,
                "content_hash": document.content_hash,
                "classification": document.classification,
                "language": document.language,
                "title": document.title,
                "source_url": document.source_url,
                "section_path": list(chunk.section_path),
                "ordinal": chunk.ordinal,
                "text": chunk.text,
                "embedding_text": chunk.embedding_text,
            }
            for chunk in document.chunks
        ]
        if payloads:
            self.store.upsert(payloads, vectors)
        for payload in payloads:
            self._remember(payload)

        # New chunks are in place before old ones go, so the document never disappears.
        # A first version has nothing to retire; skipping the search keeps local mode fast.
        retired: list[str] = []
        if replaces:
            retired = self.store.retire(document.tenant, document.document_id, version)
        for chunk_id in retired:
            self._forget(chunk_id)

        # The catalog is written last: a crash before it makes a redelivery redo the work.
        self.catalog.record(
            document.tenant,
            document.source_id,
            VersionRecord(version, document.content_hash, document.classification),
        )
        return IndexOutcome(
            tenant=document.tenant,
            source_id=document.source_id,
            document_id=document.document_id,
            version=version,
            content_hash=document.content_hash,
            status="indexed",
            chunk_ids=tuple(payload["chunk_id"] for payload in payloads),
            retired_chunks=len(retired),
        )

    def _remember(self, payload: dict[str, Any]) -> None:
        chunk_id = str(payload["chunk_id"])
        if chunk_id in self._payloads:
            self._forget(chunk_id)
        self._payloads[chunk_id] = payload
        self._languages.setdefault(payload["tenant"], Counter())[payload["language"]] += 1
        self._keywords.add(
            tenant=payload["tenant"],
            chunk_id=chunk_id,
            text=payload["embedding_text"],
            language=payload["language"],
            classification=payload["classification"],
        )

    def _forget(self, chunk_id: str) -> None:
        payload = self._payloads.pop(chunk_id, None)
        if payload is None:
            return
        self._languages[payload["tenant"]][payload["language"]] -= 1
        self._keywords.remove(tenant=payload["tenant"], chunk_id=chunk_id)

    def retrieve(
        self,
        query: str,
        *,
        tenant: str,
        clearance: str | None,
        limit: int = 5,
        mode: RetrievalMode = "hybrid",
        language: str | None = None,
    ) -> list[RetrievedChunk]:
        """Return the best passages of one tenant that the caller's clearance may read."""
        readable = readable_classifications(clearance)
        if not query.strip():
            raise ValueError("query is empty; expected a question with at least one word")
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")

        # The English-only embedding model cannot match across languages, so dense
        # search looks at passages in the question's language when the tenant has any.
        language = language or detect_query_language(query)
        in_language = self._languages.get(tenant, Counter())[language] > 0
        preferred = language if in_language else None

        rankings: list[list[str]] = []
        scores: dict[str, float] = {}
        if mode in ("dense", "hybrid"):
            vector = self.embedder.embed([query])[0]
            hits = self.store.search(
                vector, tenant=tenant, readable=readable, language=preferred, limit=self.candidates
            )
            rankings.append([str(payload["chunk_id"]) for payload, _ in hits])
            scores.update((str(payload["chunk_id"]), score) for payload, score in hits)
        if mode in ("keyword", "hybrid"):
            found = self._keywords.search(
                tenant=tenant,
                query=query,
                language=language,
                readable=readable,
                limit=self.candidates,
            )
            rankings.append([chunk_id for chunk_id, _ in found])
            scores.update(found)

        if mode == "hybrid":
            ranked = fuse_rankings(rankings)
        else:
            ranked = [(chunk_id, scores[chunk_id]) for chunk_id in rankings[0]]
        return self._results(ranked[:limit], tenant, readable)

    def _results(
        self, ranked: list[tuple[str, float]], tenant: str, readable: tuple[str, ...]
    ) -> list[RetrievedChunk]:
        results: list[RetrievedChunk] = []
        for rank, (chunk_id, score) in enumerate(ranked, start=1):
            payload = self._payloads[chunk_id]

            # Searches are already scoped; this re-check makes a scoping bug fail loudly.
            if payload["tenant"] != tenant or payload["classification"] not in readable:
                raise TenantMismatchError(
                    f"chunk {chunk_id} of tenant {payload['tenant']!r} classified "
                    f"{payload['classification']!r} reached a search by tenant {tenant!r} "
                    f"that may read {readable}"
                )
            results.append(
                RetrievedChunk(
                    rank=rank,
                    score=score,
                    chunk_id=chunk_id,
                    document_id=payload["document_id"],
                    source_id=payload["source_id"],
                    version=payload["version"],
                    content_hash=payload["content_hash"],
                    title=payload["title"],
                    source_url=payload["source_url"],
                    section_path=tuple(payload["section_path"]),
                    language=payload["language"],
                    classification=payload["classification"],
                    text=payload["text"],
                )
            )
        return results


def fuse_rankings(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Merge ranked id lists by reciprocal rank fusion, best first."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for position, chunk_id in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (k + position)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
