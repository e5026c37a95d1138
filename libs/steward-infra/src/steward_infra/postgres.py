"""A private PostgreSQL cluster in a project folder, on 127.0.0.1 and a port of the project's."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from steward_infra.processes import (
    InfraError,
    PortTaken,
    port_open,
    postgres_user,
    read_pid,
    running_as_root,
)

HOST = "127.0.0.1"
_DEFAULT_BIN_DIRS = [Path(f"/usr/lib/postgresql/{v}/bin") for v in (17, 16, 15)]


def postgres_bin_dir() -> Path:
    """The folder holding initdb and pg_ctl."""
    configured = os.environ.get("STEWARD_PG_BIN_DIR")
    candidates = [Path(configured)] if configured else list(_DEFAULT_BIN_DIRS)
    found = shutil.which("pg_ctl")
    if found and not configured:
        candidates.append(Path(found).resolve().parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise InfraError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in "
        f"{', '.join(map(str, candidates))}; install the postgresql package or set "
        "STEWARD_PG_BIN_DIR"
    )


@dataclass(frozen=True)
class LocalPostgres:
    """One PostgreSQL cluster in `data_dir`, trust authentication on loopback only."""

    port: int
    data_dir: Path
    user: str = "steward"
    database: str = "steward"
    bin_dir: Path = field(default_factory=postgres_bin_dir)

    def __post_init__(self) -> None:
        # Commands run from "/", so every path they get must be absolute.
        object.__setattr__(self, "data_dir", self.data_dir.resolve())

    @property
    def dsn(self) -> str:
        """The connection URL for asyncpg and psql."""
        return f"postgresql://{self.user}@{HOST}:{self.port}/{self.database}"

    @property
    def cluster_dir(self) -> Path:
        return self.data_dir / "cluster"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"

    def pid(self) -> int | None:
        """The postmaster's pid if this cluster is running."""
        return read_pid(self.cluster_dir / "postmaster.pid")

    def running_port(self) -> int | None:
        """The port the running cluster listens on, from its postmaster.pid file."""
        if self.pid() is None:
            return None
        try:
            return int((self.cluster_dir / "postmaster.pid").read_text().splitlines()[3])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def start(self, *, timeout: float = 60.0) -> bool:
        """Initialise the cluster if needed and start it; True when this call started it."""
        if self.running_port() == self.port and port_open(HOST, self.port):
            self._ensure_database()
            return False
        if self.pid() is not None:
            raise InfraError(
                f"The cluster in {self.cluster_dir} runs on another port than {self.port}; "
                "stop it first (make infra-down)"
            )
        if port_open(HOST, self.port):
            raise PortTaken(
                f"{HOST}:{self.port} is taken by another program; set STEWARD_PG_PORT to a "
                "free port"
            )
        self._prepare_folders()
        if not (self.cluster_dir / "PG_VERSION").exists():
            self._run(
                "initdb",
                "--pgdata",
                str(self.cluster_dir),
                "--username",
                self.user,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-locale",
            )
        options = (
            f"-p {self.port} -c listen_addresses={HOST} -k {self.socket_dir} "
            "-c max_connections=200 -c shared_buffers=128MB"
        )
        self._run(
            "pg_ctl",
            "--pgdata",
            str(self.cluster_dir),
            "--log",
            str(self.log_file),
            "--wait",
            "--timeout",
            str(int(timeout)),
            "-o",
            options,
            "start",
            failure=f"PostgreSQL did not start; see {self.log_file}",
        )
        self._ensure_database()
        return True

    def stop(self) -> bool:
        """Stop the cluster (fast shutdown); True when it was running."""
        if self.pid() is None:
            return False
        self._run("pg_ctl", "--pgdata", str(self.cluster_dir), "--mode", "fast", "--wait", "stop")
        return True

    def _prepare_folders(self) -> None:
        for folder in (self.data_dir, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.log_file.touch()
        if not running_as_root():
            return
        account = postgres_user()
        for path in (self.data_dir, self.socket_dir, self.log_file):
            os.chown(path, account.pw_uid, account.pw_gid)
        self.data_dir.chmod(0o700)
        # Every folder above the cluster must let the postgres user through.
        blocked = [
            parent
            for parent in self.data_dir.resolve().parents
            if not (parent.stat().st_mode & 0o001)
        ]
        if blocked:
            raise InfraError(
                f"The postgres user cannot reach {self.data_dir} because {blocked[0]} is "
                "closed to other users; set STEWARD_DATA_DIR to a folder it can reach"
            )

    def _ensure_database(self) -> None:
        exists = self._run(
            "psql",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--username",
            self.user,
            "--dbname",
            "postgres",
            "--tuples-only",
            "--no-align",
            "--command",
            # The name comes from settings, not from users; quoted as a literal all the same.
            "SELECT 1 FROM pg_database WHERE datname = "  # noqa: S608
            + "'"
            + self.database.replace("'", "''")
            + "'",
        )
        if exists.strip() != "1":
            self._run(
                "createdb",
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--username",
                self.user,
                self.database,
            )

    def _run(self, program: str, *args: str, failure: str | None = None) -> str:
        binary = self.bin_dir / program
        if not binary.exists():
            binary = Path(shutil.which(program) or program)
        command = [str(binary), *args]
        if running_as_root():
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(  # noqa: S603 - fixed binaries, arguments built here
            command,
            capture_output=True,
            text=True,
            check=False,
            cwd="/",
            env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
        )
        if result.returncode != 0:
            message = failure or f"{program} failed"
            raise InfraError(f"{message}: {result.stderr.strip() or result.stdout.strip()}")
        return result.stdout
