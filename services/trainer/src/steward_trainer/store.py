"""The trainer's PostgreSQL record: conversations, decisions, ratings, versions, candidates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from steward_trainer.errors import CandidateNotFound, DatasetNotFound

if TYPE_CHECKING:
    from collections.abc import Sequence

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    tenant text NOT NULL,
    conversation_id text NOT NULL,
    question text,
    passages jsonb,
    draft text,
    released text,
    language text,
    channel text,
    -- Null until an event says; a single refusal anywhere excludes the conversation for good.
    consent boolean,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, conversation_id)
);
CREATE TABLE IF NOT EXISTS review_decisions (
    tenant text NOT NULL,
    review_id text NOT NULL,
    conversation_id text NOT NULL,
    decision text NOT NULL,
    question text,
    draft text,
    final text,
    decided_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, review_id)
);
CREATE TABLE IF NOT EXISTS ratings (
    tenant text NOT NULL,
    event_id text NOT NULL,
    conversation_id text NOT NULL,
    rating text NOT NULL,
    rated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, event_id)
);
CREATE TABLE IF NOT EXISTS dataset_versions (
    tenant text NOT NULL,
    dataset_id text NOT NULL,
    version text NOT NULL,
    kind text NOT NULL,
    sha256 text NOT NULL,
    rows integer NOT NULL,
    uri text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, dataset_id, version)
);
CREATE TABLE IF NOT EXISTS candidates (
    tenant text NOT NULL,
    candidate_id text NOT NULL,
    run_id text NOT NULL,
    model jsonb NOT NULL,
    dataset_id text NOT NULL,
    dataset_version text NOT NULL,
    adapter_uri text NOT NULL,
    settings jsonb NOT NULL,
    passed boolean,
    evaluation jsonb,
    promoted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, candidate_id)
);
CREATE TABLE IF NOT EXISTS signals (
    tenant text NOT NULL,
    observed_at timestamptz NOT NULL,
    language text NOT NULL,
    channel text NOT NULL,
    metric text NOT NULL,
    value double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS signals_by_time ON signals (tenant, observed_at);
"""


_TABLES = (
    "conversations",
    "review_decisions",
    "ratings",
    "dataset_versions",
    "candidates",
    "signals",
)


@dataclass(frozen=True)
class DatasetVersion:
    """One exported, hashed dataset version."""

    tenant: str
    dataset_id: str
    version: str
    kind: str
    sha256: str
    rows: int
    uri: str


@dataclass(frozen=True)
class Candidate:
    """A trained adapter waiting for, or past, its evaluation."""

    tenant: str
    candidate_id: str
    run_id: str
    model: dict[str, Any]
    dataset_id: str
    dataset_version: str
    adapter_uri: str
    settings: dict[str, str]
    passed: bool | None
    promoted: bool


@dataclass(frozen=True)
class Conversation:
    """What the trainer knows of one conversation, redacted text only."""

    question: str | None
    passages: list[str]
    draft: str | None
    released: str | None
    language: str
    channel: str
    consent: bool | None


class TrainerStore:
    """Training data and the model lifecycle in the trainer's own PostgreSQL schema."""

    def __init__(self, pool: asyncpg.Pool, schema: str = "trainer") -> None:
        self._pool = pool
        self._s = schema

    @classmethod
    async def connect(cls, dsn: str, schema: str = "trainer") -> TrainerStore:
        """Open a small pool and create the schema if it is missing."""
        # The schema name is checked by the settings pattern; tables are found by search_path.
        connection = await asyncpg.connect(dsn)
        try:
            async with connection.transaction():
                # Concurrent CREATE ... IF NOT EXISTS can still race on the catalog: serialise.
                await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", schema)
                await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        finally:
            await connection.close()
        pool = await asyncpg.create_pool(
            dsn, min_size=1, max_size=3, server_settings={"search_path": schema}
        )
        store = cls(pool, schema)
        await store.create_schema()
        return store

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()

    async def create_schema(self) -> None:
        """Create the trainer's tables; safe to repeat."""
        async with self._pool.acquire() as connection:
            # Concurrent CREATE ... IF NOT EXISTS can still race on the catalog: serialise.
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", self._s)
                await connection.execute(_SCHEMA)

    async def note_conversation(
        self,
        tenant: str,
        conversation_id: str,
        *,
        consent: bool | None,
        question: str | None = None,
        passages: Sequence[str] | None = None,
        draft: str | None = None,
        released: str | None = None,
        language: str | None = None,
        channel: str | None = None,
    ) -> None:
        """Merge what one event says about a conversation; a refusal of consent sticks."""
        await self._pool.execute(
            """
            INSERT INTO conversations AS c
                (tenant, conversation_id, question, passages, draft, released, language,
                 channel, consent)
            VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9)
            ON CONFLICT (tenant, conversation_id) DO UPDATE SET
                question = coalesce(EXCLUDED.question, c.question),
                passages = coalesce(EXCLUDED.passages, c.passages),
                draft = coalesce(EXCLUDED.draft, c.draft),
                released = coalesce(EXCLUDED.released, c.released),
                language = coalesce(EXCLUDED.language, c.language),
                channel = coalesce(EXCLUDED.channel, c.channel),
                consent = CASE WHEN EXCLUDED.consent IS NULL THEN c.consent
                               WHEN c.consent IS NULL THEN EXCLUDED.consent
                               ELSE c.consent AND EXCLUDED.consent END,
                updated_at = now()
            """,
            tenant,
            conversation_id,
            question,
            json.dumps(list(passages)) if passages is not None else None,
            draft,
            released,
            language,
            channel,
            consent,
        )

    async def conversation(self, tenant: str, conversation_id: str) -> Conversation | None:
        """What is known of a conversation, or None."""
        row = await self._pool.fetchrow(
            "SELECT * FROM conversations WHERE tenant = $1 AND conversation_id = $2",
            tenant,
            conversation_id,
        )
        if row is None:
            return None
        return Conversation(
            question=row["question"],
            passages=json.loads(row["passages"]) if row["passages"] else [],
            draft=row["draft"],
            released=row["released"],
            language=row["language"] or "und",
            channel=row["channel"] or "api",
            consent=row["consent"],
        )

    async def record_review(
        self,
        tenant: str,
        review_id: str,
        conversation_id: str,
        *,
        decision: str,
        question: str | None,
        draft: str | None,
        final: str | None,
        decided_at: datetime,
    ) -> None:
        """Keep a reviewer's decision; a repeat of the same review id changes nothing."""
        await self._pool.execute(
            """
            INSERT INTO review_decisions
                (tenant, review_id, conversation_id, decision, question, draft, final,
                 decided_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT DO NOTHING
            """,
            tenant,
            review_id,
            conversation_id,
            decision,
            question,
            draft,
            final,
            decided_at,
        )

    async def record_rating(
        self, tenant: str, event_id: str, conversation_id: str, rating: str, rated_at: datetime
    ) -> None:
        """Keep a citizen's thumbs rating of an answer."""
        await self._pool.execute(
            """
            INSERT INTO ratings (tenant, event_id, conversation_id, rating, rated_at)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
            """,
            tenant,
            event_id,
            conversation_id,
            rating,
            rated_at,
        )

    async def supervised_pairs(self, tenant: str) -> list[asyncpg.Record]:
        """(question, passages, approved answer) of consenting conversations, oldest first."""
        return list(
            await self._pool.fetch(
                """
            SELECT coalesce(r.question, c.question) AS question,
                   coalesce(c.passages, '[]'::jsonb) AS passages,
                   CASE WHEN r.decision = 'edit' THEN r.final
                        ELSE coalesce(r.final, r.draft, c.draft) END AS answer
            FROM review_decisions r
            JOIN conversations c USING (tenant, conversation_id)
            WHERE r.tenant = $1 AND c.consent IS TRUE AND r.decision IN ('approve', 'edit')
              AND coalesce(r.question, c.question) IS NOT NULL
              AND (CASE WHEN r.decision = 'edit' THEN r.final
                        ELSE coalesce(r.final, r.draft, c.draft) END) IS NOT NULL
            ORDER BY r.decided_at, r.review_id
            """,
                tenant,
            )
        )

    async def preference_pairs(self, tenant: str) -> list[asyncpg.Record]:
        """(prompt, chosen = the reviewer's edit, rejected = the draft), consenting only."""
        return list(
            await self._pool.fetch(
                """
            SELECT coalesce(r.question, c.question) AS question,
                   coalesce(c.passages, '[]'::jsonb) AS passages,
                   r.final AS chosen,
                   coalesce(r.draft, c.draft) AS rejected
            FROM review_decisions r
            JOIN conversations c USING (tenant, conversation_id)
            WHERE r.tenant = $1 AND c.consent IS TRUE AND r.decision = 'edit'
              AND coalesce(r.question, c.question) IS NOT NULL
              AND r.final IS NOT NULL AND coalesce(r.draft, c.draft) IS NOT NULL
              AND r.final <> coalesce(r.draft, c.draft)
            ORDER BY r.decided_at, r.review_id
            """,
                tenant,
            )
        )

    async def thumbs_labels(self, tenant: str) -> list[asyncpg.Record]:
        """(prompt, answer, up/down) of consenting conversations whose answer is known."""
        return list(
            await self._pool.fetch(
                """
            SELECT c.question, coalesce(c.passages, '[]'::jsonb) AS passages,
                   coalesce(c.released, c.draft) AS answer, f.rating
            FROM ratings f
            JOIN conversations c USING (tenant, conversation_id)
            WHERE f.tenant = $1 AND c.consent IS TRUE AND c.question IS NOT NULL
              AND coalesce(c.released, c.draft) IS NOT NULL
            ORDER BY f.rated_at, f.event_id
            """,
                tenant,
            )
        )

    async def latest_version(self, tenant: str, dataset_id: str) -> DatasetVersion | None:
        """The newest version of a dataset, or None."""
        row = await self._pool.fetchrow(
            """
            SELECT * FROM dataset_versions WHERE tenant = $1 AND dataset_id = $2
            ORDER BY created_at DESC, version DESC LIMIT 1
            """,
            tenant,
            dataset_id,
        )
        return _version(row) if row else None

    async def version_count(self, tenant: str, dataset_id: str) -> int:
        """How many versions a dataset has."""
        count = await self._pool.fetchval(
            "SELECT count(*) FROM dataset_versions WHERE tenant = $1 AND dataset_id = $2",
            tenant,
            dataset_id,
        )
        return int(count)

    async def add_version(self, version: DatasetVersion) -> None:
        """Record a new dataset version."""
        await self._pool.execute(
            """
            INSERT INTO dataset_versions
                (tenant, dataset_id, version, kind, sha256, rows, uri)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            version.tenant,
            version.dataset_id,
            version.version,
            version.kind,
            version.sha256,
            version.rows,
            version.uri,
        )

    async def version(self, tenant: str, dataset_id: str, version: str) -> DatasetVersion:
        """A dataset version by name, raising `DatasetNotFound` when it is not recorded."""
        row = await self._pool.fetchrow(
            """
            SELECT * FROM dataset_versions
            WHERE tenant = $1 AND dataset_id = $2 AND version = $3
            """,
            tenant,
            dataset_id,
            version,
        )
        if row is None:
            raise DatasetNotFound(
                f"No dataset version {dataset_id!r} {version!r} for tenant {tenant!r}"
            )
        return _version(row)

    async def add_candidate(self, candidate: Candidate) -> None:
        """Register a trained adapter; a repeat of the same candidate id changes nothing."""
        await self._pool.execute(
            """
            INSERT INTO candidates
                (tenant, candidate_id, run_id, model, dataset_id, dataset_version, adapter_uri,
                 settings)
            VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8::jsonb) ON CONFLICT DO NOTHING
            """,
            candidate.tenant,
            candidate.candidate_id,
            candidate.run_id,
            json.dumps(candidate.model),
            candidate.dataset_id,
            candidate.dataset_version,
            candidate.adapter_uri,
            json.dumps(candidate.settings),
        )

    async def candidate(self, tenant: str, candidate_id: str) -> Candidate:
        """A registered candidate, raising `CandidateNotFound` when there is none."""
        row = await self._pool.fetchrow(
            "SELECT * FROM candidates WHERE tenant = $1 AND candidate_id = $2",
            tenant,
            candidate_id,
        )
        if row is None:
            raise CandidateNotFound(f"No candidate {candidate_id!r} for tenant {tenant!r}")
        return _candidate(row)

    async def record_evaluation(
        self, tenant: str, candidate_id: str, *, passed: bool, evaluation: dict[str, Any]
    ) -> None:
        """Keep the gate's verdict on a candidate."""
        await self._pool.execute(
            """
            UPDATE candidates SET passed = $3, evaluation = $4::jsonb
            WHERE tenant = $1 AND candidate_id = $2
            """,
            tenant,
            candidate_id,
            passed,
            json.dumps(evaluation),
        )

    async def mark_promoted(self, tenant: str, candidate_id: str) -> None:
        """Make a candidate the tenant's current model."""
        await self._pool.execute(
            "UPDATE candidates SET promoted_at = now() WHERE tenant = $1 AND candidate_id = $2",
            tenant,
            candidate_id,
        )

    async def current_candidate(self, tenant: str) -> Candidate | None:
        """The tenant's most recently promoted candidate, or None for the base model."""
        row = await self._pool.fetchrow(
            """
            SELECT * FROM candidates WHERE tenant = $1 AND promoted_at IS NOT NULL
            ORDER BY promoted_at DESC LIMIT 1
            """,
            tenant,
        )
        return _candidate(row) if row else None

    async def add_signals(
        self, rows: Sequence[tuple[str, datetime, str, str, str, float]]
    ) -> None:
        """Append monitoring observations (tenant, time, language, channel, metric, value)."""
        await self._pool.executemany(
            """
            INSERT INTO signals (tenant, observed_at, language, channel, metric, value)
            VALUES ($1, $2, $3, $4, $5, $6)
            """,
            rows,
        )

    async def daily_figures(self, tenant: str | None, since: datetime) -> list[asyncpg.Record]:
        """Mean of each metric per day since a time, for one tenant or all of them."""
        return list(
            await self._pool.fetch(
                """
            SELECT date_trunc('day', observed_at) AS day, metric, avg(value) AS value,
                   count(*) AS samples
            FROM signals
            WHERE observed_at >= $1 AND ($2::text IS NULL OR tenant = $2)
            GROUP BY 1, 2 ORDER BY 1, 2
            """,
                since,
                tenant,
            )
        )

    async def count(self, table: str) -> int:
        """How many rows one of the trainer's tables holds."""
        if table not in _TABLES:
            raise ValueError(f"Unknown trainer table {table!r}; expected one of {_TABLES}")
        return int(await self._pool.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608


def _version(row: asyncpg.Record) -> DatasetVersion:
    return DatasetVersion(
        tenant=row["tenant"],
        dataset_id=row["dataset_id"],
        version=row["version"],
        kind=row["kind"],
        sha256=row["sha256"],
        rows=row["rows"],
        uri=row["uri"],
    )


def _candidate(row: asyncpg.Record) -> Candidate:
    return Candidate(
        tenant=row["tenant"],
        candidate_id=row["candidate_id"],
        run_id=row["run_id"],
        model=json.loads(row["model"]),
        dataset_id=row["dataset_id"],
        dataset_version=row["dataset_version"],
        adapter_uri=row["adapter_uri"],
        settings=json.loads(row["settings"]),
        passed=row["passed"],
        promoted=row["promoted_at"] is not None,
    )
