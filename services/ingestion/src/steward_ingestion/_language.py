"""Offline language identification for documents."""

from __future__ import annotations

from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Languages a U.S. public agency commonly publishes in; a closed set keeps short or
# list-heavy pages from being labelled with a rare language that merely shares n-grams.
AGENCY_LANGUAGES = (
    "en", "es", "fr", "de", "it", "pt", "zh", "ja", "ko", "vi", "ru", "ar", "pl", "uk",
    "ht", "fa", "hi",
)  # fmt: skip
UNDETERMINED = "und"
_SAMPLE_CHARACTERS = 20_000
_MINIMUM_LETTERS = 12


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    """Load the packaged langid model once per process."""
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(AGENCY_LANGUAGES))
    return identifier


def detect_language(text: str) -> str:
    """Return the ISO 639-1 code of the text's language, or 'und' when there is too little."""
    sample = text[:_SAMPLE_CHARACTERS]
    if sum(character.isalpha() for character in sample) < _MINIMUM_LETTERS:
        return UNDETERMINED

    language, _confidence = _identifier().classify(sample)
    return str(language)
