"""Answer by quoting the passage sentence that covers the question, for languages a model
cannot write reliably, and focus long passages on the sentences the question is about."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# A sentence ends at end punctuation followed by an opening letter, digit or mark, so the
# tool name "¿Dónde está mi reembolso? del IRS" stays in one sentence; also at a blank line or
# before a list item. A single line break inside a hard-wrapped paragraph ends nothing.
_SENTENCE_END = re.compile(
    r"(?<=[.!?])\s+(?=[\"'(¿¡A-ZÁÉÍÓÚÑ0-9])|\n\s*\n+|\n(?=\s*(?:[-*•]|\d+[.)])\s)"
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_WHITESPACE = re.compile(r"\s+")
_STEM = 6

# Function words and the words questions are asked with, in English and Spanish.
_STOP_WORDS = frozenset(
    (  # noqa: SIM905 - a word list reads best as text
        "the and for are but not you your with this that from have has was were will can "
        "may might must should would could they them their there here what when where which "
        "who how about into than then also only just more most some such other any each all "
        "our its does did get need want los las del que por para con una unos unas como pero "
        "mas sus este esta estos estas son ser hay puede pueden debe deben usted ustedes "
        "cuando donde sobre entre tambien cual cuales quien quienes puedo debo tengo necesito "
        "quiero mis ella ellos esto eso"
    ).split()
)


@dataclass(frozen=True)
class Quote:
    """One passage sentence quoted as the answer, and the passage it came from."""

    sentence: str
    number: int
    coverage: float

    @property
    def text(self) -> str:
        """Return the sentence with its citation marker, as the answer reads."""
        return f"{self.sentence} [{self.number}]"


def content_stems(text: str) -> set[str]:
    """Return accent-free prefixes of a text's content words, so "consulte" meets "consultar"."""
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return {
        word[:_STEM] for word in _WORD.findall(plain) if len(word) > 2 and word not in _STOP_WORDS
    }


def split_sentences(text: str) -> list[str]:
    """Split a passage into sentences, with list marks and runs of whitespace removed."""
    pieces = (_LIST_MARK.sub("", piece) for piece in _SENTENCE_END.split(text))
    return [_WHITESPACE.sub(" ", piece).strip() for piece in pieces if piece.strip()]


def quote_answer(
    question: str,
    passages: list[str],
    *,
    min_coverage: float = 0.6,
    min_words: int = 5,
) -> Quote | None:
    """Return the passage sentence that holds most of the question's content words, or None.

    A sentence qualifies when it has at least `min_words` words and holds at least
    `min_coverage` of the question's content words; ties go to the earlier passage (the
    better retrieved one), then to the earlier sentence. None means the passages do not
    answer the question.
    """
    # LIMITATION: word coverage tells a sentence about the question from one answering it only
    # roughly; a model that writes the language well should answer instead of a quote.
    asked = content_stems(question)
    if not asked:
        return None

    best: Quote | None = None
    for number, passage in enumerate(passages, start=1):
        for sentence in split_sentences(passage):
            if len(sentence.split()) < min_words:
                continue
            coverage = len(content_stems(sentence) & asked) / len(asked)
            if coverage >= min_coverage and (best is None or coverage > best.coverage):
                best = Quote(sentence=_closed(sentence), number=number, coverage=coverage)
    return best


def focus_passage(text: str, question: str, limit: int) -> str:
    """Shorten a passage to its sentences that share most words with the question, in order.

    A chunk's opening is not always what the question is about; cutting at its head can drop
    the one sentence that answers.
    """
    sentences = split_sentences(text)
    flat = " ".join(sentences)
    if len(flat) <= limit:
        return flat

    # Take sentences by how many question words they hold, then restore their order.
    asked = content_stems(question)
    ranked = sorted(
        range(len(sentences)),
        key=lambda index: (-len(content_stems(sentences[index]) & asked), index),
    )
    kept: list[int] = []
    used = 0
    for index in ranked:
        length = len(sentences[index]) + 1
        if used + length <= limit:
            kept.append(index)
            used += length
    if not kept:
        return sentences[ranked[0]][:limit].rsplit(" ", 1)[0] + " ..."
    return " ".join(sentences[index] for index in sorted(kept))


def _closed(sentence: str) -> str:
    """End a quoted sentence with punctuation, as a list item or heading may lack it."""
    sentence = sentence.rstrip(" :;,")
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."
