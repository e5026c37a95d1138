"""Claims per second through ReviewQueue against bare SKIP LOCKED claims, in the same run."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from steward_infra import LocalPostgres, free_port

from steward_review.model import NewReviewItem, Passage, Priority, Reviewer
from steward_review.policy import PolicyBook
from steward_review.queue import ReviewQueue, create_review_pool
from steward_review.sink import RecordingSink

TENANT = "bench-agency"
TARGET_RATIO = 0.8

BARE_SCHEMA_SQL = """
DROP TABLE IF EXISTS bench_bare;
CREATE TABLE bench_bare (
    id                bigserial PRIMARY KEY,
    tenant            text NOT NULL,
    priority          smallint NOT NULL,
    due_at            timestamptz NOT NULL,
    claimed_by        text,
    lease_expires_at  timestamptz
);
CREATE INDEX ON bench_bare (tenant, priority, due_at);
"""

# The baseline keeps the same ordering and lease columns but none of the review rules.
BARE_CLAIM_SQL = """
UPDATE bench_bare SET claimed_by = $1, lease_expires_at = $2
WHERE id = (
    SELECT id FROM bench_bare
    WHERE tenant = $3 AND (claimed_by IS NULL OR lease_expires_at <= now())
    ORDER BY priority, due_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING id
"""


async def _fill_queue(queue: ReviewQueue, pool: asyncpg.Pool, items: int) -> None:
    """Empty the review tables and enqueue fresh items shaped like real ones."""
    await pool.execute("TRUNCATE review.outbox, review.votes, review.item_contents, review.items")
    priorities = list(Priority)
    passage = Passage(chunk_id="c", text="Taxes are due on April 15. " * 8, document_id="001")
    semaphore = asyncio.Semaphore(8)

    async def add(number: int) -> None:
        async with semaphore:
            await queue.enqueue(
                NewReviewItem(
                    item_id=f"bench-{number}-{uuid.uuid4().hex[:8]}",
                    tenant=TENANT,
                    correlation_id=str(uuid.uuid4()),
                    reason="low_confidence",
                    priority=priorities[number % len(priorities)],
                    question="When is the federal tax deadline this year?",
                    draft_answer="The deadline is April 15. " * 6,
                    passages=(passage, passage),
                )
            )

    await asyncio.gather(*(add(number) for number in range(items)))
    await pool.execute("ANALYZE review.items")


async def _fill_bare(pool: asyncpg.Pool, items: int) -> None:
    """Create the baseline table with as many rows, in the same priority mix."""
    await pool.execute(BARE_SCHEMA_SQL)
    now = datetime.now(UTC)
    rows = [(TENANT, number % 4, now + timedelta(minutes=number % 97)) for number in range(items)]
    await pool.copy_records_to_table(
        "bench_bare", records=rows, columns=["tenant", "priority", "due_at"]
    )
    await pool.execute("ANALYZE bench_bare")


async def _claim_all_queue(queue: ReviewQueue, workers: int) -> tuple[int, float]:
    """Let each worker claim through ReviewQueue until nothing is left."""

    async def worker(index: int) -> int:
        reviewer = Reviewer(pseudonym=f"rv-bench-{index}", tenant=TENANT)
        claimed = 0
        while await queue.claim_next(reviewer) is not None:
            claimed += 1
        return claimed

    started = time.perf_counter()
    counts = await asyncio.gather(*(worker(index) for index in range(workers)))
    return sum(counts), time.perf_counter() - started


async def _claim_all_bare(pool: asyncpg.Pool, workers: int) -> tuple[int, float]:
    """Let each worker run the bare SKIP LOCKED claim until nothing is left."""
    lease_end = datetime.now(UTC) + timedelta(minutes=10)

    async def worker(index: int) -> int:
        claimed = 0
        async with pool.acquire() as connection:
            while await connection.fetchval(BARE_CLAIM_SQL, f"w{index}", lease_end, TENANT):
                claimed += 1
        return claimed

    started = time.perf_counter()
    counts = await asyncio.gather(*(worker(index) for index in range(workers)))
    return sum(counts), time.perf_counter() - started


async def run_benchmark(dsn: str, *, items: int, workers: int, rounds: int) -> dict[str, object]:
    """Run alternating rounds of both claim paths and return the figures."""
    async with create_review_pool(dsn, min_size=workers, max_size=workers) as pool:
        queue = ReviewQueue(pool, policies=PolicyBook(), sink=RecordingSink())
        await queue.install_schema()
        queue_rates: list[float] = []
        bare_rates: list[float] = []

        for round_number in range(rounds):
            # Alternate which path goes first, so warm caches favour neither.
            order = ("bare", "queue") if round_number % 2 == 0 else ("queue", "bare")
            for path in order:
                if path == "bare":
                    await _fill_bare(pool, items)
                    claimed, elapsed = await _claim_all_bare(pool, workers)
                    bare_rates.append(claimed / elapsed)
                else:
                    await _fill_queue(queue, pool, items)
                    claimed, elapsed = await _claim_all_queue(queue, workers)
                    queue_rates.append(claimed / elapsed)
                if claimed != items:
                    raise RuntimeError(f"{path} round claimed {claimed} of {items} items")

    queue_rate = statistics.median(queue_rates)
    bare_rate = statistics.median(bare_rates)
    return {
        "workers": workers,
        "items_per_round": items,
        "rounds": rounds,
        "queue_claims_per_s": round(queue_rate, 1),
        "bare_claims_per_s": round(bare_rate, 1),
        "ratio": round(queue_rate / bare_rate, 3),
        "target_ratio": TARGET_RATIO,
        "queue_rounds": [round(rate, 1) for rate in queue_rates],
        "bare_rounds": [round(rate, 1) for rate in bare_rates],
    }


def main() -> None:
    """Parse options, start a private cluster unless given a DSN, and print the result."""
    parser = argparse.ArgumentParser(prog="python -m steward_review.bench", description=__doc__)
    parser.add_argument("--dsn", help="PostgreSQL to use; default: a private durable cluster")
    parser.add_argument("--items", type=int, default=2000, help="items claimed per round")
    parser.add_argument("--workers", type=int, default=8, help="concurrent claimers")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each path")
    args = parser.parse_args()

    if args.dsn:
        result = asyncio.run(
            run_benchmark(args.dsn, items=args.items, workers=args.workers, rounds=args.rounds)
        )
    else:
        # A throwaway cluster with PostgreSQL's durable defaults (fsync on), removed after.
        with tempfile.TemporaryDirectory(prefix="steward-review-bench-") as folder:
            cluster = LocalPostgres(port=free_port(), data_dir=Path(folder))
            cluster.start()
            try:
                result = asyncio.run(
                    run_benchmark(
                        cluster.dsn, items=args.items, workers=args.workers, rounds=args.rounds
                    )
                )
            finally:
                cluster.stop()

    print(json.dumps(result, indent=2))
    verdict = "meets" if result["ratio"] >= TARGET_RATIO else "misses"  # type: ignore[operator]
    print(
        f"review claims/s {result['queue_claims_per_s']} vs bare SKIP LOCKED "
        f"{result['bare_claims_per_s']} with {args.workers} workers: ratio {result['ratio']} "
        f"({verdict} the {TARGET_RATIO} target)"
    )


if __name__ == "__main__":
    main()
