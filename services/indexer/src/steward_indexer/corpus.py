"""Chunk a folder of documents the way ingestion does, for evaluation and benchmarks."""

from __future__ import annotations

from pathlib import Path

from steward_indexer._models import ChunkedDocument

DEFAULT_CORPUS = Path("../shared/corpus")
_SUFFIXES = {".md", ".markdown", ".html", ".htm", ".txt", ".pdf"}


class IngestionUnavailableError(RuntimeError):
    """steward-ingestion is needed to chunk a corpus but is not installed."""


def chunk_corpus(
    folder: Path,
    *,
    tenant: str,
    classification: str = "public",
) -> list[ChunkedDocument]:
    """Prepare every document file in a folder with steward-ingestion, skipping README files."""
    try:
        from steward_ingestion import (
            DocumentSubmission,
            InMemoryDocumentCatalog,
            PreparedDocument,
            prepare_document,
        )
    except ImportError as error:
        raise IngestionUnavailableError(
            "chunking a corpus needs steward-ingestion; install services/ingestion"
        ) from error

    if not folder.is_dir():
        raise FileNotFoundError(f"corpus folder {folder} does not exist")

    catalog = InMemoryDocumentCatalog()
    documents: list[ChunkedDocument] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in _SUFFIXES or path.stem.upper() == "README":
            continue
        submission = DocumentSubmission(
            tenant=tenant, source_id=path.name, classification=classification, path=path
        )
        prepared = prepare_document(submission, catalog=catalog)
        if isinstance(prepared, PreparedDocument):
            documents.append(ChunkedDocument.model_validate(prepared.model_dump()))
    return documents
