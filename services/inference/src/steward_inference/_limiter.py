"""A bound on generations in flight, so a batching backend stays busy but never flooded."""

from __future__ import annotations

import asyncio


class InFlightLimiter:
    """Lets at most `limit` holders run at once; the rest wait in arrival order."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"In-flight limit must be at least 1, got {limit}")
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)
        self._in_flight = 0
        self._waiting = 0
        self._room = asyncio.Event()
        self._room.set()

    @property
    def in_flight(self) -> int:
        """Return how many holders run now."""
        return self._in_flight

    @property
    def waiting(self) -> int:
        """Return how many callers wait for a slot."""
        return self._waiting

    @property
    def saturated(self) -> bool:
        """Return whether a new caller would have to wait."""
        return self._in_flight + self._waiting >= self.limit

    async def acquire(self) -> None:
        """Wait for a free slot and take it."""
        self._waiting += 1
        self._update_room()
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self._in_flight += 1
        self._update_room()

    def release(self) -> None:
        """Give a slot back."""
        if self._in_flight == 0:
            raise RuntimeError("InFlightLimiter.release called with no slot held")
        self._in_flight -= 1
        self._slots.release()
        self._update_room()

    async def wait_for_capacity(self) -> None:
        """Return once a new caller would get a slot without waiting; a consumer pauses here."""
        await self._room.wait()

    def _update_room(self) -> None:
        if self.saturated:
            self._room.clear()
        else:
            self._room.set()
