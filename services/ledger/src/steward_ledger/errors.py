"""Exceptions the ledger store raises, arranged so a caller can catch them by meaning."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every ledger store error."""


class InvalidEventError(LedgerError):
    """An event is not a CloudEvents envelope the ledger can record."""


class LedgerIntegrityError(LedgerError):
    """What the database holds disagrees with the ledger's own hashes or signed checkpoints."""

    def __init__(self, message: str, seq: int | None = None) -> None:
        """Keep the first sequence number found wrong, when one is known."""
        super().__init__(message)
        self.seq = seq


class LedgerBusyError(LedgerError):
    """Another ledger writer already holds the database."""


class EventNotFoundError(LedgerError):
    """No recorded event has the requested id or sequence number."""


class LedgerConfigError(LedgerError):
    """The service's settings name a key, file or database it cannot use."""
