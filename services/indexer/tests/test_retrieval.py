"""Indexing and retrieval on the real corpus: versions, tenants, clearances and languages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from steward_indexer import (
    ChunkedDocument,
    ChunkEmbedder,
    DocumentIndex,
    RetrievalMode,
    UnknownClearanceError,
)

from .conftest import SUBSET, make_document

MODES: tuple[RetrievalMode, ...] = ("dense", "keyword", "hybrid")
INTERNAL_PHRASE = "Counter staff may waive the passport photo rule with supervisor code 4471."
TENANT_B_PHRASE = "Agency B renews passports at its riverside counter every Tuesday."
QUESTIONS = (
    "how do I renew my passport",
    "where is my tax refund",
    "supervisor code to waive the passport photo rule",
    "riverside counter passports Tuesday",
    "¿Cómo renuevo mi pasaporte?",
    "change my address with the VA",
)


@pytest.fixture(scope="module")
def index(
    tmp_path_factory: pytest.TempPathFactory,
    embedder: ChunkEmbedder,
    corpus_documents: dict[str, ChunkedDocument],
) -> Iterator[DocumentIndex]:
    opened = DocumentIndex.open(tmp_path_factory.mktemp("qdrant"), embedder=embedder)
    opened.index_documents([corpus_documents[name] for name in SUBSET])
    opened.index_document(
        make_document(
            tenant="agency-a",
            source_id="staff-manual",
            classification="internal",
            paragraphs=[INTERNAL_PHRASE],
        )
    )
    opened.index_document(
        make_document(
            tenant="agency-a",
            source_id="security-plan",
            classification="restricted",
            paragraphs=["Restricted: the passport vault combination changes monthly."],
        )
    )
    opened.index_document(
        make_document(tenant="agency-b", source_id="b-passports", paragraphs=[TENANT_B_PHRASE])
    )
    yield opened
    opened.close()


def test_every_subset_chunk_is_stored(
    index: DocumentIndex, corpus_documents: dict[str, ChunkedDocument]
) -> None:
    expected = sum(len(corpus_documents[name].chunks) for name in SUBSET) + 2
    assert index.store.count("agency-a") == expected
    assert index.store.count("agency-b") == 1


def test_reindexing_unchanged_documents_changes_nothing(
    index: DocumentIndex, corpus_documents: dict[str, ChunkedDocument]
) -> None:
    before = index.store.count("agency-a")
    outcomes = index.index_documents([corpus_documents[name] for name in SUBSET])
    assert {outcome.status for outcome in outcomes} == {"unchanged"}
    assert {outcome.version for outcome in outcomes} == {1}
    assert index.store.count("agency-a") == before
    for name in SUBSET:
        assert len(index.catalog.versions("agency-a", name)) == 1


@pytest.mark.parametrize("mode", MODES)
def test_tenant_a_never_retrieves_tenant_b(index: DocumentIndex, mode: RetrievalMode) -> None:
    for question in QUESTIONS:
        for clearance in (None, "internal", "restricted"):
            found = index.retrieve(
                question, tenant="agency-a", clearance=clearance, limit=50, mode=mode
            )
            assert "b-passports" not in {chunk.source_id for chunk in found}
            assert all(TENANT_B_PHRASE not in chunk.text for chunk in found)

        found_b = index.retrieve(question, tenant="agency-b", clearance=None, limit=50, mode=mode)
        assert {chunk.source_id for chunk in found_b} <= {"b-passports"}


@pytest.mark.parametrize("mode", MODES)
def test_public_caller_never_sees_internal_or_restricted(
    index: DocumentIndex, mode: RetrievalMode
) -> None:
    for question in (*QUESTIONS, INTERNAL_PHRASE, "passport vault combination"):
        for clearance in (None, "public"):
            found = index.retrieve(
                question, tenant="agency-a", clearance=clearance, limit=50, mode=mode
            )
            assert {chunk.classification for chunk in found} <= {"public"}


def test_clearances_widen_in_order(index: DocumentIndex) -> None:
    internal = index.retrieve(INTERNAL_PHRASE, tenant="agency-a", clearance="internal")
    assert internal[0].source_id == "staff-manual"
    assert internal[0].classification == "internal"

    vault = "passport vault combination"
    as_internal = index.retrieve(vault, tenant="agency-a", clearance="internal", limit=50)
    assert "security-plan" not in {chunk.source_id for chunk in as_internal}
    as_restricted = index.retrieve(vault, tenant="agency-a", clearance="restricted")
    assert as_restricted[0].source_id == "security-plan"


def test_unknown_clearance_fails_closed(index: DocumentIndex) -> None:
    with pytest.raises(UnknownClearanceError, match="'secret'"):
        index.retrieve("passport", tenant="agency-a", clearance="secret")


def test_spanish_question_finds_spanish_document(index: DocumentIndex) -> None:
    found = index.retrieve("¿Cómo renuevo mi pasaporte?", tenant="agency-a", clearance=None)
    assert found[0].source_id == "046-usagov-es-como-obtener-o-renovar-el-pasaporte.md"
    assert found[0].language == "es"

    refund = index.retrieve("cuánto tarda mi reembolso", tenant="agency-a", clearance=None)
    assert refund[0].source_id == "010-usagov-es-estado-de-su-reembolso.md"


def test_results_carry_what_a_citation_needs(
    index: DocumentIndex, corpus_documents: dict[str, ChunkedDocument]
) -> None:
    found = index.retrieve("how do I renew my passport by mail", tenant="agency-a", clearance=None)
    top = found[0]
    document = corpus_documents[top.source_id]
    assert top.source_id == "034-usagov-getting-or-renewing-a-passport.md"
    assert top.rank == 1
    assert top.score > 0
    assert top.version == 1
    assert top.content_hash == document.content_hash
    assert top.title == "Getting or Renewing a U.S. Passport"
    assert top.source_url == "https://www.usa.gov/passport"
    assert top.section_path[0] == "Getting or Renewing a U.S. Passport"
    assert top.chunk_id in {chunk.chunk_id for chunk in document.chunks}
    assert [chunk.rank for chunk in found] == list(range(1, len(found) + 1))


def test_bad_queries_are_refused(index: DocumentIndex) -> None:
    with pytest.raises(ValueError, match="query is empty"):
        index.retrieve("   ", tenant="agency-a", clearance=None)
    with pytest.raises(ValueError, match="limit must be at least 1, got 0"):
        index.retrieve("passport", tenant="agency-a", clearance=None, limit=0)


def test_edited_document_replaces_old_chunks(tmp_path: Path, embedder: ChunkEmbedder) -> None:
    old = ["The Riverside permit office closes at 5 pm on Fridays.", "Bring form RP-7."]
    new = ["The Riverside permit office closes at 3 pm on Fridays.", "Bring form RP-9."]
    index = DocumentIndex.open(tmp_path, embedder=embedder)

    first = index.index_document(make_document(tenant="t", source_id="hours", paragraphs=old))
    second = index.index_document(make_document(tenant="t", source_id="hours", paragraphs=new))

    assert (first.version, second.version) == (1, 2)
    assert second.status == "indexed"
    assert second.retired_chunks == 2
    assert [record.version for record in index.catalog.versions("t", "hours")] == [1, 2]
    assert index.store.count("t") == 2
    for mode in MODES:
        for question in ("when does the permit office close on Fridays", "form RP-7", "5 pm"):
            found = index.retrieve(question, tenant="t", clearance=None, limit=10, mode=mode)
            assert all(chunk.version == 2 for chunk in found)
            assert all("5 pm" not in chunk.text and "RP-7" not in chunk.text for chunk in found)

    # Reopening rebuilds the keyword index from storage, without the old version.
    index.close()
    reopened = DocumentIndex.open(tmp_path, embedder=embedder)
    found = reopened.retrieve("RP-7 5 pm", tenant="t", clearance=None, limit=10, mode="keyword")
    assert all("RP-7" not in chunk.text for chunk in found)
    again = reopened.index_document(make_document(tenant="t", source_id="hours", paragraphs=new))
    assert again.status == "unchanged"
    assert again.version == 2
    reopened.close()


def test_stale_version_number_from_ingestion_is_raised(
    tmp_path: Path, embedder: ChunkEmbedder
) -> None:
    index = DocumentIndex.open(tmp_path, embedder=embedder)
    index.index_document(make_document(tenant="t", source_id="d", paragraphs=["one"], version=3))

    # An ingestion that lost its catalog says version 1 again; the indexer moves forward.
    outcome = index.index_document(
        make_document(tenant="t", source_id="d", paragraphs=["two"], version=1)
    )
    assert outcome.version == 4
    index.close()
