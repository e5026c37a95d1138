"""Groundedness of an answer: each sentence checked against the retrieved passages."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from steward_guardrail.embedding import Embedder
from steward_guardrail.normalization import strip_accents

# Sentences end at end punctuation or a citation ("... [1] Next"), and at line breaks.
_SENTENCE = re.compile(r"(?<=[.!?\]])\s+(?=[\"'(¿¡A-ZÁÉÍÓÚÑ0-9\[])|\n+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_NUMBER = re.compile(r"(?<![\w.])\$?\d[\d,]*(?:\.\d+)?%?")
_CITATION = re.compile(r"\[\s*\d+(?:\s*[,-]\s*\d+)*\s*\]")
_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|can't|don't|doesn't|didn't|won't|isn't|aren't|wasn't|without"
    r"|nunca|jamas|tampoco|sin)\b|n't\b"
)
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "their",
        "they",
        "them",
        "you",
        "your",
        "we",
        "our",
        "i",
        "me",
        "my",
        "he",
        "she",
        "his",
        "her",
        "not",
        "no",
        "can",
        "could",
        "may",
        "might",
        "will",
        "would",
        "should",
        "must",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "so",
        "than",
        "then",
        "also",
        "about",
        "into",
        "over",
        "under",
        "more",
        "most",
        "such",
        "any",
        "all",
        "each",
        "other",
        "some",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "why",
        "how",
        "just",
        "only",
        "very",
        "too",
        "here",
        "up",
        "out",
        "el",
        "la",
        "los",
        "las",
        "un",
        "una",
        "unos",
        "unas",
        "y",
        "o",
        "u",
        "pero",
        "si",
        "de",
        "del",
        "al",
        "a",
        "en",
        "por",
        "para",
        "con",
        "sin",
        "sobre",
        "es",
        "son",
        "fue",
        "era",
        "ser",
        "estar",
        "esta",
        "este",
        "estos",
        "estas",
        "ese",
        "esa",
        "eso",
        "lo",
        "le",
        "les",
        "se",
        "su",
        "sus",
        "mi",
        "mis",
        "tu",
        "tus",
        "que",
        "como",
        "cuando",
        "donde",
        "quien",
        "cual",
        "mas",
        "muy",
        "tambien",
        "ya",
        "no",
        "ni",
        "hay",
        "puede",
        "pueden",
        "debe",
        "deben",
        "tiene",
    ]
)


def negated(text: str) -> bool:
    """Tell whether a sentence carries an odd number of negations (its polarity is negative)."""
    return len(_NEGATION.findall(strip_accents(text).lower())) % 2 == 1


def split_sentences(text: str) -> list[str]:
    """Split text into sentences on end punctuation and line breaks."""
    return [piece.strip() for piece in _SENTENCE.split(text) if piece and piece.strip()]


def content_stems(text: str) -> set[str]:
    """Return crude stems of the content words in a text (accent-free, 6-letter prefixes)."""
    words = _WORD.findall(strip_accents(text).lower())
    return {word[:6] for word in words if word not in _STOPWORDS and len(word) > 2}


def numbers_in(text: str) -> set[str]:
    """Return the numbers a text states, without currency signs or thousands separators."""
    found = set()
    for match in _NUMBER.finditer(_CITATION.sub(" ", text)):
        value = match.group(0).lstrip("$").rstrip("%").replace(",", "")
        if value.endswith(".00"):
            value = value[:-3]
        found.add(value.rstrip("."))
    return found


@dataclass(frozen=True)
class SentenceSupport:
    """How well one answer sentence is supported by the passages."""

    index: int
    support: float
    similarity: float
    overlap: float
    unsupported_numbers: tuple[str, ...]


@dataclass(frozen=True)
class GroundingReport:
    """The groundedness of a whole answer and of each of its sentences."""

    score: float
    sentences: tuple[SentenceSupport, ...]


class GroundingChecker:
    """Scores answer sentences by meaning (embeddings), wording and numbers against passages."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        floor: float = 0.25,
        ceiling: float = 0.75,
        max_units: int = 12,
        max_unit_chars: int = 240,
    ) -> None:
        self._embedder = embedder
        self._max_units = max_units
        self._max_unit_chars = max_unit_chars
        self._floor = floor
        self._ceiling = ceiling

    def _candidate_units(self, sentences: list[str], units: list[str]) -> list[str]:
        """Keep the passage sentences sharing most words with the answer, to bound latency."""
        # LIMITATION: a supporting sentence with no word in common with the answer is dropped.
        # Very long "sentences" (lists run together) are cut: embedding cost grows with length.
        units = [unit[: self._max_unit_chars] for unit in units]
        if len(units) <= self._max_units:
            return units
        answer_stems = content_stems(" ".join(sentences))
        ranked = sorted(
            range(len(units)),
            key=lambda index: -len(content_stems(units[index]) & answer_stems),
        )
        keep = sorted(ranked[: self._max_units])
        return [units[index] for index in keep]

    def assess(self, sentences: list[str], passages: list[str], language: str) -> GroundingReport:
        """Score each claim sentence, then the answer as a blend of the mean and the weakest."""
        # Only sentences that state something are checked; a lone "[1]" is not a claim.
        claims = [
            (index, _CITATION.sub("", sentence).strip())
            for index, sentence in enumerate(sentences)
        ]
        claims = [(index, text) for index, text in claims if content_stems(text)]

        # An answer made only of questions states nothing: a small model often echoes the
        # citizen's question, which shares every word with the passages it was retrieved by.
        if all(text.endswith("?") for _, text in claims):
            claims = []
        if not claims:
            return GroundingReport(0.0, ())
        units = [unit for passage in passages for unit in split_sentences(passage)]
        units = self._candidate_units([text for _, text in claims], units)
        if not units:
            empty = tuple(SentenceSupport(index, 0.0, 0.0, 0.0, ()) for index, _ in claims)
            return GroundingReport(0.0, empty)

        # One embedding batch for answer sentences and passage sentences together.
        clean = [text for _, text in claims]
        vectors = self._embedder.embed([text[: self._max_unit_chars] for text in clean] + units)
        similarity = vectors[: len(clean)] @ vectors[len(clean) :].T
        passage_stems = [content_stems(passage) for passage in passages]
        passage_numbers = set().union(*(numbers_in(passage) for passage in passages))
        unit_stems = [content_stems(unit) for unit in units]
        unit_negated = [negated(unit) for unit in units]

        # The model reads English only, so Spanish leans on word overlap.
        meaning_weight = 0.55 if language == "en" else 0.2
        supports = []
        for position, (index, sentence) in enumerate(claims):
            stems = content_stems(sentence)
            overlap = max(len(stems & known) / len(stems) for known in passage_stems)
            best = float(np.max(similarity[position]))
            meaning = min(1.0, max(0.0, (best - self._floor) / (self._ceiling - self._floor)))
            support = meaning_weight * meaning + (1.0 - meaning_weight) * overlap

            # A number the passages never state is a fabrication risk, however fluent.
            missing = tuple(sorted(numbers_in(sentence) - passage_numbers))
            if missing:
                support *= 0.3

            # LIMITATION: swapped terms ("state" for "federal") keep overlap high; NLI would help.
            # The closest passage sentence saying the opposite ("must" vs "do not need to").
            closest = int(
                np.argmax(
                    [
                        similarity[position, unit] + len(stems & unit_stems[unit]) / len(stems)
                        for unit in range(len(units))
                    ]
                )
            )
            if negated(sentence) != unit_negated[closest]:
                support *= 0.4
            supports.append(
                SentenceSupport(
                    index, round(support, 4), round(best, 4), round(overlap, 4), missing
                )
            )

        values = [item.support for item in supports]
        score = 0.5 * float(np.mean(values)) + 0.5 * min(values)
        return GroundingReport(round(score, 4), tuple(supports))
