"""Crypto-shredding: personal data fields sealed with a per-subject AES-GCM key before hashing."""

from __future__ import annotations

import base64
import copy
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from steward_ledger_proofs._canonical import canonical_json
from steward_ledger_proofs._errors import SealingError

if TYPE_CHECKING:
    from collections.abc import Mapping

SEALED_MARK = "steward_sealed"
SEALED_ALGORITHM = "aes-256-gcm/1"
SEALED_ERASED = "erased"
SUBJECT_KEY_SIZE = 32
_NONCE_SIZE = 12


@dataclass(frozen=True, slots=True)
class SubjectKey:
    """A data subject's sealing key; `key` is None once the subject has been erased."""

    key_id: str
    key: bytes | None

    def __post_init__(self) -> None:
        """Refuse a key of the wrong size."""
        if self.key is not None and len(self.key) != SUBJECT_KEY_SIZE:
            raise SealingError(
                f"Invalid subject key size for {self.key_id}: {len(self.key)} bytes,"
                f" expected {SUBJECT_KEY_SIZE}"
            )

    @classmethod
    def generate(cls, key_id: str) -> SubjectKey:
        """Return a fresh random key under the given id."""
        return cls(key_id=key_id, key=AESGCM.generate_key(bit_length=SUBJECT_KEY_SIZE * 8))


@dataclass(frozen=True, slots=True)
class PersonalDataPolicy:
    """Which `data` fields of which event types hold personal data, as dotted paths."""

    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def paths_for(self, event_type: str) -> tuple[str, ...]:
        """Return the personal data paths of an event type (empty when it has none)."""
        return self.fields.get(event_type, ())

    @classmethod
    def from_json(cls, text: str) -> PersonalDataPolicy:
        """Read a policy from a JSON object mapping event types to lists of dotted paths."""
        try:
            raw = json.loads(text)
            fields = {str(kind): tuple(str(path) for path in paths) for kind, paths in raw.items()}
        except (ValueError, AttributeError, TypeError) as exc:
            raise SealingError(
                f"Invalid personal data policy {text[:80]!r}: expected a JSON object of"
                " event type to list of dotted paths"
            ) from exc
        return cls(fields=fields)


def is_sealed(value: Any) -> bool:
    """Tell whether a JSON value is a sealed personal data field."""
    return isinstance(value, dict) and SEALED_MARK in value


def seal_personal_fields(
    event: Mapping[str, Any],
    paths: tuple[str, ...],
    subject_key: SubjectKey,
) -> dict[str, Any]:
    """Return a copy of the event whose personal `data` fields are sealed with the subject key."""
    sealed = dict(event)
    if not paths or not isinstance(event.get("data"), dict):
        return sealed

    sealed["data"] = copy.deepcopy(event["data"])
    event_id = str(event.get("id", ""))
    for path in paths:
        # Each step is a key of a nested object; a path that is absent in this event is skipped.
        parent, name = _parent_of(sealed["data"], path)
        if parent is None or name not in parent or is_sealed(parent[name]):
            continue

        parent[name] = _seal_value(parent[name], subject_key, _associated_data(event_id, path))

    return sealed


def open_personal_fields(
    event: Mapping[str, Any],
    keys: Mapping[str, bytes],
) -> dict[str, Any]:
    """Return a copy of the event with sealed fields opened; fields of erased keys stay sealed."""
    opened = dict(event)
    if not isinstance(event.get("data"), dict):
        return opened

    opened["data"] = copy.deepcopy(event["data"])
    event_id = str(event.get("id", ""))
    for path, parent, name in _sealed_fields(opened["data"], ""):
        value = parent[name]
        key = keys.get(str(value.get("kid")))
        if key is None or value[SEALED_MARK] != SEALED_ALGORITHM:
            continue

        parent[name] = _open_value(value, key, _associated_data(event_id, path))

    return opened


def sealed_key_ids(event: Mapping[str, Any]) -> set[str]:
    """Return the ids of the subject keys that sealed fields of this event."""
    data = event.get("data")
    if not isinstance(data, dict):
        return set()
    return {str(parent[name].get("kid")) for _, parent, name in _sealed_fields(data, "")}


def _seal_value(value: Any, subject_key: SubjectKey, associated: bytes) -> dict[str, Any]:
    """Encrypt one JSON value, or mark it erased when the subject's key is gone."""
    if subject_key.key is None:
        return {SEALED_MARK: SEALED_ERASED, "kid": subject_key.key_id}

    nonce = os.urandom(_NONCE_SIZE)
    ciphertext = AESGCM(subject_key.key).encrypt(nonce, canonical_json(value), associated)
    return {
        SEALED_MARK: SEALED_ALGORITHM,
        "kid": subject_key.key_id,
        "nonce": base64.b64encode(nonce).decode(),
        "ct": base64.b64encode(ciphertext).decode(),
    }


def _open_value(sealed: Mapping[str, Any], key: bytes, associated: bytes) -> Any:
    """Decrypt one sealed JSON value."""
    try:
        nonce = base64.b64decode(sealed["nonce"], validate=True)
        ciphertext = base64.b64decode(sealed["ct"], validate=True)
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, associated)
    except (KeyError, ValueError, InvalidTag) as exc:
        raise SealingError(
            f"Sealed field under key {sealed.get('kid')!r} does not open: expected a nonce and"
            " ciphertext made with that key for this event and path"
        ) from exc
    return json.loads(plaintext)


def _associated_data(event_id: str, path: str) -> bytes:
    """Bind a ciphertext to its event and field so it cannot be moved elsewhere."""
    return canonical_json([event_id, path])


def _parent_of(data: dict[str, Any], path: str) -> tuple[dict[str, Any] | None, str]:
    """Return the object holding the last step of a dotted path, and that step's name."""
    *steps, name = path.split(".")
    node: Any = data
    for step in steps:
        node = node.get(step) if isinstance(node, dict) else None
    return (node if isinstance(node, dict) else None), name


def _sealed_fields(node: Any, prefix: str) -> list[tuple[str, dict[str, Any], str]]:
    """Return (dotted path, parent object, name) for every sealed field under a JSON object."""
    found: list[tuple[str, dict[str, Any], str]] = []
    if not isinstance(node, dict):
        return found

    for name, value in node.items():
        path = f"{prefix}{name}"
        if is_sealed(value):
            found.append((path, node, name))
        elif isinstance(value, dict):
            found.extend(_sealed_fields(value, f"{path}."))
    return found
