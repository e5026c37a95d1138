"""Pseudonymous citizen ids, so events never carry the identity provider's subject."""

from __future__ import annotations

import hashlib
import hmac

MIN_KEY_BYTES = 32


class SubjectPseudonyms:
    """Derives a stable pseudonym from a token's tenant and subject with a keyed hash."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(
                f"pseudonym key is {len(key)} bytes, expected at least {MIN_KEY_BYTES}"
            )
        self._key = key

    def of(self, tenant: str, subject: str) -> str:
        """Return the citizen's pseudonym: the same tenant and subject always get the same one."""
        message = f"{tenant}\x00{subject}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).hexdigest()
        return f"cz-{digest[:32]}"
