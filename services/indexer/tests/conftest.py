"""Shared fixtures: the embedding model, loaded once, and chunked corpus documents."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from steward_indexer import ChunkedDocument, ChunkEmbedder
from steward_indexer.corpus import chunk_corpus

CORPUS = Path(os.environ.get("STEWARD_CORPUS", Path(__file__).parents[4] / "shared" / "corpus"))
SUBSET = (
    "003-usagov-wheres-my-refund.md",
    "010-usagov-es-estado-de-su-reembolso.md",
    "026-epa-small-construction-low-erosivity-waiver.md",
    "027-ohio-epa-rainfall-erosivity-waiver.md",
    "030-maricopa-county-do-i-need-an-air-permit.md",
    "031-usagov-change-your-address-post-office.md",
    "034-usagov-getting-or-renewing-a-passport.md",
    "046-usagov-es-como-obtener-o-renovar-el-pasaporte.md",
    "049-va-change-your-address.md",
)


@pytest.fixture(scope="session")
def embedder() -> ChunkEmbedder:
    """The packaged all-MiniLM-L6-v2 model on the CPU."""
    return ChunkEmbedder()


@pytest.fixture(scope="session")
def corpus_documents() -> dict[str, ChunkedDocument]:
    """Every corpus document, chunked by steward-ingestion for tenant 'agency-a'."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return {doc.source_id: doc for doc in chunk_corpus(CORPUS, tenant="agency-a")}


def make_document(
    *,
    tenant: str,
    source_id: str,
    paragraphs: list[str],
    classification: str = "public",
    version: int = 1,
    language: str = "en",
) -> ChunkedDocument:
    """Build a small chunked document, one chunk per paragraph, content-hashed honestly."""
    import hashlib

    content_hash = hashlib.sha256("\n".join(paragraphs).encode()).hexdigest()
    return ChunkedDocument.model_validate(
        {
            "tenant": tenant,
            "source_id": source_id,
            "document_id": f"{tenant}:{source_id}",
            "version": version,
            "content_hash": content_hash,
            "classification": classification,
            "language": language,
            "title": source_id,
            "source_url": f"https://{tenant}.example.gov/{source_id}",
            "chunks": [
                {
                    "chunk_id": hashlib.md5(
                        f"{tenant}{source_id}{content_hash}{n}".encode()
                    ).hexdigest(),
                    "ordinal": n,
                    "text": text,
                    "embedding_text": f"{source_id}\n{text}",
                    "section_path": [source_id],
                }
                for n, text in enumerate(paragraphs)
            ],
        }
    )
