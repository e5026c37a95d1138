"""Exceptions the ledger store raises, arranged so a caller can catch them by meaning."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every ledger store error."""


class InvalidEventError(LedgerError):
    """An event is not a CloudEvents envelope the ledger can record."""


class LedgerIntegrityError(LedgerError):
    """What the database holds disagrees with the ledger's own hashes or signed checkpoints."""


class LedgerBusyError(LedgerError):
    """Another ledger writer already holds the database."""


class EventNotFoundError(LedgerError):
    """No recorded event has the requested id or sequence number."""
