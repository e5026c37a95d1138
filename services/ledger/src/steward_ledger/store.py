"""LedgerStore: the append-only event table, its Merkle tree, checkpoints, proofs and export."""

from __future__ import annotations

import asyncio
import importlib.resources
import io
import time
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha256
from typing import IO, TYPE_CHECKING, Any

import asyncpg
import structlog
from steward_ledger_proofs import (
    BundleEntry,
    BundleHeader,
    CanonicalJsonError,
    Checkpoint,
    MerkleFrontier,
    MerkleTree,
    PersonalDataPolicy,
    VerificationReport,
    canonical_json,
    event_leaf_hash,
    open_personal_fields,
    seal_personal_fields,
    sealed_key_ids,
    verify_bundle,
    verify_checkpoint,
    write_bundle,
)

from steward_ledger._codec import register_jsonb_codec
from steward_ledger._copy import COPY_HEADER, COPY_TRAILER, RowEncoder
from steward_ledger._records import (
    COPY_COLUMNS,
    SELECT_COLUMNS,
    RecordedEvent,
    recorded_event_of,
    recorded_form,
)
from steward_ledger.errors import (
    EventNotFoundError,
    InvalidEventError,
    LedgerBusyError,
    LedgerIntegrityError,
)
from steward_ledger.policies import CheckpointPolicy

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Mapping, Sequence

    from steward_ledger_proofs import CheckpointSigner, SubjectKey

    from steward_ledger.keys import SubjectKeyStore

log = structlog.get_logger("steward.ledger")

# Arbitrary constant naming the ledger writer's advisory lock.
_WRITER_LOCK = 0x5354_4C45_4447_4552 & 0x7FFF_FFFF_FFFF_FFFF

_EXPORT_CHUNK = 5000

# Rows per COPY message: small enough that the server starts early, large enough to be cheap.
_COPY_CHUNK_ROWS = 64


@dataclass(frozen=True, slots=True)
class Receipt:
    """Where an appended event landed in the tree."""

    event_id: str
    seq: int
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class Rejection:
    """An event the ledger could not record, and why."""

    event_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What one append did: new receipts, ids already recorded, refusals, and any checkpoint."""

    recorded: list[Receipt]
    duplicates: list[str]
    rejected: list[Rejection]
    tree_size: int
    checkpoint: Checkpoint | None


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Filters for a search; None means no filter."""

    tenant: str | None = None
    types: Sequence[str] | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of a search; pass `next_after_seq` back to get the next page."""

    events: list[RecordedEvent]
    next_after_seq: int | None


@dataclass(frozen=True, slots=True)
class InclusionProofResult:
    """An event's inclusion proof in a signed tree."""

    event_id: str
    seq: int
    leaf_hash: bytes
    path: list[bytes]
    checkpoint: Checkpoint


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export wrote."""

    kind: str
    events: int
    start: int
    end: int
    checkpoint: Checkpoint
    selection: dict[str, Any] = field(default_factory=dict)


async def install_schema(connection: asyncpg.Connection) -> None:
    """Create the ledger tables, triggers, roles and grants if they are missing."""
    sql = importlib.resources.files("steward_ledger").joinpath("schema.sql").read_text()
    await connection.execute(sql)


class LedgerStore:
    """Appends events once each to an append-only table and keeps their Merkle tree."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        lock_connection: asyncpg.Connection,
        signer: CheckpointSigner,
        frontier: MerkleFrontier,
        latest: Checkpoint | None,
        *,
        personal_data: PersonalDataPolicy,
        subject_keys: SubjectKeyStore | None,
        checkpoints: CheckpointPolicy,
    ) -> None:
        """Use LedgerStore.open; this constructor takes state already restored."""
        self._pool = pool
        # The session that holds the writer lock also makes every write, under _write_lock: a
        # writer whose lock went with its session cannot write, and no write waits on the pool.
        self._lock_connection = lock_connection
        self._signer = signer
        self._frontier = frontier
        self._latest = latest
        self._personal_data = personal_data
        self._subject_keys = subject_keys
        self._checkpoint_policy = checkpoints
        self._write_lock = asyncio.Lock()
        self._row_encoder = RowEncoder()
        self._last_checkpoint_clock = time.monotonic()

    @classmethod
    async def open(
        cls,
        dsn: str,
        signer: CheckpointSigner,
        *,
        personal_data: PersonalDataPolicy | None = None,
        subject_keys: SubjectKeyStore | None = None,
        checkpoints: CheckpointPolicy | None = None,
        pool_size: int = 4,
    ) -> LedgerStore:
        """Connect, take the single-writer lock and restore the tree from the table."""
        personal_data = personal_data or PersonalDataPolicy()
        if personal_data.fields and subject_keys is None:
            raise InvalidEventError(
                "A personal data policy names fields to seal, but no subject key store was"
                " given; expected both or neither"
            )

        pool = await asyncpg.create_pool(
            dsn, min_size=1, max_size=pool_size, init=register_jsonb_codec
        )
        try:
            # LIMITATION: one process writes the ledger and a second is refused; standby takeover
            # would need a lease on this lock.
            lock_connection = await pool.acquire()
            if not await lock_connection.fetchval("SELECT pg_try_advisory_lock($1)", _WRITER_LOCK):
                await pool.release(lock_connection)
                raise LedgerBusyError(
                    f"Another ledger writer holds advisory lock {_WRITER_LOCK} on {dsn!r};"
                    " expected this process to be the only writer"
                )
            frontier, latest = await _restore_tree(pool, signer.public_key)
        except BaseException:
            # close() would wait for the lock connection, which is still checked out.
            pool.terminate()
            raise

        log.info("ledger.opened", tree_size=frontier.size, key_id=signer.key_id)
        return cls(
            pool,
            lock_connection,
            signer,
            frontier,
            latest,
            personal_data=personal_data,
            subject_keys=subject_keys,
            checkpoints=checkpoints or CheckpointPolicy(),
        )

    async def close(self) -> None:
        """Release the writer lock and the connections; closing twice does nothing."""
        if self._pool.is_closing():
            return
        await self._lock_connection.execute("SELECT pg_advisory_unlock($1)", _WRITER_LOCK)
        await self._pool.release(self._lock_connection)
        await self._pool.close()

    @property
    def tree_size(self) -> int:
        """Number of events recorded."""
        return self._frontier.size

    @property
    def root_hash(self) -> bytes:
        """Tree head hash of every event recorded."""
        return self._frontier.root()

    @property
    def public_key(self) -> bytes:
        """Raw Ed25519 public key that verifies this ledger's checkpoints."""
        return self._signer.public_key

    def public_key_pem(self) -> bytes:
        """Public key that verifies this ledger's checkpoints, as PEM."""
        return self._signer.public_pem()

    async def append(self, events: Sequence[Mapping[str, Any]]) -> AppendResult:
        """Record each new event once, in order, and commit before returning."""
        async with self._write_lock:
            return await self._append(events)

    async def _append(self, events: Sequence[Mapping[str, Any]]) -> AppendResult:
        """Do one append while holding the write lock."""
        duplicates: list[str] = []
        rejected: list[Rejection] = []

        # An envelope that cannot be recorded is refused alone; the rest of the batch goes on.
        batch: dict[str, dict[str, Any]] = {}
        for event in events:
            try:
                recorded = recorded_form(event)
            except InvalidEventError as exc:
                rejected.append(Rejection(_id_of(event), str(exc)))
                continue
            if recorded["id"] in batch:
                duplicates.append(recorded["id"])
            else:
                batch[recorded["id"]] = recorded

        # Repeats are rare, so COPY is tried straight away; only when the unique index refuses
        # an id does a second try look up the ids already recorded.
        try:
            written = await self._write(batch, skip_known=False)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != "ledger_events_event_id_key":
                raise LedgerIntegrityError(
                    f"COPY hit constraint {exc.constraint_name}: expected only repeated event"
                    " ids, so another process must be writing the ledger"
                ) from exc
            written = await self._write(batch, skip_known=True)
        frontier, receipts, known, refused = written
        duplicates.extend(known)
        rejected.extend(refused)

        self._frontier = frontier
        checkpoint = None
        if self._checkpoint_policy.is_due(self._unsigned_events(), self._seconds_since_sign()):
            checkpoint = await self._sign_checkpoint()

        log.info(
            "ledger.appended",
            recorded=len(receipts),
            duplicates=len(duplicates),
            rejected=len(rejected),
            tree_size=frontier.size,
        )
        return AppendResult(receipts, duplicates, rejected, frontier.size, checkpoint)

    async def _write(
        self, batch: Mapping[str, dict[str, Any]], *, skip_known: bool
    ) -> tuple[MerkleFrontier, list[Receipt], list[str], list[Rejection]]:
        """Seal, hash and COPY a batch in one transaction; return the tree it makes."""
        known: list[str] = []
        rejected: list[Rejection] = []
        receipts: list[Receipt] = []
        frontier = self._frontier.copy()

        connection = self._lock_connection
        async with connection.transaction():
            pending = list(batch.values())
            if skip_known and pending:
                rows = await connection.fetch(
                    "SELECT event_id FROM ledger_events WHERE event_id = ANY($1::text[])",
                    list(batch),
                )
                known = [row["event_id"] for row in rows]
                seen = set(known)
                pending = [recorded for recorded in pending if recorded["id"] not in seen]

            keys = await self._keys_for(connection, pending)

            # The COPY stream leaves in chunks as rows are made, so the server files one chunk
            # while the next is hashed; the tree is a copy that becomes current after commit.
            async def copy_stream() -> AsyncIterator[bytes]:
                encoder = self._row_encoder
                chunk = [COPY_HEADER]
                for recorded in pending:
                    paths = self._personal_data.paths_for(recorded["type"])
                    if paths:
                        sealed = _seal(recorded, paths, keys)
                        if isinstance(sealed, Rejection):
                            rejected.append(sealed)
                            continue
                        recorded = sealed
                    try:
                        canonical = _storable_canonical_json(recorded)
                    except InvalidEventError as exc:
                        rejected.append(Rejection(recorded["id"], str(exc)))
                        continue

                    seq = frontier.size
                    digest = sha256(canonical).digest()
                    leaf = event_leaf_hash(seq, digest)
                    frontier.append(leaf)
                    receipts.append(Receipt(recorded["id"], seq, leaf))
                    chunk.append(encoder.row(seq, recorded, canonical, digest, leaf))
                    if len(chunk) >= _COPY_CHUNK_ROWS:
                        yield b"".join(chunk)
                        chunk = []
                chunk.append(COPY_TRAILER)
                yield b"".join(chunk)

            if pending:
                await connection.copy_to_table(
                    "ledger_events", source=copy_stream(), columns=COPY_COLUMNS, format="binary"
                )

        return frontier, receipts, known, rejected

    async def checkpoint_if_due(self) -> Checkpoint | None:
        """Sign a checkpoint when the policy says unsigned events have waited long enough."""
        async with self._write_lock:
            if self._checkpoint_policy.is_due(self._unsigned_events(), self._seconds_since_sign()):
                return await self._sign_checkpoint()
            return None

    async def checkpoint(self) -> Checkpoint:
        """Return a checkpoint of the current tree, signing one if the tree has grown."""
        async with self._write_lock:
            if self._latest is not None and self._latest.tree_size == self._frontier.size:
                return self._latest
            return await self._sign_checkpoint()

    async def latest_checkpoint(self) -> Checkpoint | None:
        """Return the most recent signed checkpoint, if any."""
        return self._latest

    async def checkpoints(
        self, from_size: int = 0, to_size: int | None = None
    ) -> list[Checkpoint]:
        """Return the signed checkpoints whose tree sizes lie in [from_size, to_size]."""
        async with self._pool.acquire() as connection:
            rows = await connection.fetch(
                "SELECT * FROM ledger_checkpoints WHERE tree_size >= $1"
                " AND ($2::bigint IS NULL OR tree_size <= $2) ORDER BY tree_size",
                from_size,
                to_size,
            )
        return [_checkpoint_of(row) for row in rows]

    async def event(self, event_id: str, *, tenant: str | None = None) -> RecordedEvent:
        """Return one recorded event by id, within a tenant when one is given."""
        async with self._pool.acquire() as connection:
            row = await connection.fetchrow(
                f"SELECT {SELECT_COLUMNS} FROM ledger_events"  # noqa: S608 - fixed column list
                " WHERE event_id = $1 AND ($2::text IS NULL OR tenant = $2)",
                event_id,
                tenant,
            )
        if row is None:
            raise EventNotFoundError(f"No recorded event has id {event_id!r} in tenant {tenant!r}")
        return recorded_event_of(row)

    async def timeline(
        self, correlation_id: str, *, tenant: str | None = None
    ) -> list[RecordedEvent]:
        """Return every event of one correlation id in the order the ledger recorded them."""
        async with self._pool.acquire() as connection:
            rows = await connection.fetch(
                f"SELECT {SELECT_COLUMNS} FROM ledger_events"  # noqa: S608 - fixed column list
                " WHERE correlationid = $1 AND ($2::text IS NULL OR tenant = $2) ORDER BY seq",
                correlation_id,
                tenant,
            )
        return [recorded_event_of(row) for row in rows]

    async def search(
        self, query: EventQuery, *, after_seq: int | None = None, limit: int = 100
    ) -> EventPage:
        """Return one page of events matching the query, in seq order, after a given seq."""
        if not 1 <= limit <= 10_000:
            raise ValueError(f"Invalid page size: {limit}, expected 1 to 10000")

        async with self._pool.acquire() as connection:
            rows = await connection.fetch(
                f"SELECT {SELECT_COLUMNS} FROM ledger_events"  # noqa: S608 - fixed column list
                " WHERE seq > $1"
                " AND ($2::text IS NULL OR tenant = $2)"
                " AND ($3::text[] IS NULL OR type = ANY($3::text[]))"
                " AND ($4::timestamptz IS NULL OR occurred_at >= $4)"
                " AND ($5::timestamptz IS NULL OR occurred_at < $5)"
                " ORDER BY seq LIMIT $6",
                -1 if after_seq is None else after_seq,
                query.tenant,
                list(query.types) if query.types is not None else None,
                query.occurred_from,
                query.occurred_to,
                limit,
            )
        events = [recorded_event_of(row) for row in rows]
        next_after = events[-1].seq if len(events) == limit else None
        return EventPage(events, next_after)

    async def open_personal_data(self, recorded: RecordedEvent) -> dict[str, Any]:
        """Return the event with its sealed fields opened where the subject's key still exists."""
        key_ids = sealed_key_ids(recorded.event)
        if not key_ids or self._subject_keys is None:
            return dict(recorded.event)
        async with self._pool.acquire() as connection:
            keys = await self._subject_keys.keys_by_id(connection, key_ids)
        return open_personal_fields(recorded.event, keys)

    async def erase_subject(self, subject: str) -> bool:
        """Destroy a data subject's key so their sealed fields can never be opened again."""
        if self._subject_keys is None:
            raise InvalidEventError("No subject key store is configured, so nothing is sealed")
        async with self._pool.acquire() as connection:
            erased = await self._subject_keys.erase(connection, subject)
        log.info("ledger.subject_erased", had_key=erased)
        return erased

    async def inclusion_proof(
        self, event_id: str, *, tenant: str | None = None
    ) -> InclusionProofResult:
        """Return the proof that an event is in the tree of the latest signed checkpoint."""
        recorded = await self.event(event_id, tenant=tenant)
        checkpoint = await self._checkpoint_covering(recorded.seq + 1)

        tree = await self._tree(checkpoint.tree_size)
        return InclusionProofResult(
            event_id=event_id,
            seq=recorded.seq,
            leaf_hash=recorded.leaf_hash,
            path=tree.inclusion_proof(recorded.seq, checkpoint.tree_size),
            checkpoint=checkpoint,
        )

    async def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """Return the proof that the tree of `old_size` is a prefix of the tree of `new_size`."""
        if not 0 <= old_size <= new_size <= self._frontier.size:
            raise ValueError(
                f"Invalid tree sizes {old_size} and {new_size}: expected 0 <= old <= new <="
                f" {self._frontier.size}"
            )
        tree = await self._tree(new_size)
        return tree.consistency_proof(old_size, new_size)

    async def export_range(
        self,
        stream: IO[bytes],
        *,
        recorded_from: datetime | None = None,
        recorded_to: datetime | None = None,
    ) -> ExportSummary:
        """Write a bundle of every event recorded in [recorded_from, recorded_to)."""
        checkpoint = await self._checkpoint_covering(self._frontier.size)
        async with self._pool.acquire() as connection:
            bounds = await connection.fetchrow(
                "SELECT min(seq) AS first, max(seq) AS last FROM ledger_events"
                " WHERE seq < $1 AND ($2::timestamptz IS NULL OR recorded_at >= $2)"
                " AND ($3::timestamptz IS NULL OR recorded_at < $3)",
                checkpoint.tree_size,
                recorded_from,
                recorded_to,
            )
        start = bounds["first"] if bounds["first"] is not None else checkpoint.tree_size
        end = bounds["last"] + 1 if bounds["last"] is not None else start
        return await self._export_seqs(
            stream,
            start,
            end,
            checkpoint,
            {"recorded_from": _iso(recorded_from), "recorded_to": _iso(recorded_to)},
        )

    async def export_all(self, stream: IO[bytes]) -> ExportSummary:
        """Write a bundle of the whole ledger, from seq 0 to the latest event."""
        checkpoint = await self._checkpoint_covering(self._frontier.size)
        return await self._export_seqs(stream, 0, checkpoint.tree_size, checkpoint, {})

    async def export_correlation(
        self, stream: IO[bytes], correlation_id: str, *, tenant: str | None = None
    ) -> ExportSummary:
        """Write a bundle of one correlation id's events, each with its inclusion proof."""
        checkpoint = await self._checkpoint_covering(self._frontier.size)
        tree = await self._tree(checkpoint.tree_size)
        events = [
            recorded
            for recorded in await self.timeline(correlation_id, tenant=tenant)
            if recorded.seq < checkpoint.tree_size
        ]

        selection = {"correlationid": correlation_id, "tenant": tenant}
        header = BundleHeader(
            kind="events",
            public_key=self._signer.public_key,
            checkpoints=[checkpoint],
            selection=selection,
        )
        entries = (
            _bundle_entry(recorded, tree.inclusion_proof(recorded.seq, checkpoint.tree_size))
            for recorded in events
        )
        count = write_bundle(stream, header, entries)
        log.info("ledger.exported", kind="events", events=count)
        return ExportSummary("events", count, 0, checkpoint.tree_size, checkpoint, selection)

    async def export_matching(self, stream: IO[bytes], query: EventQuery) -> ExportSummary:
        """Write a bundle of the events a search matches, each with its inclusion proof."""
        # LIMITATION: an events bundle proves each event it holds, not that none was left out;
        # only a range bundle shows a gap, and a range holds every tenant's events.
        checkpoint = await self._checkpoint_covering(self._frontier.size)
        tree = await self._tree(checkpoint.tree_size)
        selection = {
            "tenant": query.tenant,
            "types": list(query.types) if query.types is not None else None,
            "occurred_from": _iso(query.occurred_from),
            "occurred_to": _iso(query.occurred_to),
        }
        header = BundleHeader(
            kind="events",
            public_key=self._signer.public_key,
            checkpoints=[checkpoint],
            selection=selection,
        )
        count = write_bundle(stream, header, ())

        # Pages by seq keep memory flat; events newer than the checkpoint wait for the next one.
        after: int | None = None
        while True:
            page = await self.search(query, after_seq=after, limit=_EXPORT_CHUNK)
            for recorded in page.events:
                if recorded.seq >= checkpoint.tree_size:
                    break
                proof = tree.inclusion_proof(recorded.seq, checkpoint.tree_size)
                stream.write(_bundle_entry(recorded, proof).to_line())
                count += 1
            if page.next_after_seq is None or page.next_after_seq >= checkpoint.tree_size:
                break
            after = page.next_after_seq

        log.info("ledger.exported", kind="events", events=count)
        return ExportSummary("events", count, 0, checkpoint.tree_size, checkpoint, selection)

    async def subject_recorded(self, subject: str, *, tenant: str | None = None) -> bool:
        """Tell whether any recorded event names this data subject, within a tenant if given."""
        # LIMITATION: no index covers subject, so this scans the table; erasures are rare.
        async with self._pool.acquire() as connection:
            found: bool = await connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM ledger_events"
                " WHERE subject = $1 AND ($2::text IS NULL OR tenant = $2))",
                subject,
                tenant,
            )
        return found

    async def audit(self) -> VerificationReport:
        """Export the whole ledger and check it as an offline auditor would."""
        buffer = io.BytesIO()
        try:
            await self.export_all(buffer)
        except LedgerIntegrityError as exc:
            report = _failed_audit(str(exc), exc.seq, self._latest, self._signer.key_id)
            log.info("ledger.audited", ok=False, first_failed_seq=exc.seq)
            return report
        buffer.seek(0)
        report = verify_bundle(buffer, trusted_public_key=self._signer.public_key)
        log.info("ledger.audited", ok=report.ok, first_failed_seq=report.first_failed_seq)
        return report

    async def _export_seqs(
        self,
        stream: IO[bytes],
        start: int,
        end: int,
        checkpoint: Checkpoint,
        selection: dict[str, Any],
    ) -> ExportSummary:
        """Write a range bundle of seqs [start, end) vouched for by a checkpoint."""
        tree = await self._tree(checkpoint.tree_size)
        checkpoints = await self.checkpoints(start, end)
        if checkpoint not in checkpoints:
            checkpoints.append(checkpoint)
        header = BundleHeader.for_range(
            tree, start, end, checkpoints, self._signer.public_key, selection
        )

        async with (
            self._pool.acquire() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            count = write_bundle(stream, header, ())
            # Rows are read in chunks by seq so a large export holds little in memory.
            after = start - 1
            while after < end - 1:
                rows = await connection.fetch(
                    f"SELECT {SELECT_COLUMNS} FROM ledger_events"  # noqa: S608 - fixed columns
                    " WHERE seq > $1 AND seq < $2 ORDER BY seq LIMIT $3",
                    after,
                    end,
                    _EXPORT_CHUNK,
                )
                if not rows:
                    break
                for row in rows:
                    stream.write(_bundle_entry(recorded_event_of(row), None).to_line())
                count += len(rows)
                after = rows[-1]["seq"]

        log.info("ledger.exported", kind="range", events=count, start=start, end=end)
        return ExportSummary("range", count, start, end, checkpoint, selection)

    async def _keys_for(
        self, connection: asyncpg.Connection, events: Iterable[Mapping[str, Any]]
    ) -> dict[str, SubjectKey]:
        """Fetch or create the keys of the subjects whose personal data this batch seals."""
        if self._subject_keys is None:
            return {}
        subjects = {
            str(recorded["subject"])
            for recorded in events
            if "subject" in recorded and self._personal_data.paths_for(recorded["type"])
        }
        return await self._subject_keys.keys_for(connection, subjects)

    async def _tree(self, size: int) -> MerkleTree:
        """Load the first `size` leaf hashes as a tree, refusing gaps in the seqs."""
        # LIMITATION: proofs read every leaf hash up to the tree size; stored subtree roots
        # would make them logarithmic.
        async with self._pool.acquire() as connection:
            rows = await connection.fetch(
                "SELECT seq, leaf_hash FROM ledger_events WHERE seq < $1 ORDER BY seq", size
            )
        leaves = [row["leaf_hash"] for row in rows]
        if len(leaves) != size or (rows and rows[-1]["seq"] != size - 1):
            missing = next(
                (index for index, row in enumerate(rows) if row["seq"] != index), len(rows)
            )
            raise LedgerIntegrityError(
                f"Ledger has no row at seq {missing}, expected seqs 0 to {size - 1} without gaps:"
                " rows were deleted or renumbered",
                seq=missing,
            )
        return MerkleTree(leaves)

    async def _checkpoint_covering(self, size: int) -> Checkpoint:
        """Return the latest checkpoint if it covers `size` events, else sign a new one."""
        if self._latest is not None and self._latest.tree_size >= size:
            return self._latest
        return await self.checkpoint()

    async def _sign_checkpoint(self) -> Checkpoint:
        """Sign the current tree and store the checkpoint."""
        checkpoint = self._signer.sign(self._frontier.size, self._frontier.root())
        await self._lock_connection.execute(
            "INSERT INTO ledger_checkpoints (tree_size, root_hash, time, key_id, signature)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tree_size) DO NOTHING",
            checkpoint.tree_size,
            checkpoint.root_hash,
            checkpoint.time,
            checkpoint.key_id,
            checkpoint.signature,
        )
        self._latest = checkpoint
        self._last_checkpoint_clock = time.monotonic()
        log.info("ledger.checkpoint_signed", tree_size=checkpoint.tree_size)
        return checkpoint

    def _unsigned_events(self) -> int:
        """Number of events no checkpoint covers yet."""
        signed = self._latest.tree_size if self._latest is not None else 0
        return self._frontier.size - signed

    def _seconds_since_sign(self) -> float:
        """Seconds since the last checkpoint was signed (or the store opened)."""
        return time.monotonic() - self._last_checkpoint_clock


async def _restore_tree(
    pool: asyncpg.Pool, public_key: bytes
) -> tuple[MerkleFrontier, Checkpoint | None]:
    """Fold every stored leaf hash into a frontier, checking it against the signed checkpoints."""
    # LIMITATION: start-up reads every leaf hash; a persisted frontier would make it constant.
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        checkpoints = [
            _checkpoint_of(row)
            for row in await connection.fetch(
                "SELECT * FROM ledger_checkpoints ORDER BY tree_size"
            )
        ]
        for checkpoint in checkpoints:
            verify_checkpoint(checkpoint, public_key)
        roots = {checkpoint.tree_size: checkpoint.root_hash for checkpoint in checkpoints}

        frontier = MerkleFrontier()
        async for row in connection.cursor(
            "SELECT seq, leaf_hash FROM ledger_events ORDER BY seq", prefetch=10_000
        ):
            if row["seq"] != frontier.size:
                raise LedgerIntegrityError(
                    f"Ledger row seq {row['seq']} found where seq {frontier.size} was expected:"
                    " rows were deleted or renumbered",
                    seq=frontier.size,
                )
            frontier.append(row["leaf_hash"])
            signed = roots.get(frontier.size)
            if signed is not None and signed != frontier.root():
                raise LedgerIntegrityError(
                    f"Stored leaf hashes give a root for tree size {frontier.size} that differs"
                    " from its signed checkpoint"
                )

    latest = checkpoints[-1] if checkpoints else None
    if latest is not None and latest.tree_size > frontier.size:
        raise LedgerIntegrityError(
            f"Ledger holds {frontier.size} events, but a signed checkpoint covers"
            f" {latest.tree_size}: rows were deleted"
        )
    return frontier, latest


def _seal(
    recorded: dict[str, Any], paths: tuple[str, ...], keys: Mapping[str, SubjectKey]
) -> dict[str, Any] | Rejection:
    """Seal an event's personal data fields under its subject's key."""
    subject = recorded.get("subject")
    if subject is None:
        return Rejection(
            recorded["id"],
            f"Event {recorded['id']!r} of type {recorded['type']} carries personal data fields"
            " but no subject, expected the data subject's id in 'subject'",
        )
    return seal_personal_fields(recorded, paths, keys[str(subject)])


def _storable_canonical_json(recorded: Mapping[str, Any]) -> bytes:
    """Return the canonical JSON of an event, refusing what PostgreSQL cannot store."""
    try:
        canonical = canonical_json(recorded)
    except CanonicalJsonError as exc:
        raise InvalidEventError(f"Event {recorded['id']!r} is not plain JSON: {exc}") from exc

    # Text and jsonb columns refuse NUL characters, which canonical JSON writes as \u0000.
    if b"\\u0000" in canonical:
        raise InvalidEventError(
            f"Event {recorded['id']!r} holds a NUL character, which PostgreSQL cannot store"
        )
    return canonical


def _bundle_entry(recorded: RecordedEvent, proof: list[bytes] | None) -> BundleEntry:
    """Return the bundle line of a recorded event; a pruned one keeps only its digest."""
    if recorded.pruned_at is not None:
        return BundleEntry(
            seq=recorded.seq,
            leaf_hash=recorded.leaf_hash,
            digest=recorded.canonical_sha256,
            proof=proof,
        )
    return BundleEntry(
        seq=recorded.seq,
        leaf_hash=recorded.leaf_hash,
        event_json=canonical_json(recorded.event),
        proof=proof,
    )


def _checkpoint_of(row: asyncpg.Record) -> Checkpoint:
    """Rebuild a checkpoint from its table row."""
    return Checkpoint(
        tree_size=row["tree_size"],
        root_hash=row["root_hash"],
        time=row["time"],
        key_id=row["key_id"],
        signature=row["signature"],
    )


def _failed_audit(
    reason: str, seq: int | None, latest: Checkpoint | None, key_id: str
) -> VerificationReport:
    """Return the report of an audit that failed before any bundle could be written."""
    return VerificationReport(
        ok=False,
        kind="range",
        events_checked=0,
        pruned_events=0,
        first_failed_seq=seq,
        reason=reason,
        tree_size=latest.tree_size if latest else None,
        root_hash=latest.root_hash.hex() if latest else None,
        key_id=key_id,
        key_trusted=True,
        checkpoints_checked=0,
    )


def _id_of(event: Any) -> str | None:
    """Return an event's id if it has a readable one."""
    value = event.get("id") if hasattr(event, "get") else None
    return value if isinstance(value, str) else None


def _iso(moment: datetime | None) -> str | None:
    """Return a datetime in ISO 8601, or None."""
    return moment.isoformat() if moment is not None else None
