"""Attribute an answer's sentences to the passages they restate, when the model cited none."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Sentence ends: end punctuation followed by space, or a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Words that carry no claim of their own, in the two languages the corpus uses.
_STOP_WORDS = frozenset(
    (  # noqa: SIM905 - a word list reads best as text
        "the and for are but not you your with this that from have has was were will can "
        "may might must should would could they them their there here what when where which "
        "who how about into than then also only just more most some such other any each all "
        "our its los las del que por para con una unos unas como pero mas sus este esta estos "
        "estas son ser hay puede pueden debe deben usted ustedes cuando donde sobre entre tambien"
    ).split()
)


@dataclass(frozen=True)
class Attribution:
    """The answer with [n] markers added, and the passage numbers cited in order of use."""

    text: str
    numbers: tuple[int, ...]


def _content_words(text: str) -> set[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return {word for word in _WORD.findall(plain) if len(word) > 2 and word not in _STOP_WORDS}


def attribute_sentences(
    text: str, passages: list[str], *, min_overlap: float = 0.5, min_words: int = 3
) -> Attribution:
    """Cite, after each sentence, the passage that holds most of its content words.

    A sentence is cited only when at least `min_overlap` of its content words appear in one
    passage and it has at least `min_words` of them; the rest stay uncited, so the output
    guardrail still judges them ungrounded.
    """
    passage_words = [_content_words(passage) for passage in passages]
    pieces: list[str] = []
    numbers: list[int] = []
    position = 0

    for match in [*_SENTENCE_END.finditer(text), None]:
        end = match.start() if match else len(text)
        sentence = text[position:end]
        separator = text[end : match.end()] if match else ""
        position = match.end() if match else len(text)

        # Score the sentence against every passage; the best one above the bar is cited.
        words = _content_words(sentence)
        best, best_share = 0, 0.0
        if len(words) >= min_words:
            for number, candidate in enumerate(passage_words, start=1):
                share = len(words & candidate) / len(words)
                if share > best_share:
                    best, best_share = number, share
        if best and best_share >= min_overlap:
            pieces.append(f"{sentence.rstrip()} [{best}]{separator}")
            if best not in numbers:
                numbers.append(best)
        else:
            pieces.append(sentence + separator)

    return Attribution(text="".join(pieces).strip(), numbers=tuple(numbers))
