"""Retention: dropping the payload of events older than their type's retention period."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    import asyncpg

    from steward_ledger.policies import RetentionPolicy

log = structlog.get_logger("steward.ledger")


async def prune_expired(
    connection: asyncpg.Connection,
    policy: RetentionPolicy,
    now: datetime | None = None,
) -> int:
    """Drop the payload of every event past its type's retention; return how many were pruned."""
    # Runs as the maintainer role: the writer role holds no UPDATE grant at all. The row keeps
    # its canonical digest and leaf hash, so every proof still verifies.
    moment = now or datetime.now(UTC)
    pruned = 0
    async with connection.transaction():
        # The table's trigger allows exactly this change, and only once this setting is made.
        await connection.execute("SET LOCAL steward.ledger_maintenance = 'retention'")
        for event_type, period in policy.periods.items():
            status = await connection.execute(
                "UPDATE ledger_events SET data = NULL, pruned_at = $3"
                " WHERE type = $1 AND recorded_at < $2 AND pruned_at IS NULL",
                event_type,
                moment - period,
                moment,
            )
            pruned += int(status.split()[-1])

    log.info("ledger.retention_applied", pruned=pruned)
    return pruned
