"""The translation between events and the two domains, without a broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from steward_events import DocumentSubmitted
from steward_indexer._events import chunked_document
from steward_indexer.settings import IndexerSettings
from steward_ingestion import (
    DocumentSubmission,
    InMemoryDocumentCatalog,
    PreparedDocument,
    WordPieceCounter,
    prepare_document,
)
from steward_ingestion._events import (
    SubmissionRefused,
    allowed_path,
    chunked_event,
    oversized_detail,
)

# Two documents with deep headings and one Spanish page.
SAMPLES = (
    "015-irs-direct-file-eligibility-checker.md",
    "028-epa-net-cgp-help-center-articles.md",
    "010-usagov-es-estado-de-su-reembolso.md",
)


def _prepared(path: Path, counter: WordPieceCounter) -> tuple[PreparedDocument, DocumentSubmitted]:
    submitted = DocumentSubmitted(
        source_id=path.name, classification="public", content=path.read_text()
    )
    submission = DocumentSubmission(
        tenant="agency", source_id=path.name, content=path.read_bytes(), filename=path.name
    )
    prepared = prepare_document(submission, catalog=InMemoryDocumentCatalog(), counter=counter)
    assert isinstance(prepared, PreparedDocument)
    return prepared, submitted


@pytest.mark.parametrize("name", SAMPLES)
def test_the_indexer_embeds_what_ingestion_prepared(
    name: str, corpus: Path, counter: WordPieceCounter
) -> None:
    prepared, submitted = _prepared(corpus / name, counter)

    event = chunked_event(prepared, submitted)
    document = chunked_document("agency", event)

    assert [c.chunk_id for c in document.chunks] == [c.chunk_id for c in prepared.chunks]
    assert (document.content_hash, document.language) == (
        prepared.content_hash,
        prepared.language,
    )
    # The event carries no embedding text; the indexer rebuilds exactly what ingestion made.
    assert [c.embedding_text for c in document.chunks] == [
        c.embedding_text for c in prepared.chunks
    ]
    assert oversized_detail(event, 4 * 1024 * 1024) is None


def test_a_document_too_large_for_one_event_is_named_oversized(
    corpus: Path, counter: WordPieceCounter
) -> None:
    prepared, submitted = _prepared(corpus / SAMPLES[0], counter)

    detail = oversized_detail(chunked_event(prepared, submitted), 20_000)

    assert detail is not None
    assert f"{len(prepared.chunks)} chunks" in detail
    assert "the bound is 20000 bytes" in detail


def test_paths_are_kept_inside_the_allowed_roots(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    root.mkdir()
    (root / "guide.md").write_text("# Guide")
    (tmp_path / "secret.md").write_text("# Secret")
    (root / "link.md").symlink_to(tmp_path / "secret.md")

    assert allowed_path(str(root / "guide.md"), [root]) == (root / "guide.md").resolve()
    for escaping in (root / "link.md", root / ".." / "secret.md", Path("guide.md")):
        with pytest.raises(SubmissionRefused) as refused:
            allowed_path(str(escaping), [root])
        assert refused.value.reason == "unreadable"


@pytest.mark.parametrize("variable", ["STEWARD_QDRANT_URL", "STEWARD_INDEXER_QDRANT_URL"])
def test_the_qdrant_server_is_named_by_either_variable(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "http://127.0.0.1:6333")

    assert IndexerSettings().indexer_qdrant_url == "http://127.0.0.1:6333"
    assert IndexerSettings(indexer_qdrant_url=None).indexer_qdrant_url is None
