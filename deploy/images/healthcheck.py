"""Container health checks for Steward images, with the standard library only.

    python /app/healthcheck.py process steward_guardrail   # bus-only services
    python /app/healthcheck.py http http://127.0.0.1:8082/healthz
    python /app/healthcheck.py tcp 127.0.0.1:9464

A bus-only service has no port to ask, so its check reads /proc: the service's module must
be PID 1's command line and the process must not be a zombie or stopped.
"""

from __future__ import annotations

import socket
import sys
import urllib.request
from pathlib import Path

# States of /proc/<pid>/stat that mean the process no longer does any work.
_DEAD_STATES = {"Z", "X", "T", "t"}


def process_alive(module: str, pid: int = 1) -> bool:
    """Whether `pid` runs `python -m <module>` and is neither a zombie nor stopped."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return False

    # The state is the first field after the parenthesised command name.
    state = stat.rsplit(")", 1)[-1].split()[0]
    return module.encode() in command and state not in _DEAD_STATES


def http_ok(url: str, timeout: float = 3.0) -> bool:
    """Whether a GET of `url` answers with a 2xx status."""
    if not url.startswith(("http://127.0.0.1", "http://localhost")):
        raise SystemExit(f"healthcheck: {url!r} is not a loopback URL")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            status: int = response.status
            return 200 <= status < 300
    except OSError:
        return False


def tcp_open(address: str, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to `host:port` is accepted."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def main(argv: list[str]) -> int:
    """Run the check named by the first argument; exit 0 when healthy, 1 when not."""
    checks = {"process": process_alive, "http": http_ok, "tcp": tcp_open}
    if len(argv) != 2 or argv[0] not in checks:
        print("usage: healthcheck.py {process MODULE | http URL | tcp HOST:PORT}", file=sys.stderr)
        return 2
    return 0 if checks[argv[0]](argv[1]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
