"""Events and bundles made in memory for the bundle tests."""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from typing import Any

from steward_ledger_proofs import (
    BundleEntry,
    BundleHeader,
    Checkpoint,
    CheckpointSigner,
    canonical_json,
    event_leaf_hash,
    inclusion_proof,
    tree_root,
    write_bundle,
)


@dataclass
class RecordedLog:
    """A ledger kept in memory: canonical events, their leaves, and checkpoints every 10."""

    signer: CheckpointSigner
    events: list[bytes]
    leaves: list[bytes]
    checkpoints: list[Checkpoint]

    def range_bundle(self, start: int = 0, end: int | None = None) -> list[bytes]:
        """Return the lines of a bundle of seqs [start, end)."""
        end = len(self.events) if end is None else end
        header = BundleHeader.for_range(
            self.leaves, start, end, self.checkpoints, self.signer.public_key
        )
        entries = [
            BundleEntry(seq=seq, leaf_hash=self.leaves[seq], event_json=self.events[seq])
            for seq in range(start, end)
        ]
        return _lines(header, entries)

    def events_bundle(self, seqs: list[int]) -> list[bytes]:
        """Return the lines of a bundle of chosen seqs, each with its inclusion proof."""
        final = self.checkpoints[-1]
        header = BundleHeader(
            kind="events", public_key=self.signer.public_key, checkpoints=[final]
        )
        entries = [
            BundleEntry(
                seq=seq,
                leaf_hash=self.leaves[seq],
                event_json=self.events[seq],
                proof=inclusion_proof(self.leaves, seq, final.tree_size),
            )
            for seq in seqs
        ]
        return _lines(header, entries)


def make_event(seq: int, correlation: str = "c-1") -> dict[str, Any]:
    """Return a CloudEvents envelope shaped like Steward's."""
    return {
        "id": str(uuid.UUID(int=seq + 1)),
        "source": "steward/gateway",
        "type": "steward.chat.requested.v1",
        "specversion": "1.0",
        "time": "2026-12-04T17:08:00Z",
        "tenant": "agency-a",
        "correlationid": correlation,
        "data": {"prompt": f"question number {seq}", "score": 0.5 + seq / 1000},
    }


def recorded_log_of_45() -> RecordedLog:
    """Return a log of 45 events with checkpoints at 10, 20, 30, 40 and 45."""
    signer = CheckpointSigner.generate()
    events = [canonical_json(make_event(seq)) for seq in range(45)]
    leaves = [_leaf(seq, event) for seq, event in enumerate(events)]
    log = RecordedLog(signer=signer, events=events, leaves=leaves, checkpoints=[])
    for size in (10, 20, 30, 40, 45):
        log.checkpoints.append(signer.sign(size, _root(leaves, size)))
    return log


def _leaf(seq: int, event: bytes) -> bytes:
    return event_leaf_hash(seq, hashlib.sha256(event).digest())


def _root(leaves: list[bytes], size: int) -> bytes:
    return tree_root(leaves, 0, size)


def _lines(header: BundleHeader, entries: list[BundleEntry]) -> list[bytes]:
    buffer = io.BytesIO()
    write_bundle(buffer, header, entries)
    return buffer.getvalue().splitlines(keepends=True)
