"""Retrieval evaluation: hit@1, hit@5 and MRR of dense, keyword and hybrid retrieval."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from steward_indexer._index import DocumentIndex
from steward_indexer._models import RetrievalMode
from steward_indexer.corpus import DEFAULT_CORPUS, chunk_corpus

QUESTIONS = Path(__file__).resolve().parents[2] / "eval" / "questions.json"
MODES: tuple[RetrievalMode, ...] = ("dense", "keyword", "hybrid")
TENANT = "evaluation"
DEPTH = 10


@dataclass(frozen=True)
class Question:
    """A citizen question and the corpus files that answer it."""

    id: str
    kind: str
    question: str
    answers: frozenset[str]
    all_needed: frozenset[str]


@dataclass
class Scores:
    """Accumulated ranking figures for one retrieval mode."""

    hits_at_1: int = 0
    hits_at_5: int = 0
    reciprocal_ranks: float = 0.0
    questions: int = 0
    complete_at_10: int = 0
    multi_questions: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, question: Question, sources: list[str]) -> None:
        """Score one ranked list of source files against a question's answers."""
        first = next((n for n, source in enumerate(sources, 1) if source in question.answers), 0)
        self.questions += 1
        self.hits_at_1 += first == 1
        self.hits_at_5 += 0 < first <= 5
        self.reciprocal_ranks += 1.0 / first if first else 0.0
        if not 0 < first <= 5:
            self.misses.append(question.id)
        if question.all_needed:
            self.multi_questions += 1
            self.complete_at_10 += question.all_needed <= set(sources[:DEPTH])

    def row(self) -> tuple[float, float, float]:
        """Return hit@1, hit@5 and MRR."""
        total = max(self.questions, 1)
        return self.hits_at_1 / total, self.hits_at_5 / total, self.reciprocal_ranks / total


def load_questions(path: Path) -> list[Question]:
    """Read the question set from its JSON file."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [
        Question(
            id=item["id"],
            kind=item["kind"],
            question=item["question"],
            answers=frozenset(item["answers"]),
            all_needed=frozenset(item.get("all_needed", ())),
        )
        for item in raw["questions"]
    ]


def main(argv: list[str] | None = None) -> int:
    """Index the corpus, ask every question in every mode and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m steward_indexer.evaluate")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--target", type=float, default=0.9, help="hybrid hit@5 to reach")
    parser.add_argument("--verbose", action="store_true", help="print each miss")
    arguments = parser.parse_args(argv)

    # Chunk and index the corpus in a throwaway local-mode folder.
    questions = load_questions(arguments.questions)
    documents = chunk_corpus(arguments.corpus, tenant=TENANT)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="steward-eval-") as folder:
        index = DocumentIndex.open(Path(folder))
        index.index_documents(documents)
        chunk_count = index.store.count(TENANT)
        indexed_in = time.perf_counter() - started

        # Ask every question in every mode and score the source files of the ranked chunks.
        scores = {mode: Scores() for mode in MODES}
        by_kind: dict[str, Scores] = {}
        for question in questions:
            for mode in MODES:
                found = index.retrieve(
                    question.question, tenant=TENANT, clearance=None, limit=DEPTH, mode=mode
                )
                sources = [chunk.source_id for chunk in found]
                scores[mode].add(question, sources)
                if mode == "hybrid":
                    by_kind.setdefault(question.kind, Scores()).add(question, sources)
                    if arguments.verbose and question.id in scores[mode].misses:
                        print(f"  miss {question.id} {question.question!r}: {sources[:5]}")

    print(
        f"corpus: {len(documents)} documents, {chunk_count} chunks (indexed in "
        f"{indexed_in:.1f} s); questions: {len(questions)}"
    )
    print(f"{'mode':<10}{'hit@1':>8}{'hit@5':>8}{'MRR':>8}  misses@5")
    for mode in MODES:
        hit1, hit5, mrr = scores[mode].row()
        misses = " ".join(scores[mode].misses) or "-"
        print(f"{mode:<10}{hit1:>8.3f}{hit5:>8.3f}{mrr:>8.3f}  {misses}")
    print("hybrid by kind:")
    for kind, kind_scores in sorted(by_kind.items()):
        hit1, hit5, mrr = kind_scores.row()
        print(
            f"  {kind:<11}n={kind_scores.questions:<3}"
            f"hit@1 {hit1:.3f}  hit@5 {hit5:.3f}  MRR {mrr:.3f}"
        )
    hybrid = scores["hybrid"]
    print(
        f"multi-document questions with every needed document in the top {DEPTH}: "
        f"{hybrid.complete_at_10}/{hybrid.multi_questions}"
    )

    reached = hybrid.row()[1] >= arguments.target
    print(f"target hybrid hit@5 >= {arguments.target}: {'met' if reached else 'NOT met'}")
    return 0 if reached else 1


if __name__ == "__main__":
    sys.exit(main())
