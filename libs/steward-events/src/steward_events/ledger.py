"""Signed checkpoints of the audit ledger's Merkle tree."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, StringConstraints

from steward_events.envelope import EventData, event_type
from steward_events.types import Name, NonNegativeInt, Sha256Hex

Base64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/=]{1,512}$")]


@event_type("ledger.checkpoint", 1)
class LedgerCheckpoint(EventData):
    """The ledger's tree size and root hash at a moment, signed with Ed25519."""

    tree_size: NonNegativeInt
    root_hash: Sha256Hex
    checkpoint_time: AwareDatetime
    key_id: Name
    signature: Base64
