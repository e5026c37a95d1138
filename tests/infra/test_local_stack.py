"""Starting, finding and stopping the embedded broker and PostgreSQL."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from steward_infra import LocalBroker, LocalPostgres, LocalStack, PortTaken, free_port, port_open


@pytest.fixture
def squatter() -> Iterator[int]:
    """A port held by a plain listening socket that is not Steward's."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_broker_start_is_idempotent_and_stop_is_clean(tmp_path: Path) -> None:
    broker = LocalBroker(port=free_port(), data_dir=tmp_path / "broker")

    assert broker.start() is True
    pid = broker.pid()
    assert pid is not None and port_open("127.0.0.1", broker.port)

    assert broker.start() is False, "a second start finds the running broker"
    assert broker.pid() == pid

    assert broker.stop() is True
    assert broker.pid() is None
    assert not port_open("127.0.0.1", broker.port)
    assert broker.stop() is False


def test_broker_refuses_a_port_taken_by_another_program(tmp_path: Path, squatter: int) -> None:
    broker = LocalBroker(port=squatter, data_dir=tmp_path / "broker")

    with pytest.raises(PortTaken, match=f"127.0.0.1:{squatter} is taken"):
        broker.start()
    assert broker.pid() is None


def test_postgres_refuses_a_port_taken_by_another_program(
    stack: LocalStack, squatter: int
) -> None:
    # Same cluster folder as the session's, a different port: the folder's cluster is
    # running, so this must be refused without touching it.
    other = LocalPostgres(port=squatter, data_dir=stack.postgres.data_dir)
    with pytest.raises(Exception, match="runs on another port"):
        other.start()
    assert stack.postgres.pid() is not None


def test_postgres_refuses_a_taken_port_for_a_stopped_cluster(
    tmp_path: Path, squatter: int
) -> None:
    postgres = LocalPostgres(port=squatter, data_dir=tmp_path / "pg")
    with pytest.raises(PortTaken, match="STEWARD_PG_PORT"):
        postgres.start()


async def test_postgres_start_is_idempotent_and_serves_the_database(stack: LocalStack) -> None:
    pid = stack.postgres.pid()

    assert stack.postgres.start() is False
    assert stack.postgres.pid() == pid

    connection = await asyncpg.connect(stack.postgres.dsn)
    try:
        assert await connection.fetchval("SELECT current_database()") == "steward"
        assert await connection.fetchval("SHOW listen_addresses") == "127.0.0.1"
    finally:
        await connection.close()
