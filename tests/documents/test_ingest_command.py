"""`steward ingest` against the running services: front matter, progress, table, exit codes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from steward_cli.ingest import collect_documents, source_id_for, submission_for
from steward_cli.main import app
from steward_events import Classification
from typer.testing import CliRunner, Result

TENANT = "cli-agency"
GUIDE = """---
title: Staff guide to seller's permits
source_url: https://example.gov/staff/sellers-permits
language: en
classification: internal
owner: licensing
---

# Seller's permits

Staff verify the seller's permit number against the registry before approving a refund.
"""


def _folder(root: Path) -> Path:
    folder = root / "docs"
    (folder / "nested").mkdir(parents=True)
    (folder / "guide.md").write_text(GUIDE)
    (folder / "nested" / "hours.txt").write_text("The permit office opens at 8 am on weekdays.")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(2_000))
    (folder / ".draft.md").write_text("# Draft\n\nNot ready.")
    return folder


async def _invoke(pipeline: Any, *arguments: str) -> Result:
    """Run the command in a thread of its own, as a shell would, against the test's bus."""
    settings = pipeline.ingestion
    environment = {
        "STEWARD_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "STEWARD_DATABASE_URL": settings.database_url,
        "STEWARD_TOPIC_NAMESPACE": settings.topic_namespace,
        "STEWARD_OTEL_EXPORTER": "none",
    }
    runner = CliRunner()
    return await asyncio.to_thread(
        runner.invoke, app, ["ingest", *arguments], env=environment, catch_exceptions=False
    )


def test_files_get_stable_source_ids_and_front_matter_fields(tmp_path: Path) -> None:
    folder = _folder(tmp_path)

    documents = collect_documents([folder])
    guide = next(d for d in documents if d.source_id == "guide.md")
    submitted = submission_for(guide, None)

    assert sorted(d.source_id for d in documents) == ["guide.md", "nested/hours.txt", "photo.jpg"]
    assert [d.source_id for d in collect_documents([folder / "guide.md"])] == ["guide.md"]
    assert (submitted.title, submitted.source_url, submitted.language) == (
        "Staff guide to seller's permits",
        "https://example.gov/staff/sellers-permits",
        "en",
    )
    assert submitted.classification == "internal"
    assert submitted.metadata["owner"] == "licensing"
    # A looser flag never loosens the document's own marking; a stricter one wins.
    assert submission_for(guide, Classification.PUBLIC).classification == "internal"
    assert submission_for(guide, Classification.RESTRICTED).classification == "restricted"
    photo = next(d for d in documents if d.source_id == "photo.jpg")
    assert submission_for(photo, None).content_base64 is not None
    assert source_id_for(Path("My Docs/permit guide (2024).md")) == "My-Docs/permit-guide-2024-.md"
    assert len(source_id_for(Path("x" * 300 + ".md"))) <= 128


@pytest.mark.asyncio(loop_scope="session")
async def test_the_command_reports_each_document_and_exits_by_strictness(
    pipeline: Any, tmp_path: Path
) -> None:
    folder = _folder(tmp_path)

    first = await _invoke(pipeline, str(folder), "--tenant", TENANT)
    again = await _invoke(pipeline, str(folder), "--tenant", TENANT, "--strict")

    assert first.exit_code == 0, first.output
    assert "2 indexed, 0 unchanged, 1 rejected, 0 no answer" in first.output
    assert "unsupported" in first.output
    assert again.exit_code == 1, again.output
    assert "0 indexed, 2 unchanged, 1 rejected, 0 no answer" in again.output

    # The front matter's internal marking reached the index: citizens never see the guide.
    question = "How do staff verify a seller's permit number?"
    public = await pipeline.retrieved(question, tenant=TENANT)
    staff = await pipeline.retrieved(question, tenant=TENANT, clearance="internal")
    assert not any("registry" in p.text for p in public.passages)
    assert "registry" in staff.passages[0].text
    assert staff.passages[0].title == "Staff guide to seller's permits"
