"""`python -m steward_gateway` as its own process: HTTP, bus, clean stop, and clean logs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_samples import PSEUDONYM_KEY, TENANT, answered
from steward_auth import ensure_development_keys
from steward_bus import BusSettings, Service
from steward_cli.main import app
from steward_events import ChatRequested, Envelope
from steward_infra import LocalStack, free_port
from typer.testing import CliRunner

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _ready(url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as client:
        while process.returncode is None:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"the gateway exited with {process.returncode} before answering")


async def test_the_gateway_process_answers_stops_cleanly_and_never_logs_a_question(
    stack: LocalStack, namespace: str, tmp_path: Path
) -> None:
    # The embedded profile's default: the development key that `steward token` also uses.
    auth_dir = tmp_path / "auth"
    keys = ensure_development_keys(auth_dir)
    headers = {
        "Authorization": "Bearer "
        + keys.mint(subject="ana@example.org", tenant=TENANT, roles=["citizen"])
    }
    port = free_port()
    bus = {
        "STEWARD_KAFKA_BOOTSTRAP": stack.broker.bootstrap,
        "STEWARD_DATABASE_URL": stack.postgres.dsn,
        "STEWARD_TOPIC_NAMESPACE": namespace,
    }
    environment = {
        **os.environ,
        **bus,
        "STEWARD_OTEL_EXPORTER": "none",
        "STEWARD_LOG_LEVEL": "DEBUG",
        "STEWARD_GATEWAY_PORT": str(port),
        "STEWARD_AUTH_DIR": str(auth_dir),
        "STEWARD_GATEWAY_PSEUDONYM_KEY": PSEUDONYM_KEY.get_secret_value(),
    }
    marker = f"parcel-{uuid.uuid4().hex}"

    pipeline = Service(
        "pipeline",
        BusSettings(
            kafka_bootstrap=stack.broker.bootstrap,
            database_url=stack.postgres.dsn,
            topic_namespace=namespace,
            otel_exporter="none",
        ),
        group=f"pipeline-{namespace}",
    )
    questions: list[str] = []

    @pipeline.handles(ChatRequested)
    async def answer(event: Envelope[Any]) -> None:
        questions.append(event.data.question)
        await pipeline.publish(answered(event.data.conversation_id))

    log_path = tmp_path / "gateway.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "steward_gateway",
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        async with pipeline:
            base = f"http://127.0.0.1:{port}"
            await _ready(f"{base}/healthz", process)
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                asked = await client.post(
                    "/v1/ask",
                    json={"question": f"What do I owe on {marker}?"},
                    headers=headers,
                )
                rated = await client.post(
                    "/v1/feedback",
                    json={
                        "conversation_id": asked.json()["conversation_id"],
                        "rating": "up",
                        "comment": f"Thanks about {marker}",
                    },
                    headers=headers,
                )
                invalid = await client.post(
                    "/v1/ask",
                    json={"question": marker, "locale": "not a locale"},
                    headers=headers,
                )
            # The command line asks the same way, with a development token of its own.
            printed = await asyncio.to_thread(
                CliRunner().invoke,
                app,
                ["ask", "When is my return due?", "--gateway", base, "--auth-dir", str(auth_dir)],
                env={"COLUMNS": "200"},
            )
        assert printed.exit_code == 0, printed.output
        assert "File by April 15 [1]." in printed.output
        assert "[1] Individual income tax deadlines - Filing > Due dates" in printed.output
        assert "disposition answered" in printed.output
        assert "correlation id " in printed.output
        assert asked.status_code == 200, asked.text
        assert asked.json()["disposition"] == "answered"
        assert rated.status_code == 202
        assert invalid.status_code == 422
        assert questions == [f"What do I owe on {marker}?", "When is my return due?"]
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = await asyncio.wait_for(process.wait(), 30)

    logged = log_path.read_text(encoding="utf-8")
    assert returncode == 0, logged
    assert marker not in logged
    assert "gateway.asked" in logged
    assert "service_stopped" in logged
