"""Keyword analysis: accent folding, stop words and light stemming for English and Spanish."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"\w+")

_ENGLISH_FUNCTION_WORDS = """
    a about after all also am an and any are as at be been before being but by can
    could did do does doing for from get got had has have how i if in into is it its just
    me more most my no not of on or our out over own should so some such than that the
    their them then there these they this those to too up us very was we were what when
    where which while who whom why will with would you your yours"""
ENGLISH_STOP_WORDS = frozenset(_ENGLISH_FUNCTION_WORDS.split())
# Stored without accents because matching happens after folding.
_SPANISH_FUNCTION_WORDS = """
    a al algo algun alguna algunas alguno algunos ante antes como con contra cual cuales
    cuando de del desde donde dos el ella ellas ellos en entre era eres es esa esas ese eso
    esos esta estan estas este esto estos fue ha hay la las le les lo los mas me mi mis muy
    ni no nos o os otra otro para pero por porque puedo puede que quien quienes se sea ser
    si sin sobre son su sus tambien tengo tiene tu tus un una uno unos usted ustedes y ya yo"""
SPANISH_STOP_WORDS = frozenset(_SPANISH_FUNCTION_WORDS.split())
_STEMMERS = {"en": "english", "es": "spanish"}


def fold_accents(text: str) -> str:
    """Lower-case text and strip diacritics, so 'Declaración' and 'declaracion' meet."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(character for character in decomposed if not unicodedata.combining(character))


@lru_cache(maxsize=200_000)
def _stem(language: str, word: str) -> str:
    algorithm = _STEMMERS.get(language)
    if algorithm is None:
        return word
    return str(_stemmer(algorithm).stemWord(word))


@lru_cache(maxsize=8)
def _stemmer(algorithm: str) -> snowballstemmer.Stemmer:
    return snowballstemmer.stemmer(algorithm)


def stop_words_for(language: str) -> frozenset[str]:
    """Return the stop words dropped for a language; unknown languages drop both lists."""
    if language == "en":
        return ENGLISH_STOP_WORDS
    if language == "es":
        return SPANISH_STOP_WORDS
    return ENGLISH_STOP_WORDS | SPANISH_STOP_WORDS


def analyse(text: str, language: str) -> list[str]:
    """Return the keyword terms of a text: folded, stop words removed, stemmed."""
    stop_words = stop_words_for(language)
    words = _WORD.findall(fold_accents(text))
    return [_stem(language, word) for word in words if word not in stop_words]
