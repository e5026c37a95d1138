"""Pseudonymous reviewer ids, so events and tables never carry a reviewer's login."""

from __future__ import annotations

import hashlib
import hmac

MIN_SECRET_BYTES = 32


class ReviewerPseudonyms:
    """Derives a stable pseudonym from a token subject with a keyed hash."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"pseudonym secret is {len(secret)} bytes, expected at least {MIN_SECRET_BYTES}"
            )
        self._secret = secret

    def of(self, subject: str) -> str:
        """Return the reviewer id for a subject: the same subject always gets the same id."""
        digest = hmac.new(self._secret, subject.encode(), hashlib.sha256).hexdigest()
        return f"rv-{digest[:24]}"
