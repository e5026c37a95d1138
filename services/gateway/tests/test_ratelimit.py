"""Token buckets per client."""

from __future__ import annotations

import pytest

from steward_gateway.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_next_request_waits_for_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)

    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") == 0.0, "clients have buckets of their own"

    clock.now += 1.0
    assert limiter.take("a") == 0.0


def test_forgetting_the_oldest_client_bounds_memory() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=1, burst=1, max_clients=2, clock=clock)
    limiter.take("a")
    limiter.take("b")
    limiter.take("c")
    assert limiter.take("a") == 0.0, "a was forgotten and starts with a full bucket"
    assert limiter.take("c") > 0


def test_a_rate_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="both must be positive"):
        RateLimiter(per_minute=0, burst=1)
