"""A throwaway PostgreSQL cluster on 127.0.0.1 for tests and the benchmark."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

PG_BIN = Path(os.environ.get("STEWARD_PG_BIN", "/usr/lib/postgresql/15/bin"))


class LocalPostgresError(RuntimeError):
    """The private cluster could not be created, started or stopped."""


def _free_port() -> int:
    """Ask the kernel for a loopback port nobody is using right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class LocalPostgres:
    """Creates a cluster in a temporary folder, runs it on a free port and removes it after."""

    def __init__(self, *, durable: bool = True, max_connections: int = 100) -> None:
        self._durable = durable
        self._max_connections = max_connections
        self._root: Path | None = None
        self.port = 0

    @property
    def dsn(self) -> str:
        """Connection string for the superuser on the cluster's default database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> LocalPostgres:
        """Run initdb and start the server; as root, both run as the postgres user."""
        if not (PG_BIN / "initdb").exists():
            raise LocalPostgresError(f"no initdb in {PG_BIN}; set STEWARD_PG_BIN")
        self._root = Path(tempfile.mkdtemp(prefix="steward-review-pg-"))
        data = self._root / "data"
        self.port = _free_port()
        if os.geteuid() == 0:
            shutil.chown(self._root, user="postgres")

        self._run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
            ]
        )
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-c port={self.port}",
            f"-c unix_socket_directories={self._root}",
            f"-c max_connections={self._max_connections}",
        ]
        if not self._durable:
            # Test data is thrown away, so skip the flushes that dominate a small cluster's time.
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self._root / "server.log"),
                "-o",
                " ".join(options),
                "-w",
                "start",
            ]
        )
        return self

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        if self._root is None:
            return
        try:
            self._run(
                [str(PG_BIN / "pg_ctl"), "-D", str(self._root / "data"), "-m", "fast", "stop"]
            )
        finally:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, command: list[str]) -> None:
        """Run a server tool, as the postgres user when we are root."""
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise LocalPostgresError(
                f"{Path(command[-1]).name if command else command} failed "
                f"(exit {result.returncode}): {result.stderr.strip()[-800:]}"
            )
