"""Runs each Steward service as its own process and restarts one that dies."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from collections.abc import Callable

log = structlog.get_logger("steward.supervisor")


@dataclass(frozen=True)
class ServiceProcess:
    """How to start one service: its name and the Python module that runs it."""

    name: str
    module: str


ENTRY_POINT_GROUP = "steward.services"

# The bus runtime logs this event once a service's consumers and producer are running.
READY_MARK = b'"event": "service_started"'


def installed_services() -> list[ServiceProcess]:
    """Every service package installed here, found by its `steward.services` entry point.

    A service declares `<name> = "<module>"` in that group; `python -m <module>` runs it.
    """
    found = [
        ServiceProcess(name=entry.name, module=entry.value)
        for entry in entry_points(group=ENTRY_POINT_GROUP)
    ]
    return sorted(found, key=lambda service: service.name)


@dataclass
class Supervisor:
    """Starts services, restarts the ones that exit, and stops them all on request."""

    services: list[ServiceProcess]
    environment: dict[str, str]
    log_dir: Path
    cwd: Path | None = None
    restart_delay: float = 2.0
    _children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _log_starts: dict[str, int] = field(default_factory=dict)
    _stopping: bool = False

    def start(self) -> None:
        """Start every service process."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service in self.services:
            self._spawn(service)

    def _log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def _spawn(self, service: ServiceProcess) -> None:
        path = self._log_path(service.name)
        self._log_starts[service.name] = path.stat().st_size if path.exists() else 0
        log_file = path.open("ab")
        self._children[service.name] = subprocess.Popen(  # noqa: S603 - our own modules
            [sys.executable, "-m", service.module],
            env={**os.environ, **self.environment},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.cwd,
        )
        log.info("service_spawned", service=service.name, pid=self._children[service.name].pid)

    @property
    def stopping(self) -> bool:
        """Whether `stop()` was called."""
        return self._stopping

    def pids(self) -> dict[str, int]:
        """The process id of each service's current process."""
        return {name: child.pid for name, child in self._children.items()}

    def exited(self) -> dict[str, int]:
        """The services whose current process has ended, with its exit status."""
        return {
            name: child.returncode
            for name, child in self._children.items()
            if child.poll() is not None
        }

    def not_ready(self) -> list[str]:
        """Services whose current process has not yet logged that it started consuming."""
        waiting = []
        for service in self.services:
            path = self._log_path(service.name)
            with path.open("rb") as log:
                log.seek(self._log_starts.get(service.name, 0))
                if READY_MARK not in log.read():
                    waiting.append(service.name)
        return waiting

    def wait_ready(self, timeout: float) -> list[str]:
        """Wait until every service is consuming; return those still not ready at `timeout`."""
        deadline = time.monotonic() + timeout
        waiting = self.not_ready()
        while waiting and time.monotonic() < deadline and not self._stopping:
            time.sleep(0.5)
            waiting = self.not_ready()
        return waiting

    def watch(self, health: Callable[[], object] | None = None, every: float = 5.0) -> None:
        """Block, restarting services that exit, until `stop()` is called from a signal.

        `health`, when given, runs every `every` seconds: it may restart what the services need.
        """
        checked = time.monotonic()
        while not self._stopping:
            if health is not None and time.monotonic() - checked >= every:
                health()
                checked = time.monotonic()
            for service in self.services:
                child = self._children.get(service.name)
                if child is not None and child.poll() is not None and not self._stopping:
                    log.warning(
                        "service_exited", service=service.name, returncode=child.returncode
                    )
                    time.sleep(self.restart_delay)
                    self._spawn(service)
            time.sleep(0.5)

    def stop(self, timeout: float = 15.0) -> None:
        """Ask every service to stop, then kill the ones still running after `timeout`."""
        self._stopping = True
        for child in self._children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, child in self._children.items():
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("service_killed", service=name)
                child.kill()
                child.wait()


def wait_listening(ports: dict[str, int], timeout: float) -> list[str]:
    """Wait until each named port on 127.0.0.1 accepts connections; return those that never do."""
    deadline = time.monotonic() + timeout
    waiting = dict(ports)
    while waiting:
        for name, port in list(waiting.items()):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    del waiting[name]
            except OSError:
                pass
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    return sorted(waiting)
