"""The in-flight bound holds, and waiting callers are let in as slots free up."""

from __future__ import annotations

import asyncio

import pytest

from inference_testkit import until
from steward_inference import InFlightLimiter


async def test_never_more_than_the_limit_in_flight() -> None:
    limiter = InFlightLimiter(3)
    peak = 0
    release = asyncio.Event()

    async def hold() -> None:
        nonlocal peak
        await limiter.acquire()
        try:
            peak = max(peak, limiter.in_flight)
            await release.wait()
        finally:
            limiter.release()

    tasks = [asyncio.create_task(hold()) for _ in range(10)]
    await until(lambda: limiter.in_flight + limiter.waiting == 10)

    assert limiter.in_flight == 3
    assert limiter.waiting == 7
    assert limiter.saturated
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 3
    assert limiter.in_flight == 0
    assert not limiter.saturated


async def test_wait_for_capacity_blocks_until_a_slot_frees() -> None:
    limiter = InFlightLimiter(1)
    await limiter.acquire()

    waiter = asyncio.create_task(limiter.wait_for_capacity())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiter.done()

    limiter.release()
    await waiter
    assert limiter.in_flight == 0


async def test_cancelled_waiter_does_not_take_a_slot() -> None:
    limiter = InFlightLimiter(1)
    await limiter.acquire()

    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter

    assert limiter.waiting == 0
    limiter.release()
    await limiter.acquire()
    assert limiter.in_flight == 1


def test_release_without_a_slot_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no slot held"):
        InFlightLimiter(2).release()


def test_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1, got 0"):
        InFlightLimiter(0)
