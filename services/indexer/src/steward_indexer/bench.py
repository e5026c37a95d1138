"""Indexing throughput against a bare encode, and retrieval latency at 1k and 20k chunks."""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from steward_indexer._embedding import ChunkEmbedder
from steward_indexer._index import DocumentIndex
from steward_indexer.corpus import DEFAULT_CORPUS, chunk_corpus
from steward_indexer.evaluate import QUESTIONS, load_questions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from steward_indexer._models import ChunkedDocument

TENANT = "bench"


class _ReplayEmbedder:
    """Serve stored vectors for known passages and embed anything else with the model."""

    def __init__(self, model: ChunkEmbedder, known: dict[str, NDArray[np.float32]]) -> None:
        self._model = model
        self._known = known

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return stored vectors where there are some, fresh ones otherwise."""
        if all(text in self._known for text in texts):
            return (
                np.stack([self._known[text] for text in texts]) if texts else self._model.embed([])
            )
        return self._model.embed(texts)


def _copies(documents: list[ChunkedDocument], count: int) -> list[ChunkedDocument]:
    """Return renamed copies of the corpus so the index can grow past its real size."""
    copies: list[ChunkedDocument] = []
    for copy in range(1, count + 1):
        for document in documents:
            chunks = tuple(
                chunk.model_copy(
                    update={
                        "chunk_id": f"{copy:08x}{chunk.chunk_id.replace('-', '')[8:]}",
                        "embedding_text": f"{chunk.embedding_text}\ncopy {copy}",
                    }
                )
                for chunk in document.chunks
            )
            copies.append(
                document.model_copy(
                    update={
                        "source_id": f"copy{copy}-{document.source_id}",
                        "document_id": f"copy{copy}-{document.document_id}",
                        "chunks": chunks,
                    }
                )
            )
    return copies


def _bare_encode(embedder: ChunkEmbedder, texts: list[str]) -> NDArray[np.float32]:
    """Encode passages with the model alone, exactly as the indexer asks it to."""
    vectors = embedder.model.encode(
        texts, batch_size=embedder.batch_size, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)


def _latencies(index: DocumentIndex, questions: list[str], rounds: int) -> dict[str, list[float]]:
    """Time retrieve() per mode over every question, several rounds, after a warm-up."""
    for question in questions[:5]:
        index.retrieve(question, tenant=TENANT, clearance=None)
    timings: dict[str, list[float]] = {"dense": [], "keyword": [], "hybrid": []}
    for _ in range(rounds):
        for question in questions:
            for mode, samples in timings.items():
                started = time.perf_counter()
                index.retrieve(question, tenant=TENANT, clearance=None, mode=mode)  # type: ignore[arg-type]
                samples.append((time.perf_counter() - started) * 1000)
    return timings


def _report_latency(label: str, chunks: int, timings: dict[str, list[float]]) -> None:
    for mode, samples in timings.items():
        ordered = sorted(samples)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        p50 = statistics.median(ordered)
        print(
            f"retrieval {label} ({chunks} chunks) {mode:<8} p50 {p50:7.1f} ms"
            f"  p99 {p99:7.1f} ms  (n={len(ordered)})"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the indexing and retrieval benchmarks and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m steward_indexer.bench")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--large", type=int, default=20_000, help="chunks for the large index")
    parser.add_argument("--rounds", type=int, default=4, help="passes over the question set")
    parser.add_argument("--target", type=float, default=0.85, help="throughput ratio to reach")
    parser.add_argument("--group", type=int, default=10, help="documents per timed turn")
    parser.add_argument("--throughput-only", action="store_true", help="skip the latency runs")
    arguments = parser.parse_args(argv)

    # Chunk the corpus and warm the model so neither run pays for loading.
    documents = chunk_corpus(arguments.corpus, tenant=TENANT)
    texts = [chunk.embedding_text for document in documents for chunk in document.chunks]
    embedder = ChunkEmbedder()
    embedder.embed(texts[:64])
    questions = [question.question for question in load_questions(QUESTIONS)]

    # Bare encode and indexer take turns on groups of documents, alternating which goes
    # first, so load from other processes on a shared machine hits both alike.
    bare_seconds = indexer_seconds = 0.0
    vector_parts = []
    with tempfile.TemporaryDirectory(prefix="steward-bench-") as folder:
        index = DocumentIndex.open(Path(folder), embedder=embedder)
        for turn, start in enumerate(range(0, len(documents), arguments.group)):
            group = documents[start : start + arguments.group]
            group_texts = [chunk.embedding_text for document in group for chunk in document.chunks]
            for step in (0, 1) if turn % 2 == 0 else (1, 0):
                started = time.perf_counter()
                if step == 0:
                    vector_parts.append(_bare_encode(embedder, group_texts))
                    bare_seconds += time.perf_counter() - started
                else:
                    index.index_documents(group)
                    indexer_seconds += time.perf_counter() - started
        vectors = np.concatenate(vector_parts)
        bare = len(texts) / bare_seconds
        indexed = len(texts) / indexer_seconds
        ratio = indexed / bare
        print(f"indexing: {len(texts)} chunks from {len(documents)} documents")
        print(f"  bare model.encode   {bare:8.1f} chunks/s")
        print(f"  indexer             {indexed:8.1f} chunks/s (embed + Qdrant upsert + BM25)")
        print(f"  ratio               {ratio:8.3f} (target >= {arguments.target})")
        if arguments.throughput_only:
            index.close()
            return 0 if ratio >= arguments.target else 1

        # Retrieval at the corpus' own size (about 1k chunks).
        timings = _latencies(index, questions, arguments.rounds)
        _report_latency("1k", index.store.count(TENANT), timings)
        index.close()

    # Retrieval at about 20k chunks: renamed copies reuse the vectors already computed.
    copies = _copies(documents, max(0, math.ceil(arguments.large / len(texts)) - 1))
    known = {
        chunk.embedding_text: vectors[position % len(texts)]
        for position, chunk in enumerate(c for d in copies for c in d.chunks)
    }
    with tempfile.TemporaryDirectory(prefix="steward-bench-") as folder:
        index = DocumentIndex.open(Path(folder), embedder=_ReplayEmbedder(embedder, known))
        index.index_documents(documents)
        started = time.perf_counter()
        for start in range(0, len(copies), 50):
            index.index_documents(copies[start : start + 50])
        grown = time.perf_counter() - started
        print(f"  (grew the large index by {len(known)} stored vectors in {grown:.1f} s)")
        timings = _latencies(index, questions, arguments.rounds)
        _report_latency("20k", index.store.count(TENANT), timings)
        index.close()

    return 0 if ratio >= arguments.target else 1


if __name__ == "__main__":
    sys.exit(main())
