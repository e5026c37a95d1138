"""Steward's ledger: append-only event store, Merkle tree, checkpoints, proofs, export."""

from steward_ledger._records import RecordedEvent
from steward_ledger.errors import (
    EventNotFoundError,
    InvalidEventError,
    LedgerBusyError,
    LedgerError,
    LedgerIntegrityError,
)
from steward_ledger.keys import SubjectKeyStore
from steward_ledger.policies import CheckpointPolicy, RetentionPolicy
from steward_ledger.retention import prune_expired
from steward_ledger.store import (
    AppendResult,
    EventPage,
    EventQuery,
    ExportSummary,
    InclusionProofResult,
    LedgerStore,
    Receipt,
    Rejection,
    install_schema,
)

__all__ = [
    "AppendResult",
    "CheckpointPolicy",
    "EventNotFoundError",
    "EventPage",
    "EventQuery",
    "ExportSummary",
    "InclusionProofResult",
    "InvalidEventError",
    "LedgerBusyError",
    "LedgerError",
    "LedgerIntegrityError",
    "LedgerStore",
    "Receipt",
    "RecordedEvent",
    "Rejection",
    "RetentionPolicy",
    "SubjectKeyStore",
    "install_schema",
    "prune_expired",
]
