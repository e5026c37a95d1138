"""Fixtures for the bus runtime tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from steward_bus import BusSettings
from steward_infra import LocalStack


@pytest.fixture
def settings(stack: LocalStack, namespace: str) -> BusSettings:
    """Bus settings pointing at the session's stack, in the test's own topic namespace."""
    return BusSettings(
        kafka_bootstrap=stack.broker.bootstrap,
        database_url=stack.postgres.dsn,
        topic_namespace=namespace,
        otel_exporter="none",
        retry_initial_seconds=0.01,
        retry_max_seconds=0.05,
    )


@pytest.fixture
async def read_topic(
    stack: LocalStack,
) -> AsyncIterator[Callable[[str, int], Awaitable[list[Any]]]]:
    """Read the first `count` records of a topic with a bare aiokafka consumer."""
    consumers: list[AIOKafkaConsumer] = []

    async def read(topic: str, count: int) -> list[Any]:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=stack.broker.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
        )
        consumers.append(consumer)
        await consumer.start()
        records: list[Any] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while len(records) < count and loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                records.extend(batch)
        return records

    yield read
    for consumer in consumers:
        await consumer.stop()
