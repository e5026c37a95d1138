"""Ingestion and the indexer on the real broker: documents in, scoped passages out."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from steward_bus import BusSettings
from steward_cli.ingest import Outcome, collect_documents, ingest_documents
from steward_events import (
    DocumentChunked,
    DocumentIndexed,
    DocumentRejected,
    InputVerdict,
    RetrievalCompleted,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

CORPUS_TENANT = "corpus-agency"


def _bus(pipeline: Any) -> BusSettings:
    return BusSettings(**pipeline.ingestion.model_dump(include=set(BusSettings.model_fields)))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def corpus_outcomes(pipeline: Any, corpus: Path) -> list[Outcome]:
    """The whole shared corpus ingested once through `steward ingest`'s own code."""
    return await ingest_documents(
        _bus(pipeline), collect_documents([corpus]), tenant=CORPUS_TENANT, idle_timeout=300
    )


async def test_the_whole_corpus_ends_indexed_or_rejected_with_a_reason(
    corpus_outcomes: list[Outcome], corpus: Path
) -> None:
    statuses = {outcome.source_id: outcome.status for outcome in corpus_outcomes}

    assert len(statuses) == len(collect_documents([corpus]))
    assert set(statuses.values()) <= {"indexed", "rejected"}
    for outcome in corpus_outcomes:
        if outcome.status == "rejected":
            assert outcome.detail, outcome
        else:
            assert (outcome.version, outcome.chunks and outcome.chunks > 0) == (1, True)
    # Every one of the fifty documents is clean Markdown: all of them are indexed.
    assert sum(status == "indexed" for status in statuses.values()) >= 50


async def test_reingesting_the_corpus_creates_no_new_version(
    pipeline: Any, corpus_outcomes: list[Outcome], corpus: Path
) -> None:
    chunks_before = pipeline.indexer_app.index.store.count(CORPUS_TENANT)

    again = await ingest_documents(
        _bus(pipeline), collect_documents([corpus]), tenant=CORPUS_TENANT, idle_timeout=300
    )

    first = {o.source_id: o for o in corpus_outcomes if o.status == "indexed"}
    assert {o.source_id for o in again if o.status == "unchanged"} == set(first)
    for outcome in again:
        if outcome.source_id in first:
            assert (outcome.version, outcome.chunks) == (1, first[outcome.source_id].chunks)
    catalog = pipeline.indexer_app.index.catalog
    assert all(len(catalog.versions(CORPUS_TENANT, source)) == 1 for source in first)
    assert pipeline.indexer_app.index.store.count(CORPUS_TENANT) == chunks_before


async def test_a_spanish_question_retrieves_spanish_passages(
    pipeline: Any, corpus_outcomes: list[Outcome]
) -> None:
    completed = await pipeline.retrieved(
        "¿Cómo puedo saber el estado de mi reembolso de impuestos?",
        tenant=CORPUS_TENANT,
        language="es",
    )

    assert 3 <= len(completed.passages) <= 4
    assert completed.passages[0].language == "es"
    assert "reembolso" in completed.passages[0].text.lower()
    assert sum(passage.language == "es" for passage in completed.passages) >= 3
    assert (completed.method, completed.language) == ("hybrid-rrf", "es")


async def test_a_retrieval_carries_the_request_and_cites_exact_versions(
    pipeline: Any, corpus_outcomes: list[Outcome]
) -> None:
    correlation = await pipeline.ask(
        "How do I check the status of my federal tax refund?", tenant=CORPUS_TENANT
    )
    [completed] = await pipeline.wait_for(correlation, RetrievalCompleted)

    data = completed.data
    assert completed.tenant == CORPUS_TENANT
    assert completed.causationid is not None
    assert (data.channel, data.subject, data.training_consent) == ("chat", "subject-0001", True)
    assert data.clearance is None
    assert data.policy.policy_id == "test-policy"
    assert data.embedding_model.endswith("all-MiniLM-L6-v2")
    top = data.passages[0]
    assert "refund" in top.text.lower()
    assert top.document_version == 1
    assert len(top.content_hash) == 64
    assert top.title and top.source_url and top.source_url.startswith("https://")
    assert top.classification == "public"
    assert [p.score for p in data.passages] == sorted(
        (p.score for p in data.passages), reverse=True
    )


async def test_only_passing_questions_are_answered_with_passages(pipeline: Any) -> None:
    blocked = await pipeline.ask(
        "How do I check my refund?", tenant=CORPUS_TENANT, verdict=InputVerdict.BLOCK
    )
    passing = await pipeline.ask("How do I check my refund?", tenant=CORPUS_TENANT)

    # Records of one topic are handled in order per key; the passing one answered means the
    # blocked one was seen and skipped.
    await pipeline.wait_for(passing, RetrievalCompleted)
    assert pipeline.of(blocked, RetrievalCompleted) == []


async def test_an_edited_document_replaces_its_old_chunks(pipeline: Any) -> None:
    tenant = "edit-agency"
    old = "# Riverside permit office\n\nThe Riverside permit office closes at 4 pm on Fridays."
    new = "# Riverside permit office\n\nThe Riverside permit office closes at 6 pm on Fridays."

    first = await pipeline.outcome(
        await pipeline.submit("hours.md", tenant=tenant, content=old, filename="hours.md")
    )
    second = await pipeline.outcome(
        await pipeline.submit("hours.md", tenant=tenant, content=new, filename="hours.md")
    )

    assert (first.data.version, first.data.unchanged) == (1, False)
    assert (second.data.version, second.data.retired_versions) == (2, [1])
    assert second.data.document_id == first.data.document_id
    assert pipeline.indexer_app.index.store.count(tenant) == second.data.chunk_count
    completed = await pipeline.retrieved(
        "When does the Riverside permit office close on Fridays?", tenant=tenant
    )
    texts = [passage.text for passage in completed.passages]
    assert any("6 pm" in text for text in texts)
    assert not any("4 pm" in text for text in texts)
    assert {passage.document_version for passage in completed.passages} == {2}


async def test_a_tenant_never_retrieves_another_tenants_chunks(pipeline: Any) -> None:
    own = await pipeline.outcome(
        await pipeline.submit(
            "parking.md",
            tenant="tenant-a",
            content="# Parking\n\nResidents of tenant A renew parking permits every year.",
        )
    )
    other = await pipeline.outcome(
        await pipeline.submit(
            "zebra.md",
            tenant="tenant-b",
            content="# Zebra crossings\n\nThe zebra crossing licence fee is 85 dollars a year.",
        )
    )

    asked_by_a = await pipeline.retrieved(
        "What is the zebra crossing licence fee?", tenant="tenant-a"
    )
    asked_by_b = await pipeline.retrieved(
        "What is the zebra crossing licence fee?", tenant="tenant-b"
    )

    assert other.data.document_id not in {p.document_id for p in asked_by_a.passages}
    assert {p.document_id for p in asked_by_a.passages} <= {own.data.document_id}
    assert not any("zebra" in p.text.lower() for p in asked_by_a.passages)
    assert asked_by_b.passages[0].document_id == other.data.document_id


async def test_a_public_caller_never_sees_an_internal_chunk(pipeline: Any) -> None:
    tenant = "clearance-agency"
    public = await pipeline.outcome(
        await pipeline.submit(
            "public.md",
            tenant=tenant,
            content="# Office hours\n\nThe licensing counter opens at 9 am on weekdays.",
        )
    )
    internal = await pipeline.outcome(
        await pipeline.submit(
            "internal.md",
            tenant=tenant,
            classification="internal",
            content="# Staff escalation\n\nStaff escalate licensing fraud to desk 42 by phone.",
        )
    )
    question = "Where do staff escalate licensing fraud?"

    for clearance in (None, "public"):
        completed = await pipeline.retrieved(question, tenant=tenant, clearance=clearance)
        assert {p.document_id for p in completed.passages} <= {public.data.document_id}
        assert all(p.classification == "public" for p in completed.passages)
    staff = await pipeline.retrieved(question, tenant=tenant, clearance="internal")
    assert staff.passages[0].document_id == internal.data.document_id
    assert staff.passages[0].classification == "internal"


async def test_bad_files_are_rejected_with_reasons_and_the_next_document_is_indexed(
    pipeline: Any,
) -> None:
    tenant = "rejects-agency"
    huge = pipeline.inbox / "huge.md"
    with huge.open("wb") as handle:
        # A sparse file: 50 MB on paper, nothing written, refused before it is read.
        handle.truncate(50 * 1024 * 1024)
    outside = Path(os.devnull)
    submissions = {
        "corrupt.pdf": {
            "content_base64": base64.b64encode(b"%PDF-1.7\n1 0 obj << /Type /Cat").decode(),
            "filename": "corrupt.pdf",
        },
        "empty.md": {"content": "", "filename": "empty.md"},
        "huge.md": {"path": str(huge)},
        "blob.md": {
            "content_base64": base64.b64encode(bytes(range(256)) * 40).decode(),
            "filename": "blob.md",
        },
        "outside.md": {"path": str(outside)},
        "escape.md": {"path": str(pipeline.inbox / ".." / "secrets.md")},
    }
    correlations = {
        source: await pipeline.submit(source, tenant=tenant, **fields)
        for source, fields in submissions.items()
    }
    good = await pipeline.submit(
        "good.md", tenant=tenant, content="# Good\n\nThis document is fine and gets indexed."
    )

    rejected = {source: await pipeline.outcome(c) for source, c in correlations.items()}
    assert {source: event.data.reason.value for source, event in rejected.items()} == {
        "corrupt.pdf": "corrupt",
        "empty.md": "empty",
        "huge.md": "oversized",
        "blob.md": "unsupported",
        "outside.md": "unreadable",
        "escape.md": "unreadable",
    }
    assert all(event.type == DocumentRejected.spec.type for event in rejected.values())
    assert "52428800 bytes" in rejected["huge.md"].data.detail
    assert rejected["huge.md"].data.size_bytes == 50 * 1024 * 1024
    assert "binary" in rejected["blob.md"].data.detail
    assert "outside the folders" in rejected["outside.md"].data.detail
    assert "outside the folders" in rejected["escape.md"].data.detail
    assert rejected["corrupt.pdf"].data.filename == "corrupt.pdf"
    assert rejected["empty.md"].data.size_bytes == 0
    indexed = await pipeline.outcome(good)
    assert indexed.type == DocumentIndexed.spec.type
    assert pipeline.of(good, DocumentChunked)[0].data.chunks[0].text.startswith("This document")
    assert pipeline.indexer_app.service.stats.dead_lettered == {}
