"""What the local infrastructure needs from the operating system: ports, pid files, users."""

from __future__ import annotations

import contextlib
import os
import pwd
import socket
import time
from pathlib import Path


class InfraError(RuntimeError):
    """Local infrastructure could not be started, checked or stopped."""


class PortTaken(InfraError):
    """Another program listens on the port a component was configured to use."""


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def wait_for_port(host: str, port: int, *, timeout: float, what: str, log: Path) -> None:
    """Wait until host:port accepts connections, or fail naming the log to read."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.02)
    raise InfraError(f"{what} did not open {host}:{port} within {timeout:.0f} s; see {log}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_pid(pid_file: Path) -> int | None:
    """The pid in a pid file if that process is still alive, else None."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # A zombie child still answers signal 0; treat it as gone.
    with contextlib.suppress(FileNotFoundError):
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        if state == "Z":
            return None
    return pid


def wait_for_exit(pid: int, timeout: float) -> bool:
    """Wait for a process to end; True when it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    return False


def running_as_root() -> bool:
    """PostgreSQL refuses to run as root, so its commands then run as the postgres user."""
    return os.geteuid() == 0


def postgres_user() -> pwd.struct_passwd:
    """The system account PostgreSQL runs as when this process is root."""
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise InfraError(
            "Running as root needs a 'postgres' system user to run PostgreSQL; "
            "install the postgresql package (apt-get install postgresql)"
        ) from None
