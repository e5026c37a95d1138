"""Guess whether a question is English or Spanish, the two languages of the corpus."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-záéíóúñü]+")

# Function words are the cheapest reliable signal in short questions.
_SPANISH_MARKERS = frozenset(
    {
        "el",
        "la",
        "los",
        "las",
        "de",
        "del",
        "que",
        "qué",
        "en",
        "por",
        "para",
        "con",
        "una",
        "uno",
        "es",
        "son",
        "cómo",
        "cuál",
        "cuáles",
        "cuándo",
        "dónde",
        "quién",
        "puedo",
        "debo",
        "hay",
        "mi",
        "su",
        "sus",
        "se",
        "al",
        "lo",
        "como",
        "cuanto",
        "cuánto",
        "cuánta",
    }
)
_ENGLISH_MARKERS = frozenset(
    {
        "the",
        "an",
        "of",
        "to",
        "in",
        "for",
        "with",
        "is",
        "are",
        "how",
        "what",
        "which",
        "when",
        "where",
        "who",
        "can",
        "do",
        "does",
        "i",
        "my",
        "your",
        "their",
        "it",
        "on",
        "by",
        "be",
        "should",
        "must",
        "there",
    }
)


def detect_language(text: str, *, default: str = "en") -> str:
    """Return "es" or "en" for the text, or the default when nothing tips the balance."""
    # LIMITATION: only English and Spanish are told apart; the input guardrail's language tag,
    # passed as DraftRequest.language, would lift this.
    lowered = text.lower()

    # Inverted punctuation and accented letters are strong Spanish evidence on their own.
    if "¿" in lowered or "¡" in lowered or re.search(r"[áéíóúñ]", lowered):
        return "es"

    words = _WORD.findall(lowered)
    spanish = sum(word in _SPANISH_MARKERS for word in words)
    english = sum(word in _ENGLISH_MARKERS for word in words)
    if spanish > english:
        return "es"
    if english > spanish:
        return "en"
    return default
