"""Helpers for tests that run services against a real broker."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from steward_events import Envelope, spec_for


async def eventually(check: Callable[[], bool], *, within: float = 30.0) -> None:
    """Wait until `check()` holds; fail rather than hang if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached within {within:.0f} s")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def collected_events(
    bootstrap: str,
    topics: Sequence[str],
    *,
    partitions: int,
    on_event: Callable[[Envelope[Any]], None],
    max_partition_fetch_bytes: int = 8 * 1024 * 1024,
) -> AsyncIterator[None]:
    """Pass every event on `topics`, from their beginning, to `on_event` while the block runs.

    Partitions are assigned rather than joined through a group, so collecting starts at once;
    the topics must exist already.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=10,
        max_partition_fetch_bytes=max_partition_fetch_bytes,
    )
    await consumer.start()
    consumer.assign(
        [TopicPartition(topic, partition) for topic in topics for partition in range(partitions)]
    )
    await consumer.seek_to_beginning()

    async def collect() -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                for record in batch:
                    value = record.value or b""
                    spec = spec_for(json.loads(value)["type"])
                    on_event(spec.envelope.model_validate_json(value))

    task = asyncio.create_task(collect())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()
