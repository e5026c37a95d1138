"""The auditor API of a running ledger: tenant scope, proofs that verify, refusals, erasure."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from ledger_waiting import until
from steward_auth import generate_signing_key
from steward_bus import Service
from steward_events import ChatRequested, ChatResponded, DecidedBy, Disposition, Envelope
from steward_ledger import EventQuery
from steward_ledger.app import LedgerService
from steward_ledger.settings import LedgerSettings
from steward_ledger_proofs import (
    Checkpoint,
    canonical_json,
    event_leaf_hash,
    public_key_from_pem,
    verify_checkpoint,
    verify_consistency,
    verify_inclusion,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

Token = Callable[..., str]


def _request(conversation: str) -> ChatRequested:
    return ChatRequested(conversation_id=conversation, question="Is my permit approved?")


def _answer(conversation: str) -> ChatResponded:
    return ChatResponded(
        conversation_id=conversation,
        disposition=Disposition.ANSWERED,
        answer="Yes.",
        decided_by=DecidedBy.GUARDRAIL,
    )


@dataclass
class RunningLedger:
    ledger: LedgerService
    gateway: Service
    client: httpx.AsyncClient
    revenue_request: Envelope[Any]
    revenue_answer: Envelope[Any]
    permits_request: Envelope[Any]


@pytest.fixture
async def running(ledger_settings: LedgerSettings, tmp_path: Path) -> AsyncIterator[RunningLedger]:
    """A ledger with questions sealed per subject and answers kept for no time at all."""
    policy = tmp_path / "personal-data.json"
    policy.write_text(json.dumps({ChatRequested.spec.type: ["question"]}))
    settings = ledger_settings.model_copy(
        update={
            "ledger_personal_data_path": policy,
            "ledger_retention_days": {ChatResponded.spec.type: 0},
            "ledger_retention_interval_seconds": 3600,
        }
    )
    gateway = Service("gateway", settings)
    ledger = LedgerService(settings)
    async with gateway, ledger:
        revenue_request = await gateway.publish(
            _request("c-r"), tenant="revenue", correlation_id="corr-r", subject="citizen-r1"
        )
        revenue_answer = await gateway.publish(
            _answer("c-r"), tenant="revenue", correlation_id="corr-r"
        )
        permits_request = await gateway.publish(
            _request("c-p"), tenant="permits", correlation_id="corr-p", subject="citizen-p1"
        )

        async def recorded_and_serving() -> bool:
            page = await ledger.store.search(EventQuery(types=[ChatRequested.spec.type]))
            return len(page.events) == 2 and ledger.api_port is not None

        await until(recorded_and_serving)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ledger.api_port}") as client:
            yield RunningLedger(
                ledger, gateway, client, revenue_request, revenue_answer, permits_request
            )


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _checkpoint(obj: dict[str, Any]) -> Checkpoint:
    return Checkpoint.from_json(obj)


async def test_an_auditor_sees_the_tenants_timeline_with_inclusion_proofs_that_verify(
    running: RunningLedger, token: Token
) -> None:
    client, headers = running.client, _auth(token("revenue", "auditor"))
    public_key = public_key_from_pem((await client.get("/v1/public-key")).content)

    timeline = (await client.get("/v1/timelines/corr-r", headers=headers)).json()["events"]
    ids = {item["event"]["id"] for item in timeline}
    assert ids == {running.revenue_request.id, running.revenue_answer.id}
    assert [item["seq"] for item in timeline] == sorted(item["seq"] for item in timeline)

    # The event's bytes give its leaf; the path leads to a root the ledger's key signed.
    event = (await client.get(f"/v1/events/{running.revenue_request.id}", headers=headers)).json()
    proof = (
        await client.get(f"/v1/events/{running.revenue_request.id}/proof", headers=headers)
    ).json()
    checkpoint = _checkpoint(proof["checkpoint"])
    verify_checkpoint(checkpoint, public_key)
    digest = hashlib.sha256(canonical_json(event["event"])).digest()
    leaf = event_leaf_hash(event["seq"], digest)
    assert leaf.hex() == proof["leaf_hash"] == event["leaf_hash"]
    path = [bytes.fromhex(node) for node in proof["path"]]
    verify_inclusion(leaf, proof["seq"], checkpoint.tree_size, path, checkpoint.root_hash)

    # The question is personal data: recorded sealed under the citizen's key, not in clear.
    assert event["event"]["data"]["question"]["steward_sealed"] == "aes-256-gcm/1"

    # Search pages through the tenant's events by seq.
    seen: list[str] = []
    after: int | None = None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"after": after} if after is not None else {})
        page = (await client.get("/v1/events", params=params, headers=headers)).json()
        seen += [item["event"]["id"] for item in page["events"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert set(seen) == ids and len(seen) == 2

    answers = await client.get(
        "/v1/events", params={"type": ChatResponded.spec.type}, headers=headers
    )
    assert [item["event"]["id"] for item in answers.json()["events"]] == [
        running.revenue_answer.id
    ]


async def test_another_tenants_auditor_sees_none_of_the_events(
    running: RunningLedger, token: Token
) -> None:
    client, headers = running.client, _auth(token("permits", "auditor"))
    revenue_id = running.revenue_request.id

    assert (await client.get(f"/v1/events/{revenue_id}", headers=headers)).status_code == 404
    assert (await client.get(f"/v1/events/{revenue_id}/proof", headers=headers)).status_code == 404
    timeline = await client.get("/v1/timelines/corr-r", headers=headers)
    assert timeline.json()["events"] == []
    refused = await client.get("/v1/events", params={"tenant": "revenue"}, headers=headers)
    assert refused.status_code == 403
    own = (await client.get("/v1/events", headers=headers)).json()["events"]
    assert [item["event"]["id"] for item in own] == [running.permits_request.id]
    export = await client.get("/v1/exports", params={"correlation_id": "corr-r"}, headers=headers)
    assert export.status_code == 200
    assert export.content.count(b"\n") == 1, "a header and no event"


async def test_refused_tokens_answer_401_or_403_and_are_logged_without_the_token(
    running: RunningLedger,
    token: Token,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = running.client
    path = f"/v1/events/{running.revenue_request.id}"
    stranger = generate_signing_key("ES256", kid="ledger-test")
    refused = {
        "untrusted key": token("revenue", "auditor", key=stranger),
        "wrong audience": token("revenue", "auditor", audience="someone-else"),
        "expired": token("revenue", "auditor", lifetime=timedelta(minutes=-5)),
        "not a jwt": "not-a-token",
    }

    missing = await client.get(path)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    for case, bad in refused.items():
        answer = await client.get(path, headers=_auth(bad))
        assert answer.status_code == 401, case
    reviewer = token("revenue", "reviewer")
    assert (await client.get(path, headers=_auth(reviewer))).status_code == 403
    auditor = token("revenue", "auditor")
    erase = await client.post(
        "/v1/erasures", json={"subject": "citizen-r1"}, headers=_auth(auditor)
    )
    assert erase.status_code == 403

    printed = capsys.readouterr()
    logged = printed.out + printed.err + caplog.text
    assert logged.count("auth.refused") >= len(refused) + 3
    for secret in [*refused.values(), reviewer, auditor]:
        assert secret not in logged


async def test_checkpoints_are_consistent_and_erasure_and_retention_keep_every_proof(
    running: RunningLedger, token: Token
) -> None:
    client, store = running.client, running.ledger.store
    auditor = _auth(token("revenue", "auditor"))
    public_key = public_key_from_pem((await client.get("/v1/public-key")).content)

    # Two checkpoints, with an event recorded between them.
    first = await store.checkpoint()
    later = await running.gateway.publish(
        _request("c-r2"), tenant="revenue", correlation_id="corr-r2", subject="citizen-r2"
    )

    async def grown() -> bool:
        return store.tree_size > first.tree_size

    await until(grown)
    second = await store.checkpoint()
    latest = _checkpoint((await client.get("/v1/checkpoints/latest", headers=auditor)).json())
    assert latest.tree_size >= second.tree_size
    answer = await client.get(
        "/v1/proofs/consistency",
        params={"old_size": first.tree_size, "new_size": second.tree_size},
        headers=auditor,
    )
    body = answer.json()
    old, new = _checkpoint(body["old_checkpoint"]), _checkpoint(body["new_checkpoint"])
    verify_checkpoint(old, public_key)
    verify_checkpoint(new, public_key)
    verify_consistency(
        old.tree_size,
        new.tree_size,
        old.root_hash,
        new.root_hash,
        [bytes.fromhex(node) for node in body["proof"]],
    )

    # Erasure: only a privacy officer of a tenant that recorded the subject.
    other_officer = _auth(token("permits", "privacy_officer"))
    officer = _auth(token("revenue", "privacy_officer"))
    not_ours = await client.post(
        "/v1/erasures", json={"subject": "citizen-r1"}, headers=other_officer
    )
    assert not_ours.status_code == 404
    erased = await client.post("/v1/erasures", json={"subject": "citizen-r1"}, headers=officer)
    assert erased.json() == {"subject": "citizen-r1", "erased": True}
    recorded = await store.event(running.revenue_request.id)
    assert "question" not in await store.open_personal_data(recorded)
    still = await store.open_personal_data(await store.event(later.id))
    assert still["data"]["question"] == "Is my permit approved?"

    # Retention drops the answer's payload; its digest and every proof remain.
    assert await running.ledger.apply_retention() == 1
    pruned = (await client.get(f"/v1/events/{running.revenue_answer.id}", headers=auditor)).json()
    assert pruned["pruned_at"] is not None and "data" not in pruned["event"]
    report = await store.audit()
    assert report.ok, report.reason
    assert report.pruned_events == 1
