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
    "\u0430": "a",  # cyrillic small letter a
    "\u0432": "b",  # cyrillic small letter ve
    "\u0435": "e",  # cyrillic small letter ie
    "\u043a": "k",  # cyrillic small letter ka
    "\u043c": "m",  # cyrillic small letter em
    "\u043d": "h",  # cyrillic small letter en
    "\u043e": "o",  # cyrillic small letter o
    "\u0440": "p",  # cyrillic small letter er
    "\u0441": "c",  # cyrillic small letter es
    "\u0442": "t",  # cyrillic small letter te
    "\u0443": "y",  # cyrillic small letter u
    "\u0445": "x",  # cyrillic small letter ha
    "\u0455": "s",  # cyrillic small letter dze
    "\u0456": "i",  # cyrillic small letter byelorussian-ukrainian i
    "\u0458": "j",  # cyrillic small letter je
    "\u0501": "d",  # cyrillic small letter komi de
    "\u051b": "q",  # cyrillic small letter qa
    "\u051d": "w",  # cyrillic small letter we
    "\u04cf": "l",  # cyrillic small letter palochka
    "\u04af": "y",  # cyrillic small letter straight u
    "\u04bb": "h",  # cyrillic small letter shha
    "\u0261": "g",  # latin small letter script g
    "\u0410": "A",  # cyrillic capital letter a
    "\u0412": "B",  # cyrillic capital letter ve
    "\u0415": "E",  # cyrillic capital letter ie
    "\u041a": "K",  # cyrillic capital letter ka
    "\u041c": "M",  # cyrillic capital letter em
    "\u041d": "H",  # cyrillic capital letter en
    "\u041e": "O",  # cyrillic capital letter o
    "\u0420": "P",  # cyrillic capital letter er
    "\u0421": "C",  # cyrillic capital letter es
    "\u0422": "T",  # cyrillic capital letter te
    "\u0425": "X",  # cyrillic capital letter ha
    "\u0423": "Y",  # cyrillic capital letter u
    "\u0405": "S",  # cyrillic capital letter dze
    "\u0406": "I",  # cyrillic capital letter byelorussian-ukrainian i
    "\u0408": "J",  # cyrillic capital letter je
    "\u0500": "D",  # cyrillic capital letter komi de
    "\u051a": "Q",  # cyrillic capital letter qa
    "\u051c": "W",  # cyrillic capital letter we
    "\u03b1": "a",  # greek small letter alpha
    "\u03b2": "b",  # greek small letter beta
    "\u03b5": "e",  # greek small letter epsilon
    "\u03b9": "i",  # greek small letter iota
    "\u03ba": "k",  # greek small letter kappa
    "\u03bd": "v",  # greek small letter nu
    "\u03bf": "o",  # greek small letter omicron
    "\u03c1": "p",  # greek small letter rho
    "\u03c4": "t",  # greek small letter tau
    "\u03c5": "u",  # greek small letter upsilon
    "\u03c7": "x",  # greek small letter chi
    "\u0391": "A",  # greek capital letter alpha
    "\u0392": "B",  # greek capital letter beta
    "\u0395": "E",  # greek capital letter epsilon
    "\u0396": "Z",  # greek capital letter zeta
    "\u0397": "H",  # greek capital letter eta
    "\u0399": "I",  # greek capital letter iota
    "\u039a": "K",  # greek capital letter kappa
    "\u039c": "M",  # greek capital letter mu
    "\u039d": "N",  # greek capital letter nu
    "\u039f": "O",  # greek capital letter omicron
    "\u03a1": "P",  # greek capital letter rho
    "\u03a4": "T",  # greek capital letter tau
    "\u03a5": "Y",  # greek capital letter upsilon
    "\u03a7": "X",  # greek capital letter chi
    "\u0585": "o",  # armenian small letter oh
    "\u057d": "u",  # armenian small letter seh
    "\u0581": "g",  # armenian small letter co
    "\u0131": "i",  # latin small letter dotless i
    "\u0237": "j",  # latin small letter dotless j
    "\u029f": "L",  # latin letter small capital l
    "\u026a": "I",  # latin letter small capital i
    "\u1d00": "A",  # latin letter small capital a
    "\u1d07": "E",  # latin letter small capital e
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark
    "\u201a": ",",  # single low-9 quotation mark
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
}

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
