"""Export bundles: events, leaf hashes, signed checkpoints and proofs, checked with no database."""

from __future__ import annotations

import base64
import hmac
import json
import os
import re
from dataclasses import dataclass, field
from hashlib import sha256
from typing import IO, TYPE_CHECKING, Any, Literal

from steward_ledger_proofs._checkpoint import Checkpoint, key_id_for, verify_checkpoint
from steward_ledger_proofs._errors import (
    BundleFormatError,
    CheckpointSignatureError,
    ProofError,
)
from steward_ledger_proofs._merkle import (
    EMPTY_ROOT,
    LEAF_PREFIX,
    NODE_PREFIX,
    MerkleFrontier,
    MerkleTree,
    event_leaf_hash,
    verify_consistency,
    verify_inclusion,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

BUNDLE_FORMAT = "steward-ledger-bundle/1"

BundleKind = Literal["range", "events"]

# One event per line, keys in this fixed order and the event last, so the verifier can take the
# event's canonical bytes without parsing them; "digest" stands in for a pruned event.
_EVENT_LINE = re.compile(
    rb'\{"seq":(0|[1-9][0-9]{0,18}),"leaf":"([0-9a-f]{64})"'
    rb'(?:,"proof":(\[(?:"[0-9a-f]{64}"(?:,"[0-9a-f]{64}")*)?\]))?'
    rb',(?:"digest":"([0-9a-f]{64})"|"event":(\{.*\}))\}\r?\n?\Z'
)


@dataclass(frozen=True, slots=True)
class BundleHeader:
    """First line of a bundle: what it covers, the checkpoints and proofs that vouch for it."""

    kind: BundleKind
    public_key: bytes
    checkpoints: Sequence[Checkpoint]
    start: int = 0
    end: int = 0
    frontier: Sequence[bytes] = ()
    consistency_proof: Sequence[bytes] = ()
    selection: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the header as a JSON object."""
        return {
            "format": BUNDLE_FORMAT,
            "kind": self.kind,
            "public_key": base64.b64encode(self.public_key).decode(),
            "key_id": key_id_for(self.public_key),
            "checkpoints": [checkpoint.to_json() for checkpoint in self.checkpoints],
            "start": self.start,
            "end": self.end,
            "frontier": [node.hex() for node in self.frontier],
            "consistency_proof": [node.hex() for node in self.consistency_proof],
            "selection": self.selection,
        }

    @classmethod
    def for_range(
        cls,
        leaves: Sequence[bytes] | MerkleTree,
        start: int,
        end: int,
        checkpoints: Sequence[Checkpoint],
        public_key: bytes,
        selection: dict[str, Any] | None = None,
    ) -> BundleHeader:
        """Return the header of a contiguous range of seqs, with its frontier and proof."""
        if not checkpoints:
            raise BundleFormatError("A bundle needs at least one checkpoint, got none")
        tree = leaves if isinstance(leaves, MerkleTree) else MerkleTree(leaves)
        final = max(checkpoints, key=lambda checkpoint: checkpoint.tree_size)
        if not 0 <= start <= end <= final.tree_size <= tree.size:
            raise BundleFormatError(
                f"Invalid bundle range [{start}, {end}): expected 0 <= start <= end <="
                f" {final.tree_size} (final checkpoint) <= {tree.size} (known leaves)"
            )

        return cls(
            kind="range",
            public_key=public_key,
            checkpoints=list(checkpoints),
            start=start,
            end=end,
            frontier=tree.frontier(start).hashes,
            consistency_proof=tree.consistency_proof(end, final.tree_size),
            selection=selection or {},
        )

    @classmethod
    def from_json(cls, obj: Any) -> BundleHeader:
        """Read a header from its JSON object form."""
        if not isinstance(obj, dict) or obj.get("format") != BUNDLE_FORMAT:
            raise BundleFormatError(
                f"Bundle header names format {_field(obj, 'format')!r}, expected {BUNDLE_FORMAT}"
            )
        if obj.get("kind") not in ("range", "events"):
            raise BundleFormatError(
                f"Bundle kind {obj.get('kind')!r} is unknown, expected 'range' or 'events'"
            )

        try:
            return cls(
                kind=obj["kind"],
                public_key=base64.b64decode(obj["public_key"], validate=True),
                checkpoints=[Checkpoint.from_json(item) for item in obj["checkpoints"]],
                start=int(obj.get("start", 0)),
                end=int(obj.get("end", 0)),
                frontier=[bytes.fromhex(node) for node in obj.get("frontier", [])],
                consistency_proof=[bytes.fromhex(n) for n in obj.get("consistency_proof", [])],
                selection=dict(obj.get("selection", {})),
            )
        except (KeyError, TypeError, ValueError, CheckpointSignatureError) as exc:
            raise BundleFormatError(f"Malformed bundle header: {exc}") from exc


@dataclass(frozen=True, slots=True)
class BundleEntry:
    """One recorded event in a bundle; a pruned event keeps only its digest."""

    seq: int
    leaf_hash: bytes
    event_json: bytes | None = None
    digest: bytes | None = None
    proof: Sequence[bytes] | None = None

    def to_line(self) -> bytes:
        """Return the entry as one bundle line."""
        parts = [b'{"seq":%d,"leaf":"%s"' % (self.seq, self.leaf_hash.hex().encode())]
        if self.proof is not None:
            parts.append(
                b',"proof":[%s]' % b",".join(b'"%s"' % n.hex().encode() for n in self.proof)
            )
        if self.event_json is not None:
            parts.append(b',"event":%s}\n' % self.event_json)
        elif self.digest is not None:
            parts.append(b',"digest":"%s"}\n' % self.digest.hex().encode())
        else:
            raise BundleFormatError(
                f"Bundle entry for seq {self.seq} has neither an event nor a digest"
            )
        return b"".join(parts)


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """What an offline check of a bundle found."""

    ok: bool
    kind: str | None
    events_checked: int
    pruned_events: int
    first_failed_seq: int | None
    reason: str | None
    tree_size: int | None
    root_hash: str | None
    key_id: str | None
    key_trusted: bool | None
    checkpoints_checked: int

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON object."""
        return {
            "ok": self.ok,
            "kind": self.kind,
            "events_checked": self.events_checked,
            "pruned_events": self.pruned_events,
            "first_failed_seq": self.first_failed_seq,
            "reason": self.reason,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "key_id": self.key_id,
            "key_trusted": self.key_trusted,
            "checkpoints_checked": self.checkpoints_checked,
        }


def write_bundle(stream: IO[bytes], header: BundleHeader, entries: Iterable[BundleEntry]) -> int:
    """Write a bundle as JSON lines and return the number of entries written."""
    stream.write(json.dumps(header.to_json(), separators=(",", ":")).encode() + b"\n")

    count = 0
    for entry in entries:
        stream.write(entry.to_line())
        count += 1
    return count


def read_bundle_events(source: str | os.PathLike[str] | Iterable[bytes]) -> Iterator[BundleEntry]:
    """Yield a bundle's entries without checking them."""
    lines = iter(_open_lines(source))
    next(lines, None)
    for number, line in enumerate(lines, start=2):
        match = _EVENT_LINE.match(line)
        if match is None:
            raise BundleFormatError(f"Bundle line {number} is not an event line: {line[:80]!r}")
        yield _entry_of(match)


def verify_bundle(
    bundle: str | os.PathLike[str] | Iterable[bytes],
    *,
    trusted_public_key: bytes | None = None,
) -> VerificationReport:
    """Check every leaf, checkpoint and proof of a bundle and report the first seq that fails."""
    lines = iter(_open_lines(bundle))
    verifier = _BundleCheck(trusted_public_key)
    try:
        header = verifier.read_header(next(lines, b""))
        if header.kind == "range":
            verifier.check_range(header, lines)
        else:
            verifier.check_events(header, lines)
    except _Failure as failure:
        return verifier.report(ok=False, seq=failure.seq, reason=str(failure))
    finally:
        close = getattr(lines, "close", None)
        if close is not None:
            close()
    return verifier.report(ok=True, seq=None, reason=None)


class _Failure(Exception):
    """The first thing found wrong in a bundle, and the seq it concerns."""

    def __init__(self, seq: int | None, reason: str) -> None:
        super().__init__(reason)
        self.seq = seq


class _BundleCheck:
    """State of one bundle verification."""

    def __init__(self, trusted_public_key: bytes | None) -> None:
        self.trusted_public_key = trusted_public_key
        self.kind: str | None = None
        self.events_checked = 0
        self.pruned_events = 0
        self.checkpoints_checked = 0
        self.final: Checkpoint | None = None
        self.key_id: str | None = None
        self.key_trusted: bool | None = None

    def report(self, *, ok: bool, seq: int | None, reason: str | None) -> VerificationReport:
        """Return the report of what was checked so far."""
        return VerificationReport(
            ok=ok,
            kind=self.kind,
            events_checked=self.events_checked,
            pruned_events=self.pruned_events,
            first_failed_seq=seq,
            reason=reason,
            tree_size=self.final.tree_size if self.final else None,
            root_hash=self.final.root_hash.hex() if self.final else None,
            key_id=self.key_id,
            key_trusted=self.key_trusted,
            checkpoints_checked=self.checkpoints_checked,
        )

    def read_header(self, line: bytes) -> BundleHeader:
        """Parse the header, check the key and every checkpoint signature."""
        try:
            raw = json.loads(line)
            header = BundleHeader.from_json(raw)
        except (ValueError, BundleFormatError) as exc:
            raise _Failure(None, f"Bundle header is unreadable: {exc}") from exc
        self.kind = header.kind
        self.key_id = key_id_for(header.public_key)
        stated = raw.get("key_id")
        if stated is not None and stated != self.key_id:
            raise _Failure(
                None, f"Bundle header names key {stated}, but its public key is {self.key_id}"
            )

        # A key that travels with the bundle proves nothing on its own: the auditor pins one.
        if self.trusted_public_key is not None:
            self.key_trusted = hmac.compare_digest(header.public_key, self.trusted_public_key)
            if not self.key_trusted:
                raise _Failure(
                    None,
                    f"Bundle is signed by key {self.key_id},"
                    f" expected trusted key {key_id_for(self.trusted_public_key)}",
                )

        if not header.checkpoints:
            raise _Failure(None, "Bundle carries no checkpoint, expected at least one")
        for checkpoint in header.checkpoints:
            try:
                verify_checkpoint(checkpoint, header.public_key)
            except CheckpointSignatureError as exc:
                raise _Failure(None, str(exc)) from exc
        self.final = max(header.checkpoints, key=lambda checkpoint: checkpoint.tree_size)
        return header

    def check_range(self, header: BundleHeader, lines: Iterator[bytes]) -> None:
        """Recompute every leaf of a contiguous range and the roots of the checkpoints in it."""
        assert self.final is not None
        start, end, final = header.start, header.end, self.final
        if not 0 <= start <= end <= final.tree_size:
            raise _Failure(
                None,
                f"Bundle range [{start}, {end}) does not fit in the final checkpoint's"
                f" tree size {final.tree_size}",
            )
        try:
            frontier = MerkleFrontier(start, header.frontier)
        except ProofError as exc:
            raise _Failure(start, f"Frontier at seq {start} is malformed: {exc}") from exc

        # Roots are compared at every checkpoint size inside the range, in order.
        roots = {
            c.tree_size: c.root_hash for c in header.checkpoints if start <= c.tree_size <= end
        }
        sizes = sorted(roots)
        verified_size = start
        if start in roots:
            self._compare_root(frontier.root(), start, roots[start], start, start)
            sizes.remove(start)
        next_size = sizes.pop(0) if sizes else -1

        # The hot loop inlines the frontier so a million lines take seconds, not minutes.
        hashes = list(frontier.hashes)
        expected = start
        match_line = _EVENT_LINE.match
        for line in lines:
            match = match_line(line)
            if match is None:
                raise _Failure(expected, f"Line for seq {expected} is not an event line")
            seq = int(match[1])
            if seq != expected:
                # A seq seen twice points at the seq itself: one of its two lines is forged.
                raise _Failure(min(seq, expected), _sequence_break(expected, seq))
            if seq >= end:
                raise _Failure(seq, f"Bundle holds seq {seq} beyond its declared end {end}")

            event = match[5]
            if event is None:
                digest = bytes.fromhex(match[4].decode())
                self.pruned_events += 1
            else:
                digest = sha256(event).digest()
            leaf = sha256(LEAF_PREFIX + seq.to_bytes(8, "big") + digest).digest()
            if leaf.hex().encode() != match[2]:
                raise _Failure(seq, f"Event at seq {seq} does not match its recorded leaf hash")

            node, size = leaf, seq
            while size & 1:
                node = sha256(NODE_PREFIX + hashes.pop() + node).digest()
                size >>= 1
            hashes.append(node)
            expected += 1
            self.events_checked += 1

            if expected == next_size:
                root = MerkleFrontier(expected, hashes).root()
                self._compare_root(root, expected, roots[expected], verified_size, expected)
                verified_size = expected
                next_size = sizes.pop(0) if sizes else -1

        if expected != end:
            raise _Failure(
                expected,
                f"Bundle ends before seq {expected}, expected events up to seq {end - 1}",
            )

        # The range's own root must be a prefix of the final signed tree.
        if end < final.tree_size:
            root = MerkleFrontier(end, hashes).root() if end else EMPTY_ROOT
            try:
                verify_consistency(
                    end, final.tree_size, root, final.root_hash, header.consistency_proof
                )
            except ProofError as exc:
                raise _Failure(
                    verified_size,
                    f"Events in seq [{verified_size}, {end}) do not extend to the checkpoint"
                    f" of tree size {final.tree_size}: {exc}",
                ) from exc
            self.checkpoints_checked += 1

    def check_events(self, header: BundleHeader, lines: Iterator[bytes]) -> None:
        """Check each selected event's leaf and its inclusion proof in the final checkpoint."""
        assert self.final is not None
        final = self.final
        # LIMITATION: a selected event dropped from the file goes unseen; signing the list of
        # selected seqs into the header would catch it.
        previous = -1
        for line in lines:
            match = _EVENT_LINE.match(line)
            if match is None:
                raise _Failure(None, f"Line after seq {previous} is not an event line")
            entry = _entry_of(match)
            if entry.seq <= previous:
                raise _Failure(
                    entry.seq, f"Seq {entry.seq} follows seq {previous}, expected increasing seqs"
                )
            previous = entry.seq

            digest = (
                entry.digest if entry.event_json is None else sha256(entry.event_json).digest()
            )
            assert digest is not None
            leaf = event_leaf_hash(entry.seq, digest)
            if not hmac.compare_digest(leaf, entry.leaf_hash):
                raise _Failure(
                    entry.seq, f"Event at seq {entry.seq} does not match its recorded leaf hash"
                )
            try:
                verify_inclusion(
                    leaf, entry.seq, final.tree_size, entry.proof or (), final.root_hash
                )
            except ProofError as exc:
                raise _Failure(
                    entry.seq, f"Event at seq {entry.seq} is not in the tree: {exc}"
                ) from exc

            self.pruned_events += entry.event_json is None
            self.events_checked += 1
        self.checkpoints_checked += 1

    def _compare_root(
        self, root: bytes, size: int, expected: bytes, interval_start: int, interval_end: int
    ) -> None:
        """Fail unless a recomputed root equals the signed root at that size."""
        if not hmac.compare_digest(root, expected):
            raise _Failure(
                interval_start,
                f"Root of the first {size} events differs from the signed checkpoint: a change"
                f" lies in seq [{interval_start}, {interval_end})",
            )
        self.checkpoints_checked += 1


def _sequence_break(expected: int, found: int) -> str:
    """Describe a line whose seq is not the next one."""
    if found > expected:
        return f"Seq {expected} is missing or moved: found seq {found} in its place"
    return f"Seq {found} appears again or out of order where seq {expected} was expected"


def _entry_of(match: re.Match[bytes]) -> BundleEntry:
    """Build an entry from a matched event line."""
    proof_text = match[3]
    proof = None
    if proof_text is not None:
        nodes = proof_text[1:-1].replace(b'"', b"")
        proof = [bytes.fromhex(node.decode()) for node in nodes.split(b",")] if nodes else []
    digest = match[4]
    return BundleEntry(
        seq=int(match[1]),
        leaf_hash=bytes.fromhex(match[2].decode()),
        event_json=match[5],
        digest=bytes.fromhex(digest.decode()) if digest is not None else None,
        proof=proof,
    )


def _open_lines(source: str | os.PathLike[str] | Iterable[bytes]) -> Iterable[bytes]:
    """Return the lines of a bundle given as a path or as an iterable of byte lines."""
    if isinstance(source, str | os.PathLike):
        return open(source, "rb", buffering=1 << 20)  # closed by verify_bundle
    return source


def _field(obj: Any, name: str) -> Any:
    """Return a field of a JSON object, or None when it is not an object."""
    return obj.get(name) if isinstance(obj, dict) else None
