"""Each supported format parses into heading-aware chunks with the right metadata."""

from __future__ import annotations

from steward_ingestion import (
    ChunkingPolicy,
    DocumentFormat,
    DocumentSubmission,
    InMemoryDocumentCatalog,
    PreparedDocument,
    Rejection,
    WordPieceCounter,
    detect_language,
    prepare_document,
)
from steward_ingestion._normalising import normalise_text


def _prepared(**fields: object) -> PreparedDocument:
    submission = DocumentSubmission.model_validate(
        {"tenant": "agency-a", "source_id": "s1", **fields}
    )
    result = prepare_document(submission, catalog=InMemoryDocumentCatalog())
    assert isinstance(result, PreparedDocument), result
    return result


def test_pdf_text_is_extracted_page_by_page(pdf_bytes: bytes) -> None:
    document = _prepared(content=pdf_bytes, filename="permits.pdf")
    assert document.format is DocumentFormat.PDF
    assert [chunk.section_path for chunk in document.chunks] == [("Page 1",), ("Page 2",)]
    assert "stormwater permit" in document.chunks[0].text
    assert "erosivity waiver" in document.chunks[1].text
    assert document.language == "en"


def test_pdf_is_recognised_by_its_magic_bytes(pdf_bytes: bytes) -> None:
    assert _prepared(content=pdf_bytes).format is DocumentFormat.PDF


def test_html_headings_tables_and_chrome() -> None:
    page = b"""<!DOCTYPE html><html><head><title>Air permits</title>
    <script>var tracking = "do not index";</script><style>p {color: red}</style></head>
    <body><nav>Home | Menu</nav><h1>Air permits</h1><p>Some sites need&nbsp;a permit.</p>
    <h2>Thresholds</h2><table><tr><th>Pollutant</th><th>Tons per year</th></tr>
    <tr><td>Lead</td><td>0.3</td></tr><tr><td>Total HAPs</td><td></td></tr>
    <tr><td>Notes</td><td><ul><li>first</li><li>second</li></ul></td></tr></table>
    <h2>Apply</h2><ul><li>Fill in the form</li><li>Pay the fee</li></ul>
    <footer>Contact us</footer></body></html>"""
    document = _prepared(content=page, filename="air.html")

    assert document.format is DocumentFormat.HTML
    assert document.title == "Air permits"
    text = "\n".join(chunk.text for chunk in document.chunks)
    assert "do not index" not in text
    assert "Menu" not in text
    assert "Contact us" not in text
    assert "Some sites need a permit." in text
    assert "Pollutant: Lead; Tons per year: 0.3" in text
    assert "Pollutant: Total HAPs" in text
    assert "Tons per year: first; second" in text
    paths = {chunk.section_path for chunk in document.chunks}
    assert ("Air permits", "Thresholds") in paths
    assert ("Air permits", "Apply") in paths


def test_plain_text_with_declared_metadata() -> None:
    text = "Renueve su pasaporte por correo.\n\nNecesita el formulario DS-82 y una foto reciente."
    document = _prepared(
        content=text.encode(),
        filename="pasaporte.txt",
        title="Pasaportes",
        source_url="https://example.gov/pasaportes",
        classification="internal",
    )
    assert document.format is DocumentFormat.TEXT
    assert document.language == "es"
    assert document.title == "Pasaportes"
    assert document.classification == "internal"
    assert document.chunks[0].embedding_text.startswith("Pasaportes\n")


def test_declared_language_wins_over_detection() -> None:
    document = _prepared(content=b"Hello, this is plainly English text.", language="fr")
    assert document.language == "fr"


def test_classification_change_makes_a_new_version() -> None:
    catalog = InMemoryDocumentCatalog()
    public = DocumentSubmission(tenant="a", source_id="s", content=b"Office hours are 9 to 5.")
    internal = public.model_copy(update={"classification": "internal"})
    first = prepare_document(public, catalog=catalog)
    second = prepare_document(internal, catalog=catalog)
    assert isinstance(first, PreparedDocument)
    assert isinstance(second, PreparedDocument)
    assert (first.version, second.version) == (1, 2)
    assert second.changed
    assert second.content_hash == first.content_hash


def test_markdown_code_fences_do_not_open_sections() -> None:
    content = b"# Guide\n\nIntro text.\n\n```\n# not a heading\n```\n\n## Real section\n\nBody."
    document = _prepared(content=content, filename="g.md")
    paths = [chunk.section_path for chunk in document.chunks]
    assert paths == [("Guide",), ("Guide", "Real section")]
    assert "# not a heading" in document.chunks[0].text


def test_oversized_paragraph_and_huge_words_are_split_to_fit(counter: WordPieceCounter) -> None:
    policy = ChunkingPolicy(max_tokens=64, overlap_tokens=8, max_context_tokens=16)
    sentence = "The permit applies to every site that discharges pollutants into waters. "
    url = "https://example.gov/" + "verylongsegment" * 80
    content = (sentence * 40 + url).encode()
    submission = DocumentSubmission(tenant="a", source_id="s", content=content, filename="a.txt")
    result = prepare_document(submission, catalog=InMemoryDocumentCatalog(), policy=policy)

    assert isinstance(result, PreparedDocument)
    assert len(result.chunks) > 10
    counts = counter.count_many([chunk.embedding_text for chunk in result.chunks])
    assert max(counts) <= 64 - 2
    assert "verylongsegment" in result.chunks[-1].text


def test_normalisation_folds_unicode_and_whitespace() -> None:
    raw = "\uff34\uff41\uff58\u00a0\u00a0forms\u200b are \ufb01led\r\n\r\n\r\n\r\nnext\tline  "
    assert normalise_text(raw) == "Tax forms are filed\n\nnext line"


def test_language_detection_for_english_and_spanish() -> None:
    assert detect_language("Where is my tax refund and when will it arrive?") == "en"
    assert detect_language("¿Dónde está mi reembolso de impuestos y cuándo llegará?") == "es"
    assert detect_language("123 456") == "und"


def test_unrecognised_front_matter_is_kept_as_text() -> None:
    content = b"---\n: not: valid: yaml: [\n---\n\nBody text here."
    result = prepare_document(
        DocumentSubmission(tenant="a", source_id="s", content=content, filename="a.md"),
        catalog=InMemoryDocumentCatalog(),
    )
    assert not isinstance(result, Rejection)
    assert result.metadata == {}
    assert "Body text here." in result.chunks[-1].text
