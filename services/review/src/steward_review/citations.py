"""Which stored passages a final answer cites as [n]."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from steward_review.model import Passage

# Answers cite as [1], [1, 2] or [1][2]; passage n is the n-th passage the draft was built from.
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def cited_passages(answer: str, passages: Sequence[Passage]) -> list[tuple[int, Passage]]:
    """Return each passage the answer cites, with its number, in order of first citation."""
    numbers: list[int] = []
    for match in _MARKER.finditer(answer):
        for number in (int(part) for part in match.group(1).split(",")):
            if 1 <= number <= len(passages) and number not in numbers:
                numbers.append(number)
    return [(number, passages[number - 1]) for number in numbers]
