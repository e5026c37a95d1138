"""Helpers for tests that run services against a real broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def eventually(check: Callable[[], bool], *, within: float = 30.0) -> None:
    """Wait until `check()` holds; fail rather than hang if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached within {within:.0f} s")
        await asyncio.sleep(0.01)
