"""The review queue over PostgreSQL: enqueue, list, lease-based claims and decisions."""

from __future__ import annotations

import difflib
import json
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg
import structlog

from steward_review.errors import InvalidDecision, ItemNotFound, ItemUnavailable, LeaseNotHeld
from steward_review.model import (
    Claim,
    DecisionKind,
    DecisionOutcome,
    DecisionRequest,
    EscalationCause,
    GuardrailFinding,
    ItemStatus,
    NewReviewItem,
    Passage,
    Priority,
    QueueEntry,
    ReviewContext,
    ReviewDecision,
    Reviewer,
    ReviewEscalation,
    ReviewItem,
)
from steward_review.policy import PolicyBook, TenantPolicy

if TYPE_CHECKING:
    from steward_review.sink import DecisionSink

log = structlog.get_logger("steward_review")

Clock = Callable[[], datetime]

SCHEMA_SQL = """
CREATE SCHEMA IF NOT EXISTS review;

-- Workflow state and content live apart: claims scan and rewrite only the narrow state rows.
CREATE TABLE IF NOT EXISTS review.items (
    item_id           text PRIMARY KEY,
    tenant            text NOT NULL,
    correlation_id    text NOT NULL,
    reason            text NOT NULL,
    priority          smallint NOT NULL,
    status            text NOT NULL DEFAULT 'open',
    enqueued_at       timestamptz NOT NULL,
    due_at            timestamptz NOT NULL,
    claimed_by        text,
    lease_expires_at  timestamptz,
    claims            integer NOT NULL DEFAULT 0,
    voters            text[] NOT NULL DEFAULT '{}',
    escalated_at      timestamptz,
    escalation_reason text,
    decided_at        timestamptz
);

CREATE TABLE IF NOT EXISTS review.item_contents (
    item_id       text PRIMARY KEY REFERENCES review.items (item_id),
    question      text NOT NULL,
    draft_answer  text NOT NULL,
    passages      jsonb NOT NULL,
    findings      jsonb NOT NULL,
    context       jsonb NOT NULL DEFAULT '{}'
);

-- Tables made before items kept their provenance gain it here.
ALTER TABLE review.item_contents ADD COLUMN IF NOT EXISTS context jsonb NOT NULL DEFAULT '{}';

-- Unleased and leased items are indexed apart, so finding the next free item never walks
-- past the items other reviewers hold.
CREATE INDEX IF NOT EXISTS items_unleased
    ON review.items (tenant, priority, due_at) WHERE status <> 'decided' AND claimed_by IS NULL;
CREATE INDEX IF NOT EXISTS items_leased
    ON review.items (tenant, lease_expires_at)
    WHERE status <> 'decided' AND claimed_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_overdue
    ON review.items (due_at) WHERE status <> 'decided' AND escalated_at IS NULL;

CREATE TABLE IF NOT EXISTS review.votes (
    item_id        text NOT NULL REFERENCES review.items (item_id),
    reviewer       text NOT NULL,
    kind           text NOT NULL,
    edited_answer  text,
    reason         text,
    cast_at        timestamptz NOT NULL,
    PRIMARY KEY (item_id, reviewer)
);

CREATE TABLE IF NOT EXISTS review.outbox (
    seq           bigserial PRIMARY KEY,
    item_id       text NOT NULL REFERENCES review.items (item_id),
    kind          text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL,
    delivered_at  timestamptz
);

CREATE INDEX IF NOT EXISTS outbox_pending ON review.outbox (seq) WHERE delivered_at IS NULL;
"""

ITEM_COLUMNS = """
    i.item_id, i.tenant, i.correlation_id, i.reason, i.priority, c.question, c.draft_answer,
    c.passages, c.findings, c.context, i.status, i.enqueued_at, i.due_at, i.claimed_by,
    i.lease_expires_at, i.escalated_at, i.escalation_reason, cardinality(i.voters) AS votes
"""

# A claim answers with the lease only; the content is read when a reviewer opens the item.
CLAIM_COLUMNS = """
    i.item_id, i.tenant, i.priority, i.status, i.due_at, i.claimed_by, i.lease_expires_at,
    cardinality(i.voters) AS votes
"""

INSERT_ITEM_SQL = """
WITH stored AS (
    INSERT INTO review.items (
        item_id, tenant, correlation_id, reason, priority, enqueued_at, due_at
    ) VALUES ($1, $2, $3, $4, $5, $10, $11)
    ON CONFLICT (item_id) DO NOTHING
    RETURNING item_id
)
INSERT INTO review.item_contents (item_id, question, draft_answer, passages, findings, context)
SELECT item_id, $6, $7, $8::jsonb, $9::jsonb, $12::jsonb FROM stored
"""

ITEMS_WITH_CONTENT = "review.items i JOIN review.item_contents c ON c.item_id = i.item_id"

SELECT_ITEM_SQL = (
    f"SELECT {ITEM_COLUMNS} FROM {ITEMS_WITH_CONTENT} WHERE i.tenant = $1 AND i.item_id = $2"  # noqa: S608
)

# The claimable test lives in one place so claim_next and claim agree on it:
# $1 tenant, $2 statuses the reviewer may work, $3 now, $4 reviewer pseudonym.
# Voters are kept on the item itself so a claim never has to probe the votes table.
CLAIMABLE = """
    i.tenant = $1
    AND i.status = ANY($2::text[])
    AND NOT ($4 = ANY(i.voters))
"""
LEASE_FREE = "(i.claimed_by IS NULL OR i.lease_expires_at <= $3)"

# The best never-leased item and the best item whose lease expired compete; the loser's row
# lock lasts only as long as this one statement.
CLAIM_NEXT_SQL = f"""
WITH fresh AS (
    SELECT i.item_id, i.priority, i.due_at FROM review.items i
    WHERE {CLAIMABLE} AND i.claimed_by IS NULL
    ORDER BY i.priority, i.due_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
),
expired AS (
    SELECT i.item_id, i.priority, i.due_at FROM review.items i
    WHERE {CLAIMABLE} AND i.claimed_by IS NOT NULL AND i.lease_expires_at <= $3
    ORDER BY i.priority, i.due_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
),
next AS (
    SELECT item_id FROM (SELECT * FROM fresh UNION ALL SELECT * FROM expired) AS candidates
    ORDER BY priority, due_at
    LIMIT 1
)
UPDATE review.items i
SET claimed_by = $4, lease_expires_at = $5, claims = i.claims + 1
FROM next
WHERE i.item_id = next.item_id
RETURNING {CLAIM_COLUMNS}
"""  # noqa: S608

CLAIM_ONE_SQL = f"""
UPDATE review.items i
SET claimed_by = $4, lease_expires_at = $5, claims = i.claims + 1
WHERE i.item_id = $6 AND {CLAIMABLE} AND ({LEASE_FREE} OR i.claimed_by = $4)
RETURNING {CLAIM_COLUMNS}
"""  # noqa: S608

RELEASE_SQL = """
UPDATE review.items SET claimed_by = NULL, lease_expires_at = NULL
WHERE tenant = $1 AND item_id = $2 AND claimed_by = $3 AND status <> 'decided'
"""

LOCK_FOR_DECISION_SQL = f"{SELECT_ITEM_SQL} FOR UPDATE OF i"

OVERDUE_SQL = f"""
UPDATE review.items i SET escalated_at = $1, escalation_reason = 'overdue'
FROM review.item_contents c
WHERE c.item_id = i.item_id AND i.item_id IN (
    SELECT item_id FROM review.items
    WHERE status <> 'decided' AND escalated_at IS NULL AND due_at <= $1
    ORDER BY due_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
RETURNING {ITEM_COLUMNS}
"""  # noqa: S608

INSERT_OUTBOX_SQL = """
INSERT INTO review.outbox (item_id, kind, payload, created_at)
VALUES ($1, $2, $3::jsonb, $4) RETURNING seq
"""

PENDING_OUTBOX_SQL = """
SELECT seq, kind, payload FROM review.outbox
WHERE delivered_at IS NULL AND ($1::bigint[] IS NULL OR seq = ANY($1::bigint[]))
ORDER BY seq
LIMIT $2
FOR UPDATE SKIP LOCKED
"""

OUTBOX_DECIDED = "decided"
OUTBOX_ESCALATED = "escalated"


def answer_diff(draft: str, edited: str) -> str:
    """Return a unified diff from the draft answer to the edited one."""
    lines = difflib.unified_diff(
        draft.splitlines(keepends=True),
        edited.splitlines(keepends=True),
        fromfile="draft",
        tofile="edited",
    )
    # A last line without a newline would otherwise run into the next hunk header.
    return "".join(line if line.endswith("\n") else f"{line}\n" for line in lines)


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Skip asyncpg's per-release RESET ALL round trip; the queue leaves no session state."""


def create_review_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool suited to ReviewQueue: it owns its connections, so releases need no reset."""
    # LIMITATION: a pool shared with code that sets session state would need asyncpg's reset.
    return asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, reset=_keep_session)


class ReviewQueue:
    """Review items in PostgreSQL, claimed under leases and decided by pseudonymous reviewers."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        policies: PolicyBook,
        sink: DecisionSink,
        lease: timedelta = timedelta(minutes=10),
        clock: Clock = _utc_now,
    ) -> None:
        if lease <= timedelta(0):
            raise ValueError(f"lease must be positive, got {lease}")
        self._pool = pool
        self._policies = policies
        self._sink = sink
        self._lease = lease
        self._clock = clock

    @property
    def policies(self) -> PolicyBook:
        """The tenant policies this queue applies."""
        return self._policies

    def now(self) -> datetime:
        """The queue's idea of the current time, used for every lease and SLA."""
        return self._clock()

    async def install_schema(self) -> None:
        """Create the service's own schema and tables if they are missing."""
        async with self._pool.acquire() as connection:
            await connection.execute(SCHEMA_SQL)

    async def enqueue(self, new: NewReviewItem) -> ReviewItem:
        """Store an item once (a repeat of the same item id is ignored) and return it."""
        requested_at = new.requested_at or self.now()
        due_at = self._policies.for_tenant(new.tenant).due_at(new.priority, requested_at)

        async with self._pool.acquire() as connection:
            await connection.execute(
                INSERT_ITEM_SQL,
                new.item_id,
                new.tenant,
                new.correlation_id,
                new.reason,
                new.priority.rank,
                new.question,
                new.draft_answer,
                json.dumps([passage.model_dump() for passage in new.passages]),
                json.dumps([finding.model_dump() for finding in new.findings]),
                requested_at,
                due_at,
                new.context.model_dump_json(),
            )
            row = await connection.fetchrow(SELECT_ITEM_SQL, new.tenant, new.item_id)

        # The same id under another tenant is a different item we must not reveal.
        if row is None:
            raise ItemUnavailable(new.item_id, "the id is already used by another tenant")
        return _item_from_row(row)

    async def get(self, tenant: str, item_id: str) -> ReviewItem:
        """Return one item of the tenant, or raise ItemNotFound."""
        async with self._pool.acquire() as connection:
            row = await connection.fetchrow(SELECT_ITEM_SQL, tenant, item_id)
        if row is None:
            raise ItemNotFound(tenant, item_id)
        return _item_from_row(row)

    async def list_items(
        self,
        tenant: str,
        *,
        statuses: Collection[ItemStatus] | None = None,
        priority: Priority | None = None,
        reason: str | None = None,
        overdue_only: bool = False,
        limit: int = 200,
    ) -> list[QueueEntry]:
        """List the tenant's items, most urgent first, with the SLA time left on each."""
        if not 1 <= limit <= 1000:
            raise ValueError(f"limit must be within 1..1000, got {limit}")
        wanted = [status.value for status in statuses] if statuses else _UNDECIDED
        now = self.now()

        async with self._pool.acquire() as connection:
            rows = await connection.fetch(
                f"""
                SELECT {ITEM_COLUMNS} FROM {ITEMS_WITH_CONTENT}
                WHERE i.tenant = $1 AND i.status = ANY($2::text[])
                  AND ($3::smallint IS NULL OR i.priority = $3)
                  AND ($4::text IS NULL OR i.reason = $4)
                  AND (NOT $5 OR i.due_at <= $6)
                ORDER BY i.priority, i.due_at
                LIMIT $7
                """,  # noqa: S608
                tenant,
                wanted,
                priority.rank if priority else None,
                reason,
                overdue_only,
                now,
                limit,
            )

        items = [_item_from_row(row) for row in rows]
        return [QueueEntry(item, item.time_left(now), item.lease_live(now)) for item in items]

    async def claim_next(self, reviewer: Reviewer) -> Claim | None:
        """Lease the most urgent unleased item this reviewer may work, or None if none is."""
        now = self.now()

        async with self._pool.acquire() as connection:
            row = await connection.fetchrow(
                CLAIM_NEXT_SQL,
                reviewer.tenant,
                _workable_statuses(reviewer),
                now,
                reviewer.pseudonym,
                now + self._lease,
            )

        return None if row is None else _claim_from_row(row)

    async def claim(self, reviewer: Reviewer, item_id: str) -> Claim:
        """Lease one named item (or renew the reviewer's own lease on it)."""
        now = self.now()

        async with self._pool.acquire() as connection:
            row = await connection.fetchrow(
                CLAIM_ONE_SQL,
                reviewer.tenant,
                _workable_statuses(reviewer),
                now,
                reviewer.pseudonym,
                now + self._lease,
                item_id,
            )
        if row is not None:
            return _claim_from_row(row)

        # Say why, so the page can tell the reviewer something useful.
        item = await self.get(reviewer.tenant, item_id)
        raise ItemUnavailable(item_id, _unclaimable_reason(item, reviewer, now))

    async def release(self, reviewer: Reviewer, item_id: str) -> None:
        """Give up the reviewer's lease so someone else can claim the item at once."""
        async with self._pool.acquire() as connection:
            await connection.execute(RELEASE_SQL, reviewer.tenant, item_id, reviewer.pseudonym)

    async def decide(
        self, reviewer: Reviewer, item_id: str, request: DecisionRequest
    ) -> DecisionOutcome:
        """Apply a reviewer's decision to an item they hold a live lease on."""
        now = self.now()
        policy = self._policies.for_tenant(reviewer.tenant)

        async with self._pool.acquire() as connection, connection.transaction():
            # Lock the item so a concurrent decision or expiry cannot interleave.
            row = await connection.fetchrow(LOCK_FOR_DECISION_SQL, reviewer.tenant, item_id)
            if row is None:
                raise ItemNotFound(reviewer.tenant, item_id)
            item = _item_from_row(row)
            _check_lease(item, reviewer, now)
            _check_request(item, reviewer, request)

            # Escalation needs no agreement: any reviewer may hand an item up.
            if request.kind is DecisionKind.ESCALATE:
                escalation = _escalation(
                    item,
                    EscalationCause.REVIEWER,
                    request.reason or "escalated by a reviewer",
                    (reviewer.pseudonym,),
                    policy.holding_message,
                    now,
                )
                outcome = await self._escalate(connection, item, escalation)
                seqs = [await self._stage(connection, item.item_id, escalation, now)]

            # High-impact tenants need two reviewers who agree, unless a supervisor settles
            # an escalated item.
            # LIMITATION: one supervisor settles an escalated high-impact item alone; a second
            # supervisor vote would need the same voting path keyed on the escalated status.
            elif policy.high_impact and item.status is not ItemStatus.ESCALATED:
                outcome, staged = await self._vote(connection, item, reviewer, request, now)
                seqs = [await self._stage(connection, item.item_id, staged, now)] if staged else []

            else:
                decision = _decision(item, (reviewer.pseudonym,), request, policy, now)
                outcome = await self._finish(connection, item, decision)
                seqs = [await self._stage(connection, item.item_id, decision, now)]

        log.info(
            "review.decision",
            item_id=item_id,
            correlation_id=item.correlation_id,
            tenant=item.tenant,
            reviewer=reviewer.pseudonym,
            kind=request.kind.value,
            status=outcome.status.value,
        )
        await self._deliver(seqs)
        return outcome

    async def escalate_overdue(self, limit: int = 100) -> list[ReviewEscalation]:
        """Flag undecided items past their due time, once each, and hand them to the sink."""
        now = self.now()

        async with self._pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(OVERDUE_SQL, now, limit)
            escalations = []
            seqs = []
            for row in rows:
                item = _item_from_row(row)
                policy = self._policies.for_tenant(item.tenant)
                escalation = _escalation(
                    item,
                    EscalationCause.OVERDUE,
                    f"not decided by its due time {item.due_at.isoformat()}",
                    (),
                    policy.holding_message,
                    now,
                )
                escalations.append(escalation)
                seqs.append(await self._stage(connection, item.item_id, escalation, now))

        for escalation in escalations:
            log.info(
                "review.overdue",
                item_id=escalation.item_id,
                correlation_id=escalation.correlation_id,
                tenant=escalation.tenant,
            )
        await self._deliver(seqs)
        return escalations

    async def deliver_pending(self, limit: int = 500) -> int:
        """Hand the sink every stored decision or escalation it has not yet taken."""
        # LIMITATION: delivered outbox rows are kept forever; a retention job would prune them.
        return await self._deliver(None, limit)

    async def _vote(
        self,
        connection: asyncpg.Connection,
        item: ReviewItem,
        reviewer: Reviewer,
        request: DecisionRequest,
        now: datetime,
    ) -> tuple[DecisionOutcome, ReviewDecision | ReviewEscalation | None]:
        """Record one of two required votes and settle the item when the second arrives."""
        policy = self._policies.for_tenant(item.tenant)
        await connection.execute(
            "INSERT INTO review.votes (item_id, reviewer, kind, edited_answer, reason, cast_at)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            item.item_id,
            reviewer.pseudonym,
            request.kind.value,
            request.edited_answer,
            request.reason,
            now,
        )
        earlier = await connection.fetch(
            "SELECT reviewer, kind, edited_answer FROM review.votes"
            " WHERE item_id = $1 AND reviewer <> $2 ORDER BY cast_at",
            item.item_id,
            reviewer.pseudonym,
        )

        await connection.execute(
            "UPDATE review.items SET voters = array_append(voters, $2) WHERE item_id = $1",
            item.item_id,
            reviewer.pseudonym,
        )

        # First vote: free the item for a second, different reviewer.
        if not earlier:
            await connection.execute(
                "UPDATE review.items SET status = 'awaiting_second', claimed_by = NULL,"
                " lease_expires_at = NULL WHERE item_id = $1",
                item.item_id,
            )
            return DecisionOutcome(item_id=item.item_id, status=ItemStatus.AWAITING_SECOND), None

        first = earlier[0]
        reviewers = (first["reviewer"], reviewer.pseudonym)
        if _votes_agree(first["kind"], first["edited_answer"], request):
            decision = _decision(item, reviewers, request, policy, now)
            return await self._finish(connection, item, decision), decision

        escalation = _escalation(
            item,
            EscalationCause.DISAGREEMENT,
            f"reviewers disagreed: {first['kind']} versus {request.kind.value}",
            reviewers,
            policy.holding_message,
            now,
        )
        return await self._escalate(connection, item, escalation), escalation

    async def _finish(
        self, connection: asyncpg.Connection, item: ReviewItem, decision: ReviewDecision
    ) -> DecisionOutcome:
        """Mark the item decided."""
        await connection.execute(
            "UPDATE review.items SET status = 'decided', decided_at = $2, claimed_by = NULL,"
            " lease_expires_at = NULL WHERE item_id = $1",
            item.item_id,
            decision.decided_at,
        )
        return DecisionOutcome(item_id=item.item_id, status=ItemStatus.DECIDED, decision=decision)

    async def _escalate(
        self, connection: asyncpg.Connection, item: ReviewItem, escalation: ReviewEscalation
    ) -> DecisionOutcome:
        """Move the item to the supervisors' queue."""
        await connection.execute(
            "UPDATE review.items SET status = 'escalated', escalated_at = $2,"
            " escalation_reason = $3, claimed_by = NULL, lease_expires_at = NULL"
            " WHERE item_id = $1",
            item.item_id,
            escalation.escalated_at,
            escalation.reason,
        )
        return DecisionOutcome(
            item_id=item.item_id, status=ItemStatus.ESCALATED, escalation=escalation
        )

    async def _stage(
        self,
        connection: asyncpg.Connection,
        item_id: str,
        record: ReviewDecision | ReviewEscalation,
        now: datetime,
    ) -> int:
        """Store a record for the sink in the same transaction as the state change."""
        kind = OUTBOX_DECIDED if isinstance(record, ReviewDecision) else OUTBOX_ESCALATED
        seq: int = await connection.fetchval(
            INSERT_OUTBOX_SQL, item_id, kind, record.model_dump_json(), now
        )
        return seq

    async def _deliver(self, seqs: list[int] | None, limit: int = 500) -> int:
        """Pass staged records to the sink, marking each delivered only after the sink returns."""
        if seqs is not None and not seqs:
            return 0

        delivered = 0
        async with self._pool.acquire() as connection, connection.transaction():
            # SKIP LOCKED lets a retry loop and a fresh decision deliver side by side.
            rows = await connection.fetch(PENDING_OUTBOX_SQL, seqs, limit)
            for row in rows:
                try:
                    await self._hand_to_sink(row["kind"], row["payload"])
                except Exception:
                    log.exception("review.sink_failed", outbox_seq=row["seq"], kind=row["kind"])
                    break
                await connection.execute(
                    "UPDATE review.outbox SET delivered_at = $2 WHERE seq = $1",
                    row["seq"],
                    self.now(),
                )
                delivered += 1
        return delivered

    async def _hand_to_sink(self, kind: str, payload: str) -> None:
        """Rebuild a staged record and give it to the sink."""
        if kind == OUTBOX_DECIDED:
            await self._sink.decided(ReviewDecision.model_validate_json(payload))
        else:
            await self._sink.escalated(ReviewEscalation.model_validate_json(payload))


_UNDECIDED = [ItemStatus.OPEN.value, ItemStatus.AWAITING_SECOND.value, ItemStatus.ESCALATED.value]


def _workable_statuses(reviewer: Reviewer) -> list[str]:
    """Statuses a reviewer may claim: escalated items are for supervisors only."""
    statuses = [ItemStatus.OPEN.value, ItemStatus.AWAITING_SECOND.value]
    if reviewer.supervisor:
        statuses.append(ItemStatus.ESCALATED.value)
    return statuses


def _unclaimable_reason(item: ReviewItem, reviewer: Reviewer, now: datetime) -> str:
    """Explain why a claim on an existing item failed."""
    if item.status is ItemStatus.DECIDED:
        return "it is already decided"
    if item.status is ItemStatus.ESCALATED and not reviewer.supervisor:
        return "it is escalated and needs a supervisor"
    if item.lease_live(now) and item.claimed_by != reviewer.pseudonym:
        return "another reviewer holds its lease"
    return "you already voted on it; a second, different reviewer must decide"


def _check_lease(item: ReviewItem, reviewer: Reviewer, now: datetime) -> None:
    """Refuse a decision from anyone but the holder of a live lease."""
    if item.status is ItemStatus.DECIDED:
        raise LeaseNotHeld(item.item_id, "the item is already decided")
    if item.claimed_by != reviewer.pseudonym:
        raise LeaseNotHeld(item.item_id, "claim the item before deciding it")
    if not item.lease_live(now):
        raise LeaseNotHeld(item.item_id, "your lease expired; claim the item again")


def _check_request(item: ReviewItem, reviewer: Reviewer, request: DecisionRequest) -> None:
    """Refuse a decision that lacks what its kind needs."""
    if request.kind is DecisionKind.APPROVE and not item.draft_answer.strip():
        raise InvalidDecision("there is no draft answer to approve; write one (edit) or reject")
    if request.kind is DecisionKind.REJECT and not (request.reason or "").strip():
        raise InvalidDecision("a rejection needs a reason, got none")
    if request.kind is DecisionKind.EDIT:
        edited = (request.edited_answer or "").strip()
        if not edited:
            raise InvalidDecision("an edit needs the edited answer, got an empty text")
        if edited == item.draft_answer.strip():
            raise InvalidDecision("the edited answer equals the draft; approve it instead")
    if request.kind is DecisionKind.ESCALATE and item.status is ItemStatus.ESCALATED:
        raise InvalidDecision("the item is already escalated; approve, edit or reject it")


def _votes_agree(first_kind: str, first_edit: str | None, second: DecisionRequest) -> bool:
    """Two votes agree when they choose the same action and, for edits, the same text."""
    if first_kind != second.kind.value:
        return False
    if second.kind is DecisionKind.EDIT:
        return (first_edit or "").strip() == (second.edited_answer or "").strip()
    return True


def _decision(
    item: ReviewItem,
    reviewers: tuple[str, ...],
    request: DecisionRequest,
    policy: TenantPolicy,
    now: datetime,
) -> ReviewDecision:
    """Build the final decision record and the text the citizen will read."""
    edited = (request.edited_answer or "").strip() if request.kind is DecisionKind.EDIT else None
    declined = request.kind is DecisionKind.REJECT
    if declined:
        citizen_answer = policy.decline_text()
    else:
        citizen_answer = edited if edited is not None else item.draft_answer

    return ReviewDecision(
        decision_id=str(uuid.uuid4()),
        item_id=item.item_id,
        tenant=item.tenant,
        correlation_id=item.correlation_id,
        kind=request.kind,
        reviewer_ids=reviewers,
        draft_answer=item.draft_answer,
        edited_answer=edited,
        diff=answer_diff(item.draft_answer, edited) if edited is not None else None,
        reason=(request.reason or "").strip() or None,
        citizen_answer=citizen_answer,
        declined=declined,
        enqueued_at=item.enqueued_at,
        decided_at=now,
        time_to_decision_s=(now - item.enqueued_at).total_seconds(),
        question=item.question,
        passages=item.passages,
        context=item.context,
    )


def _escalation(
    item: ReviewItem,
    cause: EscalationCause,
    reason: str,
    reviewers: tuple[str, ...],
    holding_message: str | None,
    now: datetime,
) -> ReviewEscalation:
    """Build an escalation record."""
    return ReviewEscalation(
        escalation_id=str(uuid.uuid4()),
        item_id=item.item_id,
        tenant=item.tenant,
        correlation_id=item.correlation_id,
        cause=cause,
        reason=reason,
        reviewer_ids=reviewers,
        holding_message=holding_message,
        due_at=item.due_at,
        escalated_at=now,
        context=item.context,
    )


def _claim_from_row(row: asyncpg.Record) -> Claim:
    """Turn a claimed row into a Claim."""
    return Claim(
        item_id=row["item_id"],
        tenant=row["tenant"],
        priority=Priority.from_rank(row["priority"]),
        status=ItemStatus(row["status"]),
        due_at=row["due_at"],
        claimed_by=row["claimed_by"],
        lease_expires_at=row["lease_expires_at"],
        votes=row["votes"],
    )


def _item_from_row(row: asyncpg.Record) -> ReviewItem:
    """Turn a stored row into a ReviewItem."""
    return ReviewItem(
        item_id=row["item_id"],
        tenant=row["tenant"],
        correlation_id=row["correlation_id"],
        reason=row["reason"],
        priority=Priority.from_rank(row["priority"]),
        question=row["question"],
        draft_answer=row["draft_answer"],
        passages=tuple(Passage(**entry) for entry in json.loads(row["passages"])),
        findings=tuple(GuardrailFinding(**entry) for entry in json.loads(row["findings"])),
        status=ItemStatus(row["status"]),
        enqueued_at=row["enqueued_at"],
        due_at=row["due_at"],
        claimed_by=row["claimed_by"],
        lease_expires_at=row["lease_expires_at"],
        escalated_at=row["escalated_at"],
        escalation_reason=row["escalation_reason"],
        votes=row["votes"],
        context=ReviewContext.model_validate_json(row["context"]),
    )
