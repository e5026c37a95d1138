"""The auditor API: recorded events, timelines, search, proofs, checkpoints, exports, erasure.

Every route but the public key needs a bearer token. Auditors see only their own tenant's
events; checkpoints and consistency proofs cover the whole ledger and name no event.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at run time,
# including the dependency aliases defined inside build_auditor_api.
import asyncio
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import IO, Annotated, Any, TypeVar

import structlog
from fastapi import Depends, FastAPI, HTTPException, Query, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from steward_auth import Principal, TokenVerifier, require_roles
from steward_ledger_proofs import Checkpoint

from steward_ledger._records import RecordedEvent
from steward_ledger.errors import EventNotFoundError, InvalidEventError, LedgerIntegrityError
from steward_ledger.store import EventQuery, ExportSummary, LedgerStore

log = structlog.get_logger("steward.ledger")

AUDITOR = "auditor"
PRIVACY_OFFICER = "privacy_officer"
BUNDLE_MEDIA_TYPE = "application/x-ndjson"
_STREAM_CHUNK = 64 * 1024

T = TypeVar("T")


class ErasureRequest(BaseModel):
    """Whose personal data to make unreadable: the pseudonymous data subject id."""

    subject: str = Field(min_length=1, max_length=256)


def build_auditor_api(store: LedgerStore, verifier: TokenVerifier) -> FastAPI:
    """Return the FastAPI application that serves one ledger store to auditors."""
    app = FastAPI(title="Steward ledger", version="1", docs_url=None, redoc_url=None)
    auditor = require_roles(verifier, AUDITOR)
    privacy_officer = require_roles(verifier, PRIVACY_OFFICER)
    Auditor = Annotated[Principal, Depends(auditor)]
    PrivacyOfficer = Annotated[Principal, Depends(privacy_officer)]

    @app.get("/v1/events/{event_id}")
    async def event(event_id: str, principal: Auditor) -> dict[str, Any]:
        """One recorded event of the auditor's tenant, with its place in the tree."""
        recorded = await _found(store.event(event_id, tenant=principal.tenant))
        _log_access("event", principal, event_id=event_id)
        return _recorded_json(recorded)

    @app.get("/v1/timelines/{correlation_id}")
    async def timeline(
        correlation_id: str, principal: Auditor, open_personal_data: bool = False
    ) -> dict[str, Any]:
        """Every event of one correlation id in ledger order.

        With `open_personal_data`, sealed fields are opened where the subject's key still
        exists, as a replay needs the question; an erased subject's fields stay sealed.
        """
        events = await store.timeline(correlation_id, tenant=principal.tenant)
        _log_access(
            "timeline",
            principal,
            correlation_id=correlation_id,
            events=len(events),
            opened_personal_data=open_personal_data,
        )
        recorded_json = [_recorded_json(recorded) for recorded in events]
        if open_personal_data:
            for item, recorded in zip(recorded_json, events, strict=True):
                item["event"] = await store.open_personal_data(recorded)
        return {"correlation_id": correlation_id, "events": recorded_json}

    @app.get("/v1/events")
    async def search(
        principal: Auditor,
        occurred_from: datetime | None = None,
        occurred_to: datetime | None = None,
        event_type: Annotated[list[str] | None, Query(alias="type")] = None,
        tenant: str | None = None,
        after: Annotated[int | None, Query(ge=-1)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """A page of the tenant's events by time range and type; pass `next_after` back."""
        query = EventQuery(
            tenant=_own_tenant(principal, tenant),
            types=event_type,
            occurred_from=occurred_from,
            occurred_to=occurred_to,
        )
        page = await store.search(query, after_seq=after, limit=limit)
        _log_access("search", principal, events=len(page.events))
        return {
            "events": [_recorded_json(recorded) for recorded in page.events],
            "next_after": page.next_after_seq,
        }

    @app.get("/v1/events/{event_id}/proof")
    async def inclusion_proof(event_id: str, principal: Auditor) -> dict[str, Any]:
        """The RFC 9162 inclusion proof of an event in the latest signed tree."""
        proof = await _found(store.inclusion_proof(event_id, tenant=principal.tenant))
        _log_access("inclusion_proof", principal, event_id=event_id)
        return {
            "event_id": proof.event_id,
            "seq": proof.seq,
            "leaf_hash": proof.leaf_hash.hex(),
            "path": [node.hex() for node in proof.path],
            "checkpoint": proof.checkpoint.to_json(),
        }

    @app.get("/v1/proofs/consistency")
    async def consistency_proof(
        principal: Auditor,
        old_size: Annotated[int, Query(ge=1)],
        new_size: Annotated[int, Query(ge=1)],
    ) -> dict[str, Any]:
        """The RFC 9162 consistency proof between two signed checkpoints' tree sizes."""
        if old_size > new_size:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                f"old_size {old_size} is larger than new_size {new_size}",
            )
        signed = {cp.tree_size: cp for cp in await store.checkpoints(old_size, new_size)}
        old, new = signed.get(old_size), signed.get(new_size)
        if old is None or new is None:
            missing = old_size if old is None else new_size
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"no signed checkpoint has tree size {missing}"
            )
        proof = await store.consistency_proof(old_size, new_size)
        _log_access("consistency_proof", principal, old_size=old_size, new_size=new_size)
        return {
            "old_checkpoint": old.to_json(),
            "new_checkpoint": new.to_json(),
            "proof": [node.hex() for node in proof],
        }

    @app.get("/v1/checkpoints/latest")
    async def latest_checkpoint(principal: Auditor) -> dict[str, Any]:
        """The most recent signed checkpoint."""
        checkpoint: Checkpoint | None = await store.latest_checkpoint()
        if checkpoint is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no checkpoint has been signed yet")
        return checkpoint.to_json()

    @app.get("/v1/public-key")
    async def public_key() -> Response:
        """The Ed25519 public key that verifies every checkpoint, as PEM; needs no token."""
        return Response(store.public_key_pem(), media_type="application/x-pem-file")

    @app.get("/v1/exports")
    async def export(
        principal: Auditor,
        correlation_id: str | None = None,
        occurred_from: datetime | None = None,
        occurred_to: datetime | None = None,
        event_type: Annotated[list[str] | None, Query(alias="type")] = None,
    ) -> StreamingResponse:
        """A verifiable bundle of one correlation id, or of a time range, in the tenant."""
        tenant = principal.tenant
        if correlation_id is not None:
            if occurred_from or occurred_to or event_type:
                raise HTTPException(
                    status.HTTP_400_BAD_REQUEST,
                    "give either correlation_id or a time range and types, not both",
                )

            def write(stream: IO[bytes]) -> Awaitable[ExportSummary]:
                return store.export_correlation(stream, correlation_id, tenant=tenant)

        else:
            if occurred_from is None and occurred_to is None:
                raise HTTPException(
                    status.HTTP_400_BAD_REQUEST,
                    "give correlation_id, or occurred_from and/or occurred_to",
                )
            query = EventQuery(tenant, event_type, occurred_from, occurred_to)

            def write(stream: IO[bytes]) -> Awaitable[ExportSummary]:
                return store.export_matching(stream, query)

        spool, summary = await _spooled(write)
        _log_access("export", principal, events=summary.events, tree_size=summary.end)
        return StreamingResponse(
            _chunks(spool),
            media_type=BUNDLE_MEDIA_TYPE,
            headers={
                "Content-Disposition": 'attachment; filename="ledger-bundle.jsonl"',
                "X-Steward-Bundle-Events": str(summary.events),
            },
        )

    @app.post("/v1/erasures")
    async def erase_subject(request: ErasureRequest, principal: PrivacyOfficer) -> dict[str, Any]:
        """Destroy a data subject's key: their sealed fields stay recorded but unreadable."""
        # The subject travels in the body, so no access log or proxy ever records it.
        subject = request.subject
        if not await store.subject_recorded(subject, tenant=principal.tenant):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, "no recorded event of this tenant names that subject"
            )
        try:
            erased = await store.erase_subject(subject)
        except InvalidEventError as error:
            raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
        # The subject is a pseudonym, yet it is left out of the log line all the same.
        _log_access("erasure", principal, had_key=erased)
        return {"subject": subject, "erased": erased}

    @app.exception_handler(LedgerIntegrityError)
    async def integrity_failed(request: Any, error: LedgerIntegrityError) -> Response:
        """Say plainly that the stored ledger failed its own checks."""
        log.error("ledger.integrity_failed", seq=error.seq, error=str(error))
        return Response(
            f"ledger integrity check failed at seq {error.seq}",
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    return app


def _own_tenant(principal: Principal, tenant: str | None) -> str:
    """Return the principal's tenant, refusing a query that names another one."""
    if tenant is not None and tenant != principal.tenant:
        log.warning(
            "auth.refused",
            status=status.HTTP_403_FORBIDDEN,
            reason="tenant mismatch",
            subject=principal.subject,
            tenant=principal.tenant,
        )
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"token is for tenant {principal.tenant}, not {tenant}"
        )
    return principal.tenant


async def _found(lookup: Awaitable[T]) -> T:
    """Await a lookup, answering 404 when the event is not recorded in the tenant."""
    try:
        return await lookup
    except EventNotFoundError:
        # The same answer whether the event is missing or belongs to another tenant.
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such event in this tenant") from None


async def _spooled(
    write: Callable[[IO[bytes]], Awaitable[ExportSummary]],
) -> tuple[IO[bytes], ExportSummary]:
    """Write a bundle to a temporary file, so a failed export never sends half a bundle."""
    # LIMITATION: the bundle is spooled to disk before the first byte is sent; a store that
    # wrote to an async stream would let large exports start at once.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _chunks
    try:
        summary = await write(spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, summary


async def _chunks(spool: IO[bytes]) -> AsyncIterator[bytes]:
    """Stream a spooled bundle in chunks and remove it when done."""
    try:
        while chunk := await asyncio.to_thread(spool.read, _STREAM_CHUNK):
            yield chunk
    finally:
        spool.close()


def _recorded_json(recorded: RecordedEvent) -> dict[str, Any]:
    """Return a recorded event as JSON: the event as recorded plus its hashes and seq."""
    return {
        "seq": recorded.seq,
        "event": recorded.event,
        "canonical_sha256": recorded.canonical_sha256.hex(),
        "leaf_hash": recorded.leaf_hash.hex(),
        "recorded_at": recorded.recorded_at.isoformat(),
        "pruned_at": recorded.pruned_at.isoformat() if recorded.pruned_at else None,
    }


def _log_access(action: str, principal: Principal, **fields: Any) -> None:
    """Write one line per auditor request: who, which tenant, what, never the token."""
    log.info(
        "ledger.audit_access",
        action=action,
        subject=principal.subject,
        tenant=principal.tenant,
        **fields,
    )
