"""Language of a citizen's question, to pick stemming and prefer same-language passages."""

from __future__ import annotations

import re
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from steward_indexer._analysis import ENGLISH_STOP_WORDS, SPANISH_STOP_WORDS, fold_accents

_SPANISH_MARKS = re.compile(r"[¿¡ñÑáéíóúÁÉÍÓÚ]")
_WORD = re.compile(r"\w+")
QUERY_LANGUAGES = ("en", "es")


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(QUERY_LANGUAGES))
    return identifier


def detect_query_language(query: str) -> str:
    """Return 'en' or 'es' for a short question, trusting function words over n-grams."""
    words = _WORD.findall(fold_accents(query))

    # Function words and Spanish punctuation decide short questions more reliably.
    spanish = sum(word in SPANISH_STOP_WORDS for word in words)
    spanish += 2 * len(_SPANISH_MARKS.findall(query))
    english = sum(word in ENGLISH_STOP_WORDS for word in words)
    if spanish != english:
        return "es" if spanish > english else "en"

    language, _confidence = _identifier().classify(query)
    return str(language)
