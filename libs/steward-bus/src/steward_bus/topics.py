"""Explicit topic creation: every event type's topic and its dead-letter twin."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from steward_events import all_specs


def contract_topics(namespace: str = "") -> list[str]:
    """Every topic of the event contract, dead-letter topics included, in a namespace."""
    topics = []
    for spec in all_specs():
        if spec.own_topic:
            topics += [namespace + spec.topic, namespace + spec.dlq_topic]
    return topics


async def ensure_topics(
    bootstrap: str,
    topics: Iterable[str],
    *,
    partitions: int,
    replication: int,
) -> list[str]:
    """Create the topics that do not exist yet and return their names."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="steward-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(set(topics) - existing)
        if missing:
            new = [NewTopic(name, partitions, replication) for name in missing]
            # Another service may create some of them between our list and create.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(new)
        return missing
    finally:
        await admin.close()
