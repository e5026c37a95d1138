"""A private PostgreSQL cluster for the session, and a fresh ledger database per test."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from steward_ledger import install_schema
from steward_ledger_proofs import CheckpointSigner

PG_BIN = Path("/usr/lib/postgresql/15/bin")
_databases = itertools.count()


def _as_postgres(*command: str) -> list[str]:
    """Run a server binary as the postgres user when the tests run as root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Start a throwaway cluster on 127.0.0.1 and stop it after the session."""
    root = Path(tempfile.mkdtemp(prefix="steward-ledger-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = _free_port()

    subprocess.run(
        _as_postgres(
            str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"
        ),
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    subprocess.run(
        _as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "server.log"),
            "-w",
            "start",
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_database(postgres_url: str) -> str:
    """Install the schema once in a template and create the service's login roles."""
    admin = await asyncpg.connect(f"{postgres_url}/postgres")
    try:
        await admin.execute("CREATE DATABASE ledger_template")
    finally:
        await admin.close()

    connection = await asyncpg.connect(f"{postgres_url}/ledger_template")
    try:
        await install_schema(connection)
        await connection.execute("CREATE ROLE ledger_app LOGIN IN ROLE steward_ledger_writer")
        await connection.execute(
            "CREATE ROLE ledger_maintenance LOGIN IN ROLE steward_ledger_maintainer"
        )
    finally:
        await connection.close()
    return "ledger_template"


class LedgerDatabase:
    """One test's database, reachable as the service role, the maintainer and a superuser."""

    def __init__(self, server: str, name: str) -> None:
        self.name = name
        self.app_dsn = f"{server.replace('postgres@', 'ledger_app@')}/{name}"
        self.maintenance_dsn = f"{server.replace('postgres@', 'ledger_maintenance@')}/{name}"
        self.superuser_dsn = f"{server}/{name}"

    async def superuser(self) -> asyncpg.Connection:
        """Connect as a superuser, which can switch the append-only triggers off."""
        return await asyncpg.connect(self.superuser_dsn)


@pytest.fixture
async def ledger_db(postgres_url: str, template_database: str) -> AsyncIterator[LedgerDatabase]:
    name = f"ledger_test_{next(_databases)}"
    admin = await asyncpg.connect(f"{postgres_url}/postgres")
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template_database}")
        yield LedgerDatabase(postgres_url, name)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


@pytest.fixture(scope="session")
def signer() -> CheckpointSigner:
    return CheckpointSigner.generate()
