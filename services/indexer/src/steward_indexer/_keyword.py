"""BM25 keyword scoring over one tenant's chunks, with statistics per classification."""

from __future__ import annotations

import difflib
import math
from collections import Counter
from dataclasses import dataclass, field

from steward_indexer._analysis import analyse

_K1 = 1.2
_B = 0.75
# A query word the index has never seen is matched to close spellings of known words.
_SPELLING_CUTOFF = 0.8
_SPELLING_CHOICES = 2
_SPELLING_MIN_LENGTH = 4


@dataclass
class _TenantTerms:
    postings: dict[str, dict[str, int]] = field(default_factory=dict)
    document_frequency: dict[str, Counter[str]] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)
    classification: dict[str, str] = field(default_factory=dict)
    terms: dict[str, Counter[str]] = field(default_factory=dict)
    chunk_count: Counter[str] = field(default_factory=Counter)
    total_length: Counter[str] = field(default_factory=Counter)
    vocabulary: list[str] | None = None


class KeywordIndex:
    """An in-memory inverted index per tenant, scored with BM25."""

    def __init__(self) -> None:
        self._tenants: dict[str, _TenantTerms] = {}

    def add(
        self,
        *,
        tenant: str,
        chunk_id: str,
        text: str,
        language: str,
        classification: str,
    ) -> None:
        """Index one chunk, replacing it if it is already there."""
        self.remove(tenant=tenant, chunk_id=chunk_id)
        terms = Counter(analyse(text, language))
        index = self._tenants.setdefault(tenant, _TenantTerms())

        for term, frequency in terms.items():
            index.postings.setdefault(term, {})[chunk_id] = frequency
            index.document_frequency.setdefault(term, Counter())[classification] += 1

        length = sum(terms.values())
        index.terms[chunk_id] = terms
        index.lengths[chunk_id] = length
        index.classification[chunk_id] = classification
        index.chunk_count[classification] += 1
        index.total_length[classification] += length
        index.vocabulary = None

    def remove(self, *, tenant: str, chunk_id: str) -> None:
        """Forget one chunk; unknown chunks are ignored."""
        index = self._tenants.get(tenant)
        if index is None or chunk_id not in index.terms:
            return

        classification = index.classification.pop(chunk_id)
        for term in index.terms.pop(chunk_id):
            postings = index.postings[term]
            del postings[chunk_id]
            index.document_frequency[term][classification] -= 1
            if not postings:
                del index.postings[term]
                del index.document_frequency[term]

        index.chunk_count[classification] -= 1
        index.total_length[classification] -= index.lengths.pop(chunk_id)
        index.vocabulary = None

    def __len__(self) -> int:
        return sum(len(index.terms) for index in self._tenants.values())

    def search(
        self,
        *,
        tenant: str,
        query: str,
        language: str,
        readable: tuple[str, ...],
        limit: int,
    ) -> list[tuple[str, float]]:
        """Return the best (chunk id, BM25 score) pairs among chunks the caller may read."""
        index = self._tenants.get(tenant)
        if index is None:
            return []

        # Statistics come only from readable chunks, so scores reveal nothing hidden.
        chunk_count = sum(index.chunk_count[level] for level in readable)
        if chunk_count == 0:
            return []
        average_length = sum(index.total_length[level] for level in readable) / chunk_count

        scores: dict[str, float] = {}
        for term in self._query_terms(index, query, language):
            frequency = sum(index.document_frequency[term][level] for level in readable)
            if frequency == 0:
                continue
            idf = math.log(1 + (chunk_count - frequency + 0.5) / (frequency + 0.5))
            for chunk_id, count in index.postings[term].items():
                if index.classification[chunk_id] not in readable:
                    continue
                norm = _K1 * (1 - _B + _B * index.lengths[chunk_id] / average_length)
                scores[chunk_id] = scores.get(chunk_id, 0.0) + idf * count * (_K1 + 1) / (
                    count + norm
                )

        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]

    def _query_terms(self, index: _TenantTerms, query: str, language: str) -> list[str]:
        """Analyse the query and replace unknown words with close known spellings."""
        terms: list[str] = []
        for term in dict.fromkeys(analyse(query, language)):
            if term in index.postings:
                terms.append(term)
            elif len(term) >= _SPELLING_MIN_LENGTH:
                if index.vocabulary is None:
                    index.vocabulary = sorted(index.postings)
                terms += difflib.get_close_matches(
                    term, index.vocabulary, n=_SPELLING_CHOICES, cutoff=_SPELLING_CUTOFF
                )
        return terms
