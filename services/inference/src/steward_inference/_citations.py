"""Find the [n] citation markers in a model's answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Accept [1], [1, 2] and [1][2]; models write all three.
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


@dataclass(frozen=True)
class CitationMarkers:
    """Passage numbers cited in the text, split into those that exist and those that do not."""

    valid: tuple[int, ...]
    unknown: tuple[int, ...]


def parse_citations(text: str, passage_count: int) -> CitationMarkers:
    """Return the distinct cited numbers in order of first use, checked against 1..count."""
    seen: list[int] = []
    for match in _MARKER.finditer(text):
        for number in (int(part) for part in match.group(1).split(",")):
            if number not in seen:
                seen.append(number)

    return CitationMarkers(
        valid=tuple(n for n in seen if 1 <= n <= passage_count),
        unknown=tuple(n for n in seen if not 1 <= n <= passage_count),
    )
