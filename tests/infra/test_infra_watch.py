"""`steward up` restarts a broker that stopped under it and creates the topics again."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from steward_bus import contract_topics
from steward_cli.watch import InfraWatch
from steward_infra import LocalBroker, LocalStack, free_port
from steward_infra.processes import wait_for_exit


async def _topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


def test_a_killed_broker_is_restarted_with_its_topics(tmp_path: Path, stack: LocalStack) -> None:
    broker = LocalBroker(port=free_port(), data_dir=tmp_path / "broker")
    broker.start()
    try:
        watched = LocalStack(broker=broker, postgres=stack.postgres)
        topics = contract_topics("watch.")
        watch = InfraWatch(watched, topics, partitions=1)
        assert watch.check() == []

        pid = broker.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        assert wait_for_exit(pid, 10)

        assert watch.check() == ["broker"]
        assert broker.pid() not in {None, pid}
        assert set(topics) <= asyncio.run(_topics(broker.bootstrap))
        assert watch.check() == []
    finally:
        broker.stop()
