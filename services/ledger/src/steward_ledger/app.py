"""The ledger on the bus: records every event once, signs checkpoints, serves auditors."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import signal
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
import uvicorn
from pydantic import ValidationError
from steward_auth import AuthConfigError, TokenVerifier
from steward_bus import Service, configure_logging, contract_topics
from steward_events import DeadLettered, DeadLetterReason, LedgerCheckpoint

from steward_ledger.api import build_auditor_api
from steward_ledger.errors import LedgerError
from steward_ledger.keys import SubjectKeyStore
from steward_ledger.policies import CheckpointPolicy, RetentionPolicy
from steward_ledger.provisioning import load_personal_data, load_signer, prepare_database
from steward_ledger.retention import prune_expired
from steward_ledger.settings import LedgerSettings
from steward_ledger.store import AppendResult, LedgerStore

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aiokafka import ConsumerRecord
    from steward_ledger_proofs import Checkpoint

log = structlog.get_logger("steward.ledger")

SERVICE_NAME = "ledger"
SYSTEM_TENANT = "system"
CHECKPOINT_TYPE = LedgerCheckpoint.spec.type
_ENVELOPE_ATTRIBUTES = ("id", "source", "type", "specversion")


class UnreadableRecord(LedgerError):
    """A record whose value is not a CloudEvents envelope the ledger can record."""

    def __init__(self, reason: DeadLetterReason, error: str) -> None:
        """Keep the dead-letter reason with the message."""
        super().__init__(error)
        self.reason = reason
        self.error = error


@dataclass
class LedgerStats:
    """Counters of what this process's consumer did with the records it read."""

    recorded: int = 0
    duplicates: int = 0
    refused: int = 0
    checkpoints_published: int = 0


def envelope_of(topic: str, value: bytes | None) -> dict[str, Any]:
    """Parse a record value into the event dict the ledger records, or say why it cannot."""
    if not value:
        raise UnreadableRecord(DeadLetterReason.MALFORMED, "empty message value")
    try:
        document = json.loads(value)
    except (UnicodeDecodeError, ValueError) as error:
        raise UnreadableRecord(DeadLetterReason.MALFORMED, f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise UnreadableRecord(
            DeadLetterReason.MALFORMED,
            f"expected a JSON object, got {type(document).__name__}",
        )

    missing = [name for name in _ENVELOPE_ATTRIBUTES if not _is_text(document.get(name))]
    if missing:
        raise UnreadableRecord(
            DeadLetterReason.INVALID,
            f"not a CloudEvents envelope: {', '.join(missing)} missing or not a string",
        )

    # A dead-letter topic has no twin of its own, so only true DeadLettered events go in.
    if topic.endswith(".dlq"):
        try:
            DeadLettered.spec.envelope.model_validate(document)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}"
                for item in error.errors(include_input=False, include_url=False)[:5]
            )
            raise UnreadableRecord(
                DeadLetterReason.INVALID, f"not a {DeadLettered.spec.type} event: {problems}"
            ) from None
    return document


def checkpoint_event(checkpoint: Checkpoint) -> LedgerCheckpoint:
    """Return the event announcing a signed checkpoint."""
    return LedgerCheckpoint(
        tree_size=checkpoint.tree_size,
        root_hash=checkpoint.root_hash.hex(),
        checkpoint_time=datetime.fromisoformat(checkpoint.time),
        key_id=checkpoint.key_id,
        signature=base64.b64encode(checkpoint.signature).decode(),
    )


class LedgerService:
    """Consumes every contract topic into the ledger and publishes its signed checkpoints."""

    def __init__(self, settings: LedgerSettings, *, group: str | None = None) -> None:
        self.settings = settings
        self.service = Service(SERVICE_NAME, settings, group=group)
        self.stats = LedgerStats()
        # Replays are recorded too, so that a replay is as auditable as what it replayed.
        namespaces = [settings.topic_namespace]
        if settings.serve_replay:
            namespaces.append(settings.replay_namespace)
        self.service.subscribe_records(
            [topic for namespace in namespaces for topic in contract_topics(namespace)],
            self.record,
        )
        self._store: LedgerStore | None = None
        self._maintainer_dsn: str | None = None
        self._retention = RetentionPolicy.from_days(settings.ledger_retention_days)
        self._tasks: list[asyncio.Task[None]] = []
        self._server: _EmbeddedServer | None = None
        self._publish_lock = asyncio.Lock()
        self._published_size = 0
        self._last_foreign_size = 0

    @property
    def store(self) -> LedgerStore:
        """The open ledger store."""
        if self._store is None:
            raise LedgerError("The ledger service is not started")
        return self._store

    @property
    def api_port(self) -> int | None:
        """The port the auditor API listens on, once it does."""
        server = self._server
        if server is None or not server.started or not server.servers:
            return None
        port: int = server.servers[0].sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Open the store, then consume, sign on a timer, prune on a timer and serve auditors."""
        settings = self.settings
        signer = load_signer(settings)
        personal_data, master_key = load_personal_data(settings)
        writer_dsn, self._maintainer_dsn = await prepare_database(settings)
        self._store = await LedgerStore.open(
            writer_dsn,
            signer,
            personal_data=personal_data,
            subject_keys=SubjectKeyStore(master_key) if master_key else None,
            checkpoints=CheckpointPolicy(
                every_events=settings.ledger_checkpoint_every_events,
                every_seconds=settings.ledger_checkpoint_every_seconds,
            ),
        )

        # Checkpoints signed before this start are taken as published already.
        latest = await self._store.latest_checkpoint()
        self._published_size = latest.tree_size if latest else 0
        self._last_foreign_size = self._store.tree_size
        try:
            await self.service.start()
        except BaseException:
            await self._store.close()
            raise

        self._tasks = [
            asyncio.create_task(self._sign_on_timer(), name="ledger-checkpoints"),
            asyncio.create_task(self._serve_auditors(), name="ledger-auditor-api"),
        ]
        if self._retention.periods:
            self._tasks.append(
                asyncio.create_task(self._prune_on_timer(), name="ledger-retention")
            )
        log.info(
            "ledger.started",
            tree_size=self._store.tree_size,
            key_id=signer.key_id,
            retention_types=len(self._retention.periods),
        )

    async def stop(self) -> None:
        """Stop serving and consuming, commit what was recorded, and close the store."""
        if self._server is not None:
            self._server.should_exit = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._server = None
        await self.service.stop()
        if self._store is not None:
            await self._store.close()
            self._store = None
        log.info("ledger.stopped")

    async def __aenter__(self) -> LedgerService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def record(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Append a batch of records in arrival order; the runtime commits after this returns."""
        store = self.store

        # Parse every record; the unreadable are dead-lettered once the rest is committed.
        events: list[dict[str, Any]] = []
        origin: dict[str, ConsumerRecord[bytes, bytes]] = {}
        refused: list[tuple[ConsumerRecord[bytes, bytes], DeadLetterReason, str]] = []
        for record in records:
            try:
                event = envelope_of(record.topic, record.value)
            except UnreadableRecord as unreadable:
                refused.append((record, unreadable.reason, unreadable.error))
                continue
            events.append(event)
            origin.setdefault(event["id"], record)

        # One transaction; a failure raises and the runtime reads the batch again.
        if events:
            result = await store.append(events)
            refused += [
                (origin[rejection.event_id], DeadLetterReason.INVALID, rejection.reason)
                for rejection in result.rejected
                if rejection.event_id is not None
            ]
            self._note_foreign(result, {event["id"]: event["type"] for event in events})
            self.stats.recorded += len(result.recorded)
            self.stats.duplicates += len(result.duplicates)
            if result.checkpoint is not None:
                await self._publish_checkpoint(result.checkpoint)

        for record, reason, error in refused:
            await self._refuse(record, reason, error)
        self.stats.refused += len(refused)

    async def apply_retention(self) -> int:
        """Drop the payloads past their type's retention, as the maintainer role."""
        if not self._retention.periods or self._maintainer_dsn is None:
            return 0
        connection = await asyncpg.connect(self._maintainer_dsn)
        try:
            return await prune_expired(connection, self._retention)
        finally:
            await connection.close()

    async def publish_due_checkpoint(self) -> Checkpoint | None:
        """Sign a checkpoint if one is due for events other than checkpoints, and publish it."""
        store = self.store
        latest = await store.latest_checkpoint()
        signed = latest.tree_size if latest else 0

        # A checkpoint's own event is recorded too; signing for it alone would never stop.
        checkpoint = None
        if self._last_foreign_size > signed:
            checkpoint = await store.checkpoint_if_due()

        # Also catches up on a checkpoint whose publication failed in a handler.
        latest = await store.latest_checkpoint()
        if latest is not None:
            await self._publish_checkpoint(latest)
        return checkpoint

    def _note_foreign(self, result: AppendResult, types: dict[str, str]) -> None:
        """Remember the tree size after the last recorded event that is not a checkpoint."""
        for receipt in result.recorded:
            if types.get(receipt.event_id) != CHECKPOINT_TYPE:
                self._last_foreign_size = max(self._last_foreign_size, receipt.seq + 1)

    async def _publish_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Publish a checkpoint newer than the last one published."""
        async with self._publish_lock:
            if checkpoint.tree_size <= self._published_size:
                return
            envelope = await self.service.publish(
                checkpoint_event(checkpoint),
                tenant=SYSTEM_TENANT,
                correlation_id=f"ledger-checkpoint-{checkpoint.tree_size}",
            )
            self._published_size = checkpoint.tree_size
            self.stats.checkpoints_published += 1
        log.info(
            "ledger.checkpoint_published",
            tree_size=checkpoint.tree_size,
            event_id=envelope.id,
            correlation_id=envelope.correlationid,
        )

    async def _refuse(
        self, record: ConsumerRecord[bytes, bytes], reason: DeadLetterReason, error: str
    ) -> None:
        """Dead-letter a record the ledger cannot take; one on a DLQ is logged and skipped."""
        if record.topic.endswith(".dlq"):
            # LIMITATION: a foreign record on a dead-letter topic is only logged; a quarantine
            # table of raw bytes would keep it for auditors.
            log.warning(
                "ledger.dead_letter_record_skipped",
                reason=reason.value,
                error=error[:500],
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
            )
            return
        await self.service.dead_letter(record, reason, error)

    async def _sign_on_timer(self) -> None:
        """Call checkpoint_if_due often enough that the time policy is kept."""
        tick = max(0.05, min(5.0, self.settings.ledger_checkpoint_every_seconds / 4))
        while True:
            await asyncio.sleep(tick)
            try:
                await self.publish_due_checkpoint()
            except Exception:
                log.exception("ledger.checkpoint_timer_failed")

    async def _prune_on_timer(self) -> None:
        """Apply retention every interval; a failure is logged and tried again next time."""
        while True:
            try:
                await self.apply_retention()
            except Exception:
                log.exception("ledger.retention_failed")
            await asyncio.sleep(self.settings.ledger_retention_interval_seconds)

    async def _serve_auditors(self) -> None:
        """Serve the auditor API once the token keys can be read, retrying until they can."""
        settings = self.settings
        reported = None
        while True:
            try:
                verifier = TokenVerifier(settings.auth_settings())
                break
            except AuthConfigError as error:
                # Recording goes on; only the API waits for the keys, saying so once per reason.
                if str(error) != reported:
                    reported = str(error)
                    log.warning("ledger.auditor_api_waiting", reason=reported)
                await asyncio.sleep(settings.ledger_auth_retry_seconds)
        log.info(
            "ledger.auditor_api_starting",
            host=settings.ledger_api_host,
            port=settings.ledger_api_port,
        )

        config = uvicorn.Config(
            build_auditor_api(self.store, verifier),
            host=settings.ledger_api_host,
            port=settings.ledger_api_port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        self._server = _EmbeddedServer(config)
        try:
            await self._server.serve()
        except SystemExit:
            # uvicorn exits when it cannot bind; the ledger keeps recording all the same.
            log.error(
                "ledger.auditor_api_failed",
                host=settings.ledger_api_host,
                port=settings.ledger_api_port,
            )


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server inside a service that handles SIGTERM and SIGINT itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Leave signal handling to the service: uvicorn would take SIGTERM and SIGINT over."""
        yield


def _is_text(value: Any) -> bool:
    """Tell whether a value is a non-empty string."""
    return isinstance(value, str) and bool(value)


async def serve(ledger: LedgerService) -> None:
    """Run the ledger until SIGTERM or SIGINT, then stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with ledger:
        await stop.wait()


def main() -> None:
    """Entry point of `python -m steward_ledger`: open the ledger and run until told to stop."""
    settings = LedgerSettings()
    configure_logging(SERVICE_NAME, settings)
    try:
        asyncio.run(serve(LedgerService(settings)))
    except LedgerError as error:
        # Configuration errors name the file or setting; they never hold key material.
        log.error("ledger.refused_to_start", error=str(error))
        raise SystemExit(f"ledger: {error}") from None
