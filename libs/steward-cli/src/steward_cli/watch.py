"""Keep the embedded broker and PostgreSQL of `steward up` running while the services run."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from steward_bus import ensure_topics
from steward_infra import InfraError, port_open

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from steward_infra import LocalStack

log = structlog.get_logger("steward.cli.watch")
HOST = "127.0.0.1"


@dataclass
class InfraWatch:
    """Restarts a stopped broker or PostgreSQL and recreates the broker's topics.

    The embedded broker keeps everything in memory, so a restarted one has no topics: they are
    created again, and what was in flight is gone (the ledger keeps what was recorded).
    """

    stack: LocalStack
    topics: Sequence[str]
    partitions: int
    replication: int = 1

    def check(self) -> list[str]:
        """Restart whichever component is down; name those restarted."""
        restarted = []
        broker = self.stack.broker
        if broker.pid() is None or not port_open(HOST, broker.port):
            log.warning("broker_down", bootstrap=broker.bootstrap, action="restarting")
            if self._start(broker.start, "broker"):
                asyncio.run(
                    ensure_topics(
                        broker.bootstrap,
                        list(self.topics),
                        partitions=self.partitions,
                        replication=self.replication,
                    )
                )
                restarted.append("broker")
        postgres = self.stack.postgres
        if postgres.pid() is None or not port_open(HOST, postgres.port):
            log.warning("postgres_down", port=postgres.port, action="restarting")
            if self._start(postgres.start, "postgres"):
                restarted.append("postgres")
        return restarted

    @staticmethod
    def _start(start: Callable[[], bool], name: str) -> bool:
        try:
            start()
        except InfraError as error:
            # The next check tries again; the services keep retrying their connections.
            log.error("restart_failed", component=name, error=str(error))
            return False
        return True
