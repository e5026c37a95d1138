"""`python -m steward_review` as `steward up` runs it: serves, then stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from steward_infra import LocalStack

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_service_process_serves_and_stops_cleanly_on_sigterm(
    stack: LocalStack, tmp_path: Path
) -> None:
    environment = {
        **os.environ,
        "STEWARD_PROFILE": "embedded",
        "STEWARD_KAFKA_BOOTSTRAP": stack.broker.bootstrap,
        "STEWARD_DATABASE_URL": stack.postgres.dsn,
        "STEWARD_TOPIC_NAMESPACE": f"t{uuid.uuid4().hex[:12]}.",
        "STEWARD_OTEL_EXPORTER": "none",
        "STEWARD_AUTH_DIR": str(tmp_path / "auth"),
        "STEWARD_REVIEW_PSEUDONYM_SECRET_FILE": str(tmp_path / "pseudonym.key"),
        "STEWARD_REVIEW_HTTP_PORT": "0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "steward_review",
        env=environment,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        # The service logs where it listens once it is ready.
        address = None
        while address is None:
            line = await process.stderr.readline()
            assert line, "the service exited before it was ready"
            if b"review.started" in line:
                address = json.loads(line)["http"]

        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            health = await http.get("/healthz")
            sign_in = await http.get("/sign-in")
        assert health.json() == {"status": "ok"}
        assert sign_in.status_code == 200
        assert (tmp_path / "auth" / "jwks.json").exists()

        process.send_signal(signal.SIGTERM)
        rest = await process.stderr.read()
        assert await process.wait() == 0
        assert b"review.stopped" in rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
