"""Unicode and whitespace normalisation shared by every format."""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


def normalise_text(text: str) -> str:
    """Return text in NFKC form with invisible characters removed and whitespace collapsed."""
    # NFKC folds ligatures, full-width forms and non-breaking spaces into their plain forms.
    text = unicodedata.normalize("NFKC", _LINE_BREAKS.sub("\n", text))

    text = _CONTROL.sub("", text.translate(_INVISIBLE))

    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]

    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def collapse_spaces(text: str) -> str:
    """Return text on one line with runs of whitespace reduced to one space."""
    return " ".join(text.split())
