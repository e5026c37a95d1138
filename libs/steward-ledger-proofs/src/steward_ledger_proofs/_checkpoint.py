"""Ed25519-signed checkpoints: a tree size and its root hash, vouched for at a time."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from steward_ledger_proofs._canonical import canonical_json
from steward_ledger_proofs._errors import CheckpointSignatureError
from steward_ledger_proofs._merkle import HASH_SIZE

# Names what a signature covers, so a Steward checkpoint signature means nothing elsewhere.
CHECKPOINT_CONTEXT = "steward-ledger-checkpoint/1"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement that the ledger held `tree_size` events with this root hash."""

    tree_size: int
    root_hash: bytes
    time: str
    key_id: str
    signature: bytes

    def signed_message(self) -> bytes:
        """Return the bytes the signature covers."""
        return checkpoint_message(self.tree_size, self.root_hash, self.time, self.key_id)

    def to_json(self) -> dict[str, Any]:
        """Return the checkpoint as a JSON object, hashes in hex and signature in base64."""
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "time": self.time,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode(),
        }

    @classmethod
    def from_json(cls, obj: Any) -> Checkpoint:
        """Read a checkpoint from its JSON object form."""
        try:
            checkpoint = cls(
                tree_size=int(obj["tree_size"]),
                root_hash=bytes.fromhex(obj["root_hash"]),
                time=str(obj["time"]),
                key_id=str(obj["key_id"]),
                signature=base64.b64decode(obj["signature"], validate=True),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointSignatureError(
                f"Malformed checkpoint {obj!r}: expected tree_size, root_hash (hex), time,"
                f" key_id and signature (base64)"
            ) from exc

        if len(checkpoint.root_hash) != HASH_SIZE or checkpoint.tree_size < 0:
            raise CheckpointSignatureError(
                f"Malformed checkpoint {obj!r}: expected a 32-byte root hash and a"
                " non-negative tree size"
            )
        return checkpoint


def checkpoint_message(tree_size: int, root_hash: bytes, time: str, key_id: str) -> bytes:
    """Return the canonical bytes a checkpoint signature covers."""
    return canonical_json(
        {
            "context": CHECKPOINT_CONTEXT,
            "tree_size": tree_size,
            "root_hash": root_hash.hex(),
            "time": time,
            "key_id": key_id,
        }
    )


def key_id_for(public_key: bytes) -> str:
    """Return the short identifier of a raw Ed25519 public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


class CheckpointSigner:
    """Signs checkpoints with one Ed25519 private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        """Wrap an Ed25519 private key."""
        self._private_key = private_key
        self._public_raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._key_id = key_id_for(self._public_raw)

    @classmethod
    def generate(cls) -> CheckpointSigner:
        """Return a signer with a fresh random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes, password: bytes | None = None) -> CheckpointSigner:
        """Load a signer from a PKCS#8 PEM private key."""
        key = serialization.load_pem_private_key(pem, password=password)
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointSignatureError(
                f"Signing key is a {type(key).__name__}, expected an Ed25519 private key"
            )
        return cls(key)

    def private_pem(self) -> bytes:
        """Return the private key as unencrypted PKCS#8 PEM, for storing in a secret."""
        return self._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def key_id(self) -> str:
        """Short identifier of the public key."""
        return self._key_id

    @property
    def public_key(self) -> bytes:
        """Raw 32-byte Ed25519 public key."""
        return self._public_raw

    def public_pem(self) -> bytes:
        """Return the public key as SubjectPublicKeyInfo PEM."""
        return self._private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, tree_size: int, root_hash: bytes, at: datetime | None = None) -> Checkpoint:
        """Return a signed checkpoint for a tree size and its root hash."""
        moment = (at or datetime.now(UTC)).astimezone(UTC)
        time = moment.isoformat(timespec="microseconds").replace("+00:00", "Z")

        message = checkpoint_message(tree_size, root_hash, time, self._key_id)
        return Checkpoint(
            tree_size=tree_size,
            root_hash=root_hash,
            time=time,
            key_id=self._key_id,
            signature=self._private_key.sign(message),
        )


def public_key_from_pem(pem: bytes) -> bytes:
    """Return the raw Ed25519 public key held in a SubjectPublicKeyInfo PEM."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointSignatureError(
            f"Public key is a {type(key).__name__}, expected an Ed25519 public key"
        )
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verify_checkpoint(checkpoint: Checkpoint, public_key: bytes) -> None:
    """Check a checkpoint's signature; raise CheckpointSignatureError when it does not hold."""
    if checkpoint.key_id != key_id_for(public_key):
        raise CheckpointSignatureError(
            f"Checkpoint of tree size {checkpoint.tree_size} names key {checkpoint.key_id},"
            f" expected {key_id_for(public_key)}"
        )

    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            checkpoint.signature, checkpoint.signed_message()
        )
    except (InvalidSignature, ValueError) as exc:
        raise CheckpointSignatureError(
            f"Signature of the checkpoint of tree size {checkpoint.tree_size} does not verify"
            f" under key {checkpoint.key_id}"
        ) from exc
