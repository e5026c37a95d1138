"""Exported bundles and `steward ledger verify`: passes as exported, names the seq when changed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from ledger_waiting import until
from steward_bus import Service
from steward_cli.main import app
from steward_events import ChatRequested
from steward_ledger.app import LedgerService
from steward_ledger.settings import LedgerSettings
from typer.testing import CliRunner

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_an_exported_bundle_verifies_and_a_changed_byte_is_named_by_its_seq(
    ledger_settings: LedgerSettings, token: Callable[..., str], tmp_path: Path
) -> None:
    gateway = Service("gateway", ledger_settings)
    ledger = LedgerService(ledger_settings)
    async with gateway, ledger:
        for n in range(5):
            await gateway.publish(
                ChatRequested(conversation_id=f"c-{n}", question=f"Question number {n}?"),
                tenant="revenue",
                correlation_id="corr-export" if n % 2 == 0 else "corr-other",
            )

        async def serving_all() -> bool:
            return ledger.store.tree_size >= 5 and ledger.api_port is not None

        await until(serving_all)
        headers = {"Authorization": f"Bearer {token('revenue', 'auditor')}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ledger.api_port}") as client:
            key = (await client.get("/v1/public-key")).content
            by_correlation = await client.get(
                "/v1/exports", params={"correlation_id": "corr-export"}, headers=headers
            )
            by_time = await client.get(
                "/v1/exports", params={"occurred_from": "2000-01-01T00:00:00Z"}, headers=headers
            )

        # `steward ledger export` fetches the same bundle; its HTTP client blocks, so it runs
        # on a thread while this loop serves the API.
        downloaded = tmp_path / "downloaded.jsonl"
        command = ["ledger", "export", "-o", str(downloaded), "--correlation-id", "corr-export"]
        command += ["--url", f"http://127.0.0.1:{ledger.api_port}"]
        exported = await asyncio.to_thread(
            CliRunner().invoke, app, command, env={"STEWARD_TOKEN": token("revenue", "auditor")}
        )
        assert exported.exit_code == 0, exported.output

    assert by_correlation.status_code == by_time.status_code == 200
    assert by_correlation.headers["X-Steward-Bundle-Events"] == "3"
    assert by_time.headers["X-Steward-Bundle-Events"] == "5"
    assert downloaded.read_bytes().count(b"\n") == by_correlation.content.count(b"\n") == 4
    public_key = tmp_path / "ledger.pub.pem"
    public_key.write_bytes(key)
    runner = CliRunner()

    for name, answer in (("correlation", by_correlation), ("time", by_time)):
        bundle = tmp_path / f"{name}.jsonl"
        bundle.write_bytes(answer.content)
        result = runner.invoke(
            app, ["ledger", "verify", str(bundle), "--public-key", str(public_key)]
        )
        assert result.exit_code == 0, result.output
        assert result.output.startswith("OK: "), result.output

    # One byte of one recorded question changed: the check fails and names that event's seq.
    lines = by_correlation.content.splitlines(keepends=True)
    target = lines[2]
    seq = int(target.split(b'"seq":', 1)[1].split(b",", 1)[0])
    lines[2] = target.replace(b"Question number 2?", b"Question number 7?")
    assert lines[2] != target
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(b"".join(lines))

    result = runner.invoke(
        app, ["ledger", "verify", str(tampered), "--public-key", str(public_key)]
    )
    assert result.exit_code == 1
    assert result.output.startswith(f"FAILED at seq {seq}:"), result.output
