"""Many reviewers claiming at once never get the same item."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import asyncpg
from review_samples import LEASE, MovableClock, new_item, reviewer
from steward_review import DecisionKind, DecisionRequest, Priority, ReviewQueue

ITEMS = 500
REVIEWERS = 8


async def test_eight_reviewers_claiming_500_items_never_double_claim(
    pool: asyncpg.Pool, queue: ReviewQueue
) -> None:
    priorities = list(Priority)
    for number in range(ITEMS):
        await queue.enqueue(new_item(f"item-{number}", priority=priorities[number % 4]))
    claimed: dict[str, list[str]] = {f"r{index}": [] for index in range(REVIEWERS)}

    async def work(name: str) -> None:
        while (item := await queue.claim_next(reviewer(name))) is not None:
            claimed[name].append(item.item_id)

    await asyncio.gather(*(work(name) for name in claimed))

    counts = Counter(item_id for items in claimed.values() for item_id in items)
    assert len(counts) == ITEMS
    assert max(counts.values()) == 1
    assert sum(1 for items in claimed.values() if items) > 1
    stored = await pool.fetch("SELECT claimed_by, claims FROM review.items")
    assert {row["claims"] for row in stored} == {1}
    owners = Counter(row["claimed_by"] for row in stored)
    assert owners == Counter(
        {f"rv-{name}": len(items) for name, items in claimed.items() if items}
    )


async def test_concurrent_decisions_on_one_item_decide_it_once(
    queue: ReviewQueue, sink: object
) -> None:
    await queue.enqueue(new_item("a"))
    ann = reviewer("ann")
    await queue.claim(ann, "a")

    results = await asyncio.gather(
        *(queue.decide(ann, "a", DecisionRequest(kind=DecisionKind.APPROVE)) for _ in range(4)),
        return_exceptions=True,
    )

    decided = [result for result in results if not isinstance(result, BaseException)]
    assert len(decided) == 1
    assert all("already decided" in str(result) for result in results if result not in decided)


async def test_expired_leases_are_reclaimed_once_each_under_contention(
    pool: asyncpg.Pool, queue: ReviewQueue, clock: MovableClock
) -> None:
    for number in range(200):
        await queue.enqueue(new_item(f"item-{number}"))
    while await queue.claim_next(reviewer("gone")) is not None:
        pass
    clock.advance(LEASE + timedelta(seconds=1))
    reclaimed: list[str] = []

    async def work(name: str) -> None:
        while (claim := await queue.claim_next(reviewer(name))) is not None:
            reclaimed.append(claim.item_id)

    await asyncio.gather(*(work(f"r{index}") for index in range(REVIEWERS)))

    assert sorted(reclaimed) == sorted(f"item-{number}" for number in range(200))
    assert {row["claims"] for row in await pool.fetch("SELECT claims FROM review.items")} == {2}
