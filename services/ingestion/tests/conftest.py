"""Shared fixtures: the real corpus and a tokenizer identical to the embedding model's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from steward_ingestion import WordPieceCounter

CORPUS = Path(os.environ.get("STEWARD_CORPUS", Path(__file__).parents[4] / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus_files() -> list[Path]:
    """Every document of the shared test corpus."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    files = sorted(path for path in CORPUS.glob("*.md") if path.name != "README.md")
    assert len(files) == 50
    return files


@pytest.fixture(scope="session")
def counter() -> WordPieceCounter:
    """The word-piece counter ingestion uses by default."""
    return WordPieceCounter.for_embedding_model()


def build_pdf(page_texts: list[str]) -> bytes:
    """Write a minimal valid PDF with one line of Helvetica text per page."""
    objects: list[bytes] = []
    page_ids = [4 + 2 * index for index in range(len(page_texts))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{page_id} 0 R" for page_id in page_ids).encode()
    objects.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_texts))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for page_id, text in zip(page_ids, page_texts, strict=True):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_id + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")

    output = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    table_at = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    output += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    output += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    output += b"startxref\n%d\n%%%%EOF\n" % table_at
    return bytes(output)


@pytest.fixture
def pdf_bytes() -> bytes:
    """A two-page PDF about permits."""
    return build_pdf(
        [
            "Construction sites that disturb one acre need a stormwater permit.",
            "Small sites may qualify for a rainfall erosivity waiver instead.",
        ]
    )
