"""The record of event ids each consumer group has handled, kept in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS steward_bus;
CREATE TABLE IF NOT EXISTS steward_bus.processed_events (
    consumer_group text NOT NULL,
    event_id uuid NOT NULL,
    topic text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
);
CREATE INDEX IF NOT EXISTS processed_events_age
    ON steward_bus.processed_events (processed_at);
"""

_SEEN = """
SELECT event_id::text FROM steward_bus.processed_events
WHERE consumer_group = $1 AND event_id = ANY($2::uuid[])
"""

_MARK = """
INSERT INTO steward_bus.processed_events (consumer_group, event_id, topic)
SELECT $1, id, $3 FROM unnest($2::uuid[]) AS id
ON CONFLICT DO NOTHING
"""

_PRUNE = """
DELETE FROM steward_bus.processed_events WHERE processed_at < now() - $1::interval
"""


class ProcessedEvents:
    """Which event ids a consumer group has handled, so a redelivery is handled once."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create_schema(self) -> None:
        """Create the table if it is missing."""
        async with self._pool.acquire() as connection:
            # Two services starting together both try to create it; the lock orders them.
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock(7301)")
                await connection.execute(_SCHEMA)

    async def seen(self, group: str, event_ids: Sequence[str]) -> set[str]:
        """The subset of `event_ids` that `group` has already handled."""
        if not event_ids:
            return set()
        rows = await self._pool.fetch(_SEEN, group, list(event_ids))
        return {row[0] for row in rows}

    async def mark(self, group: str, topic: str, event_ids: Sequence[str]) -> None:
        """Record that `group` handled `event_ids`; ids already recorded are ignored."""
        if not event_ids:
            return
        await self._pool.execute(_MARK, group, list(event_ids), topic)

    async def prune(self, older_than: timedelta) -> int:
        """Forget records older than the retention period; returns how many were removed."""
        status = await self._pool.execute(_PRUNE, older_than)
        return int(status.split()[-1])
