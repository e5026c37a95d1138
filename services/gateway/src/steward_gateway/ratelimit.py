"""Per-client token buckets: a steady rate with a burst allowance."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """One token bucket per client key, the least recently seen forgotten past `max_clients`."""

    def __init__(
        self,
        *,
        per_minute: float,
        burst: int,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError(f"rate {per_minute}/min with burst {burst}: both must be positive")
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, client: str) -> float:
        """Spend one token for `client`: 0.0 when allowed, else the seconds until one is due."""
        now = self._clock()
        bucket = self._buckets.pop(client, None) or _Bucket(self._burst, now)

        # Refill for the time since the client's last request, up to the burst.
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now

        # Forgetting the oldest client only ever gives it a full bucket back.
        self._buckets[client] = bucket
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)

        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self._rate
