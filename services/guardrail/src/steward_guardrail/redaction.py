"""Typed, conversation-consistent placeholders and encrypted originals."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from steward_guardrail.errors import SealError
from steward_guardrail.pii import PiiKind, PiiSpan

_SEALED_FORMAT = "v1"
_NONCE_BYTES = 12


def parse_key(encoded: str) -> bytes:
    """Decode a base64 (standard or URL-safe) AES-256 key, checking its length."""
    try:
        standard = encoded.strip().replace("-", "+").replace("_", "/")
        key = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise SealError("PII key is not valid base64; expected 32 bytes encoded") from error
    if len(key) != 32:
        raise SealError(f"Invalid PII key size: {len(key)} bytes, expected 32")
    return key


class OriginalsCipher:
    """Seals original values with AES-256-GCM, bound to their conversation and placeholder."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise SealError(f"Invalid PII key size: {len(key)} bytes, expected 32")
        self._aead = AESGCM(key)
        self._mac_key = hashlib.sha256(b"steward-guardrail-mapping" + key).digest()
        # A short key id lets a reader pick the right key after a rotation.
        self.key_id = hashlib.sha256(b"steward-guardrail-key-id" + key).hexdigest()[:8]

    def seal(self, value: str, conversation_id: str, placeholder: str) -> str:
        """Encrypt one original value into an opaque token."""
        nonce = os.urandom(_NONCE_BYTES)
        associated = f"{conversation_id}\x1f{placeholder}".encode()
        sealed = self._aead.encrypt(nonce, value.encode(), associated)
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{_SEALED_FORMAT}.{self.key_id}.{body}"

    def open(self, token: str, conversation_id: str, placeholder: str) -> str:
        """Decrypt a token made by `seal` for the same conversation and placeholder."""
        # Split out the version, key id, nonce and encrypted data.
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _SEALED_FORMAT:
            raise SealError(
                f"Unknown sealed token format: expected '{_SEALED_FORMAT}.<key>.<data>'"
            )
        if parts[1] != self.key_id:
            raise SealError(
                f"Sealed token uses key {parts[1]!r}; this cipher holds {self.key_id!r}"
            )
        raw = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]

        # Authenticate against the same conversation and placeholder it was sealed for.
        associated = f"{conversation_id}\x1f{placeholder}".encode()
        try:
            return self._aead.decrypt(nonce, sealed, associated).decode()
        except InvalidTag as error:
            raise SealError(
                f"Sealed token does not open for placeholder {placeholder!r} in this conversation"
            ) from error

    def fingerprint(self, kind: PiiKind, value: str) -> str:
        """Return a keyed hash of a value, so mappings never hold the value itself."""
        message = f"{kind.value}\x1f{canonical_value(kind, value)}".encode()
        return hmac.new(self._mac_key, message, hashlib.sha256).hexdigest()


def canonical_value(kind: PiiKind, value: str) -> str:
    """Reduce a value to the form under which two spellings count as the same."""
    if kind in {PiiKind.NAME, PiiKind.ADDRESS, PiiKind.EMAIL}:
        return re.sub(r"[\s.,]+", " ", value).strip().casefold()
    if kind is PiiKind.DOB:
        return re.sub(r"\W+", " ", value).strip().casefold()
    alnum = re.sub(r"[^0-9A-Za-z]", "", value).upper()
    # Phone numbers with and without the country code are the same number.
    if kind is PiiKind.PHONE and len(alnum) == 11 and alnum.startswith("1"):
        return alnum[1:]
    return alnum


@dataclass(frozen=True)
class SealedOriginal:
    """A placeholder and its original value sealed with AES-GCM (never the value in clear)."""

    placeholder: str
    kind: PiiKind
    token: str


@dataclass
class _ConversationMap:
    """Placeholders issued in one conversation, keyed by value fingerprint."""

    by_fingerprint: dict[str, str] = field(default_factory=dict)
    counters: dict[PiiKind, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Redaction:
    """The result of redacting one text."""

    text: str
    spans: list[PiiSpan]
    placeholders: list[str]
    sealed: list[SealedOriginal]


class Redactor:
    """Replaces personal data with typed placeholders, consistent within a conversation."""

    def __init__(self, cipher: OriginalsCipher, max_conversations: int = 50_000) -> None:
        self._cipher = cipher
        self._max_conversations = max_conversations
        self._conversations: OrderedDict[str, _ConversationMap] = OrderedDict()

    def placeholder_for(self, conversation_id: str, kind: PiiKind, value: str) -> str:
        """Return the placeholder of a value in a conversation, issuing a new one if needed."""
        # LIMITATION: the mapping lives in this process; replicas need it in a shared store.
        mapping = self._conversations.get(conversation_id)
        if mapping is None:
            mapping = _ConversationMap()
            self._conversations[conversation_id] = mapping
            if len(self._conversations) > self._max_conversations:
                self._conversations.popitem(last=False)
        self._conversations.move_to_end(conversation_id)

        fingerprint = self._cipher.fingerprint(kind, value)
        existing = mapping.by_fingerprint.get(fingerprint)
        if existing is not None:
            return existing
        number = mapping.counters.get(kind, 0) + 1
        mapping.counters[kind] = number
        placeholder = f"<{kind.value}_{number}>"
        mapping.by_fingerprint[fingerprint] = placeholder
        return placeholder

    def redact(
        self,
        text: str,
        spans: list[PiiSpan],
        conversation_id: str,
        *,
        keep_originals: bool = True,
    ) -> Redaction:
        """Replace each span with its placeholder, sealing originals when asked to."""
        pieces: list[str] = []
        placeholders: list[str] = []
        sealed: dict[str, SealedOriginal] = {}
        cursor = 0
        for span in sorted(spans, key=lambda item: item.start):
            value = text[span.start : span.end]
            placeholder = self.placeholder_for(conversation_id, span.kind, value)
            pieces.append(text[cursor : span.start])
            pieces.append(placeholder)
            placeholders.append(placeholder)
            cursor = span.end

            # One sealed copy per placeholder is enough to restore every occurrence.
            if keep_originals and placeholder not in sealed:
                token = self._cipher.seal(value, conversation_id, placeholder)
                sealed[placeholder] = SealedOriginal(placeholder, span.kind, token)
        pieces.append(text[cursor:])
        return Redaction("".join(pieces), list(spans), placeholders, list(sealed.values()))

    def known_fingerprints(self, conversation_id: str) -> frozenset[str]:
        """Return the fingerprints of values already seen in a conversation."""
        mapping = self._conversations.get(conversation_id)
        return frozenset(mapping.by_fingerprint) if mapping else frozenset()
