"""Inputs ingestion must refuse, each with a reason a sender can act on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from steward_ingestion import (
    DocumentSubmission,
    IngestionLimits,
    InMemoryDocumentCatalog,
    PreparedDocument,
    Rejection,
    RejectionReason,
    prepare_document,
)


def _prepare(**fields: object) -> PreparedDocument | Rejection:
    submission = DocumentSubmission.model_validate(
        {"tenant": "agency-a", "source_id": "s1", **fields}
    )
    return prepare_document(submission, catalog=InMemoryDocumentCatalog())


def _rejection(result: PreparedDocument | Rejection) -> Rejection:
    assert isinstance(result, Rejection), result
    assert result.tenant == "agency-a"
    assert result.source_id == "s1"
    return result


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_bytes(b"")
    rejection = _rejection(_prepare(path=path))
    assert rejection.reason is RejectionReason.EMPTY
    assert "no content" in rejection.detail


def test_blank_file_is_rejected_as_empty() -> None:
    rejection = _rejection(_prepare(content=b" \n\t\n ", filename="blank.txt"))
    assert rejection.reason is RejectionReason.EMPTY


def test_markdown_with_only_front_matter_and_headings_is_empty() -> None:
    content = b"---\ntitle: Nothing\n---\n\n# Heading\n\n## Another\n"
    rejection = _rejection(_prepare(content=content, filename="hollow.md"))
    assert rejection.reason is RejectionReason.EMPTY
    assert "no text once parsed" in rejection.detail


def test_fifty_megabyte_file_is_rejected_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        # A sparse file: 50 MB on paper, so the test does not write 50 MB of disk.
        handle.truncate(50 * 1024 * 1024)
    rejection = _rejection(_prepare(path=path))
    assert rejection.reason is RejectionReason.OVERSIZED
    assert "52428800 bytes" in rejection.detail
    assert "limit is 20971520 bytes" in rejection.detail


def test_size_limit_is_configurable() -> None:
    submission = DocumentSubmission(
        tenant="agency-a", source_id="s1", content=b"word " * 300, filename="a.txt"
    )
    small = IngestionLimits(max_bytes=1000)
    rejection = prepare_document(submission, catalog=InMemoryDocumentCatalog(), limits=small)
    assert isinstance(rejection, Rejection)
    assert rejection.reason is RejectionReason.OVERSIZED
    accepted = prepare_document(submission, catalog=InMemoryDocumentCatalog())
    assert isinstance(accepted, PreparedDocument)


def test_binary_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(os.urandom(4096) + b"\x00" * 16)
    rejection = _rejection(_prepare(path=path))
    assert rejection.reason is RejectionReason.BINARY
    assert "binary" in rejection.detail


def test_binary_content_without_a_name_is_rejected() -> None:
    rejection = _rejection(_prepare(content=b"\x7fELF\x02\x01\x01\x00\x00\x00" * 50))
    assert rejection.reason is RejectionReason.BINARY


def test_corrupt_pdf_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nthis is not a pdf")
    rejection = _rejection(_prepare(path=path))
    assert rejection.reason is RejectionReason.CORRUPT_PDF
    assert "PDF" in rejection.detail


def test_truncated_pdf_is_rejected(pdf_bytes: bytes) -> None:
    rejection = _rejection(_prepare(content=pdf_bytes[: len(pdf_bytes) // 3], filename="t.pdf"))
    assert rejection.reason is RejectionReason.CORRUPT_PDF


def test_unsupported_extension_is_rejected() -> None:
    rejection = _rejection(_prepare(content=b"PK plain words here", filename="report.docx"))
    assert rejection.reason is RejectionReason.UNSUPPORTED_TYPE
    assert "'.docx'" in rejection.detail
    assert ".pdf" in rejection.detail


def test_unsupported_media_type_is_rejected() -> None:
    rejection = _rejection(_prepare(content=b"a,b\n1,2\n", media_type="text/csv"))
    assert rejection.reason is RejectionReason.UNSUPPORTED_TYPE
    assert "'text/csv'" in rejection.detail


def test_text_that_is_not_utf8_is_rejected_as_undecodable() -> None:
    content = "Declaración de impuestos para el año fiscal".encode("latin-1")
    rejection = _rejection(_prepare(content=content, filename="es.txt"))
    assert rejection.reason is RejectionReason.UNDECODABLE
    assert "not valid utf-8" in rejection.detail.lower()


def test_declared_charset_decodes_legacy_text() -> None:
    content = ("Declaración de impuestos para el año fiscal. " * 5).encode("latin-1")
    result = _prepare(content=content, filename="es.txt", charset="latin-1")
    assert isinstance(result, PreparedDocument)
    assert "Declaración" in result.chunks[0].text


def test_unknown_charset_is_rejected() -> None:
    rejection = _rejection(_prepare(content=b"hello there", filename="a.txt", charset="klingon"))
    assert rejection.reason is RejectionReason.UNDECODABLE
    assert "'klingon'" in rejection.detail


def test_missing_path_is_rejected_as_unreadable(tmp_path: Path) -> None:
    rejection = _rejection(_prepare(path=tmp_path / "absent.md"))
    assert rejection.reason is RejectionReason.UNREADABLE
    assert "absent.md" in rejection.detail


def test_submission_needs_exactly_one_content_source(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one of content or path"):
        DocumentSubmission(tenant="a", source_id="s")
    with pytest.raises(ValueError, match="exactly one of content or path"):
        DocumentSubmission(tenant="a", source_id="s", content=b"x", path=tmp_path)


def test_a_rejection_does_not_stop_the_next_document(corpus_files: list[Path]) -> None:
    catalog = InMemoryDocumentCatalog()
    bad = DocumentSubmission(tenant="a", source_id="bad", content=b"\x00\x01\x02" * 100)
    good = DocumentSubmission(tenant="a", source_id="good", path=corpus_files[0])
    assert isinstance(prepare_document(bad, catalog=catalog), Rejection)
    assert isinstance(prepare_document(good, catalog=catalog), PreparedDocument)
    assert catalog.latest("a", "bad") is None
