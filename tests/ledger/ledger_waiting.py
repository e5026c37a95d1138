"""Waiting on the ledger's database state in tests (uniquely named for importlib mode)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def until(check: Callable[[], Awaitable[bool]], *, within: float = 30.0) -> None:
    """Wait until an async check holds; fail rather than hang if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached within {within:.0f} s")
        await asyncio.sleep(0.05)
