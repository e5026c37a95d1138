"""Text normalisation before detection: folding, de-obfuscation and payload decoding."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

# Look-alike letters from other scripts that NFKC leaves alone, mapped to their Latin twin.
_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "ӏ": "l", "ү": "y", "һ": "h", "ɡ": "g", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M",
    "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "У": "Y", "Ѕ": "S", "І": "I",
    "Ј": "J", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K",
    "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Armenian, Latin extensions and punctuation look-alikes
    "օ": "o", "ս": "u", "ց": "g", "ı": "i", "ȷ": "j", "ʟ": "L", "ɪ": "I", "ᴀ": "A", "ᴇ": "E",
    "‘": "'", "’": "'", "‚": ",", "“": '"', "”": '"', "‐": "-", "‑": "-", "‒": "-", "–": "-",
    "—": "-", "―": "-", "−": "-",
}  # fmt: skip

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i", "|": "l", "+": "t"})  # fmt: skip
_LEET_TOKEN = re.compile(r"[A-Za-z0-9@$!|+]*[A-Za-z][A-Za-z0-9@$!|+]*")
_LEET_MARKS = re.compile(r"[0-9@$!|+]")
_SPACED_LETTERS = re.compile(r"(?<!\S)\S(?: +\S(?!\S)){3,}")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}[\s:]?){8,}")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_WHITESPACE = re.compile(r"\s+")


def _is_invisible(char: str) -> bool:
    """Tell whether a character renders as nothing (format, bidi, tag or variation chars)."""
    code = ord(char)
    if 0xFE00 <= code <= 0xFE0F or 0xE0000 <= code <= 0xE007F:
        return True
    return unicodedata.category(char) == "Cf"


@dataclass(frozen=True)
class FoldedText:
    """Text after NFKC, confusable folding and invisible-character removal, with offsets."""

    text: str
    # offsets[i] is the index in the original text of folded character i.
    offsets: tuple[int, ...]
    original_length: int

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the folded text back to the original text."""
        if start >= len(self.offsets):
            return self.original_length, self.original_length
        last = self.offsets[end - 1] + 1 if end > start else self.offsets[start]
        return self.offsets[start], last


def fold(text: str) -> FoldedText:
    """Fold a text character by character, keeping a map back to the original offsets."""
    pieces: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        # Drop characters that render as nothing; they only hide what is written.
        if _is_invisible(char):
            continue

        # Compatibility-normalise, then replace look-alikes from other scripts.
        folded = unicodedata.normalize("NFKC", char) if ord(char) > 127 else char
        for piece in folded:
            pieces.append(_CONFUSABLES.get(piece, piece))
            offsets.append(index)
    return FoldedText("".join(pieces), tuple(offsets), len(text))


def strip_accents(text: str) -> str:
    """Remove diacritics so Spanish patterns match with or without accents."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn")


def deleet(text: str) -> str:
    """Replace leetspeak digits and symbols inside words that also contain letters."""

    def replace(match: re.Match[str]) -> str:
        # Trailing "!" or "+" is punctuation, not a letter in disguise.
        token = match.group(0)
        core = token.rstrip("!|+")
        tail = token[len(core) :]
        return core.translate(_LEET) + tail if _LEET_MARKS.search(core) else token

    return _LEET_TOKEN.sub(replace, text)


def join_spaced_letters(text: str) -> str:
    """Join words written letter by letter ("i g n o r e") back into words."""
    # Single spaces separate letters; wider gaps separate the words.
    def join(match: re.Match[str]) -> str:
        return " ".join(word.replace(" ", "") for word in re.split(r" {2,}", match.group(0)))

    return _SPACED_LETTERS.sub(join, text)


def _printable_text(raw: bytes) -> str | None:
    """Return decoded bytes when they read as natural-language text, else None."""
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    letters = sum(char.isalpha() for char in decoded)
    printable = sum(char.isprintable() or char.isspace() for char in decoded)
    if not decoded or printable < len(decoded) * 0.95 or letters < len(decoded) * 0.6:
        return None
    return decoded if " " in decoded.strip() else None


def decode_payloads(text: str) -> list[str]:
    """Decode base64, hex and URL-encoded payloads that hide natural-language text."""
    payloads: list[str] = []

    # Base64 (standard and URL-safe) runs.
    for match in _BASE64.finditer(text):
        token = match.group(0)
        padded = token + "=" * (-len(token) % 4)
        try:
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            continue
        decoded = _printable_text(raw)
        if decoded:
            payloads.append(decoded)

    # Hex byte runs, with or without separators.
    for match in _HEX.finditer(text):
        digits = re.sub(r"[\s:]", "", match.group(0))
        if len(digits) % 2:
            digits = digits[:-1]
        decoded = _printable_text(bytes.fromhex(digits))
        if decoded:
            payloads.append(decoded)

    # Percent-encoding, only when it is dense enough to be hiding something.
    if len(_PERCENT.findall(text)) >= 3:
        decoded_url = unquote_plus(text)
        if decoded_url != text:
            payloads.append(decoded_url)
    return payloads


@dataclass(frozen=True)
class NormalizedPrompt:
    """A prompt in every form the injection detector scans."""

    folded: FoldedText
    # The main form: folded, accent-free, lower-case, leetspeak and spacing undone.
    canonical: str
    decoded: list[str] = field(default_factory=list)
    rot13: str = ""

    def variants(self) -> list[tuple[str, str]]:
        """Return (name, text) pairs to scan, the canonical form first."""
        forms = [("canonical", self.canonical)]
        forms.extend(("decoded", payload) for payload in self.decoded)
        forms.append(("rot13", self.rot13))
        return forms


def canonicalize(text: str) -> str:
    """Reduce text to the lower-case, accent-free, de-obfuscated form patterns are written for."""
    text = strip_accents(text)
    text = join_spaced_letters(text)
    text = deleet(text)
    return _WHITESPACE.sub(" ", text).strip().lower()


def normalize_prompt(text: str) -> NormalizedPrompt:
    """Fold a prompt and derive its canonical, decoded and rot13 forms."""
    # Fold Unicode tricks away first so decoders and patterns see plain characters.
    folded = fold(text)

    # Decode hidden payloads and canonicalise each one too.
    decoded = [canonicalize(fold(payload).text) for payload in decode_payloads(folded.text)]

    # Rot13 is cheap to undo and easy to scan; a benign text only turns to gibberish.
    rot13 = codecs.encode(strip_accents(folded.text), "rot13").lower()
    return NormalizedPrompt(folded, canonicalize(folded.text), decoded, rot13)
