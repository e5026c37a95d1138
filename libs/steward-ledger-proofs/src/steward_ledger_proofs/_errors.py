"""Exceptions raised by the ledger proof library."""

from __future__ import annotations


class LedgerProofError(Exception):
    """Base class of every error this library raises."""


class CanonicalJsonError(LedgerProofError):
    """A value cannot be written as RFC 8785 canonical JSON."""


class ProofError(LedgerProofError):
    """A Merkle proof is malformed, cannot be built, or does not verify."""


class CheckpointSignatureError(LedgerProofError):
    """A checkpoint's signature does not verify under the given public key."""


class BundleFormatError(LedgerProofError):
    """An export bundle is not in the expected format."""


class SealingError(LedgerProofError):
    """Personal data fields cannot be sealed or opened as asked."""
