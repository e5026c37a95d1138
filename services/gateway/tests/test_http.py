"""The HTTP layer alone: tokens, roles, body limits, rate limits and error wording."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from steward_auth import TokenVerifier
from steward_bus import PublishFailed
from steward_events import ChatRequested, EventData, new_event_id

from gateway_samples import PSEUDONYM_KEY, TokenKit, answered, now_utc, token_kit
from steward_gateway.api import GatewayParts, create_api
from steward_gateway.conversations import ConversationStore
from steward_gateway.pseudonyms import SubjectPseudonyms
from steward_gateway.ratelimit import RateLimiter
from steward_gateway.settings import GatewaySettings


class AnsweringOutbox:
    """Records what would be published and answers questions at once, as the pipeline would."""

    def __init__(self, conversations: ConversationStore) -> None:
        self.conversations = conversations
        self.published: list[tuple[EventData, dict[str, Any]]] = []

    async def publish(self, data: EventData, **stamp: Any) -> Any:
        self.published.append((data, stamp))
        if isinstance(data, ChatRequested):
            self.conversations.deliver(
                tenant=stamp["tenant"],
                correlation_id=stamp["correlation_id"],
                reply=answered(data.conversation_id),
            )
        return SimpleNamespace(id=new_event_id())


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> TokenKit:
    return token_kit(tmp_path_factory.mktemp("keys"))


@pytest.fixture
async def parts(kit: TokenKit) -> GatewayParts:
    settings = GatewaySettings(
        gateway_auth=kit.auth,
        gateway_pseudonym_key=PSEUDONYM_KEY,
        gateway_wait_seconds=0.5,
        gateway_max_body_bytes=2_000,
        gateway_max_document_bytes=4_000,
        gateway_max_question_chars=500,
        gateway_rate_per_minute=6,
        gateway_rate_burst=3,
    )
    conversations = ConversationStore(max_conversations=100, ttl_seconds=60)
    return GatewayParts(
        settings=settings,
        outbox=AnsweringOutbox(conversations),
        conversations=conversations,
        verifier=TokenVerifier(kit.auth),
        pseudonyms=SubjectPseudonyms(PSEUDONYM_KEY.get_secret_value().encode()),
        limiter=RateLimiter(per_minute=6, burst=3),
    )


@pytest.fixture
async def client(parts: GatewayParts) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_api(parts))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


async def test_an_answer_names_its_citations_and_the_ai_notice(
    client: httpx.AsyncClient, kit: TokenKit, parts: GatewayParts
) -> None:
    response = await client.post(
        "/v1/ask", json={"question": "When is my return due?"}, headers=kit.headers()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["disposition"] == "answered"
    assert body["citations"][0]["section"] == "Filing > Due dates"
    assert body["ai_notice"] == "Written by an AI assistant."
    assert body["status_url"].endswith(f"/v1/conversations/{body['conversation_id']}")

    published, stamp = parts.outbox.published[0]  # type: ignore[attr-defined]
    assert stamp["correlation_id"] == body["correlation_id"]
    assert published.subject.startswith("cz-")
    assert "ana" not in published.subject


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no bearer token"),
        ({"Authorization": "Basic abc"}, "must be 'Bearer <token>'"),
        ({"Authorization": "Bearer not.a.token"}, "malformed token"),
    ],
)
async def test_missing_or_malformed_tokens_are_401_with_the_reason(
    client: httpx.AsyncClient, headers: dict[str, str], reason: str
) -> None:
    response = await client.post("/v1/ask", json={"question": "q"}, headers=headers)
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_expired_foreign_and_wrongly_addressed_tokens_are_401(
    client: httpx.AsyncClient, kit: TokenKit, tmp_path: Path
) -> None:
    expired = kit.headers(now=now_utc() - timedelta(hours=2), lifetime=timedelta(minutes=5))
    wrong_audience = kit.headers(audience="someone-else")
    foreign = token_kit(tmp_path).headers()
    for headers, reason in (
        (expired, "token expired"),
        (wrong_audience, "wrong audience"),
        (foreign, "signature does not verify"),
    ):
        response = await client.post("/v1/ask", json={"question": "q"}, headers=headers)
        assert response.status_code == 401, reason
        assert reason in response.json()["detail"]


async def test_roles_decide_who_may_ask_and_who_may_submit_documents(
    client: httpx.AsyncClient, kit: TokenKit
) -> None:
    document = {"source_id": "doc-1", "classification": "public", "content": "# Title"}
    citizen = await client.post("/v1/documents", json=document, headers=kit.headers())
    assert citizen.status_code == 403
    assert "role admin required" in citizen.json()["detail"]

    admin_only = kit.headers(roles=("admin",))
    assert (
        await client.post("/v1/documents", json=document, headers=admin_only)
    ).status_code == 202
    refused = await client.post("/v1/ask", json={"question": "q"}, headers=admin_only)
    assert refused.status_code == 403
    assert "role citizen required" in refused.json()["detail"]


async def test_an_unknown_clearance_claim_is_refused_by_name(
    client: httpx.AsyncClient, kit: TokenKit
) -> None:
    response = await client.post(
        "/v1/ask", json={"question": "q"}, headers=kit.headers(clearance="top-secret")
    )
    assert response.status_code == 403
    assert "claim clearance must be one of" in response.json()["detail"]


async def test_bodies_over_the_limit_are_413_declared_or_streamed(
    client: httpx.AsyncClient, kit: TokenKit
) -> None:
    big = {"question": "x" * 3_000}
    declared = await client.post("/v1/ask", json=big, headers=kit.headers())
    assert declared.status_code == 413
    assert "/v1/ask takes at most 2000" in declared.json()["detail"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b" " * 1_000

    streamed = await client.post("/v1/feedback", content=chunks(), headers=kit.headers())
    assert streamed.status_code == 413
    assert "at least" in streamed.json()["detail"]

    # Documents have a limit of their own.
    document = {"source_id": "doc-1", "classification": "public", "content": "y" * 3_000}
    admin = kit.headers(roles=("admin",), subject="admin-1")
    assert (await client.post("/v1/documents", json=document, headers=admin)).status_code == 202


async def test_a_question_over_the_character_limit_is_413_naming_the_limit(
    client: httpx.AsyncClient, kit: TokenKit
) -> None:
    response = await client.post("/v1/ask", json={"question": "z" * 600}, headers=kit.headers())
    assert response.status_code == 413
    assert "question is 600 characters; at most 500" in response.json()["detail"]


async def test_past_the_burst_a_client_gets_429_with_retry_after(
    client: httpx.AsyncClient, kit: TokenKit
) -> None:
    headers = kit.headers(subject="busy@example.org")
    statuses = [
        (await client.post("/v1/ask", json={"question": "q"}, headers=headers)).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 200]

    refused = await client.post("/v1/ask", json={"question": "q"}, headers=headers)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "rate limit of 6 requests per minute" in refused.json()["detail"]

    other = await client.post("/v1/ask", json={"question": "q"}, headers=kit.headers())
    assert other.status_code == 200, "another citizen has a bucket of their own"


async def test_invalid_fields_are_named_without_echoing_the_input(
    client: httpx.AsyncClient, kit: TokenKit
) -> None:
    secret = "my SSN is 123-45-6789"
    response = await client.post(
        "/v1/ask",
        json={"question": secret, "conversation_id": "!bad id", "locale": 12},
        headers=kit.headers(),
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "conversation_id" in detail
    assert "locale" in detail
    assert secret not in response.text


async def test_someone_elses_conversation_is_404(client: httpx.AsyncClient, kit: TokenKit) -> None:
    asked = await client.post("/v1/ask", json={"question": "q"}, headers=kit.headers())
    url = f"/v1/conversations/{asked.json()['conversation_id']}"
    assert (await client.get(url, headers=kit.headers())).status_code == 200
    other = await client.get(url, headers=kit.headers(subject="eve@example.org"))
    assert other.status_code == 404
    assert "no conversation" in other.json()["detail"]


@pytest.mark.parametrize(
    ("question", "reason"),
    [("a\u0000b", "control character"), ("tax\u001bdue", "control character"), ("  \n ", "empty")],
)
async def test_a_question_with_control_characters_or_only_blanks_is_422(
    client: httpx.AsyncClient, kit: TokenKit, question: str, reason: str
) -> None:
    response = await client.post("/v1/ask", json={"question": question}, headers=kit.headers())
    assert response.status_code == 422
    assert reason in response.json()["detail"]


class UnreachableOutbox:
    """An event bus whose broker does not answer."""

    async def publish(self, data: EventData, **stamp: Any) -> Any:
        raise PublishFailed("publishing to steward.chat.requested.v1 failed: KafkaTimeoutError")


async def test_a_bus_that_cannot_take_the_question_is_a_503_with_retry_after(
    parts: GatewayParts, kit: TokenKit
) -> None:
    unreachable = dataclasses.replace(parts, outbox=UnreachableOutbox())
    transport = httpx.ASGITransport(app=create_api(unreachable))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.post(
            "/v1/ask",
            json={"question": "When is the filing deadline?", "conversation_id": "c-1"},
            headers=kit.headers(),
        )
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert response.json()["disposition"] == "unavailable"
        assert "event bus is unavailable" in response.json()["detail"]
        # The question never left, so the conversation keeps no pending turn for it.
        kept = await client.get("/v1/conversations/c-1", headers=kit.headers())
        assert kept.status_code == 404 or kept.json()["turns"] == []


async def test_the_answer_field_does_not_repeat_the_notice_carried_beside_it(
    parts: GatewayParts, kit: TokenKit
) -> None:
    conversations = parts.conversations

    class NoticeOutbox(AnsweringOutbox):
        async def publish(self, data: EventData, **stamp: Any) -> Any:
            if isinstance(data, ChatRequested):
                reply = answered(data.conversation_id, "File by April 15 [1].")
                reply = reply.model_copy(
                    update={"answer": f"{reply.answer}\n\nWritten by an AI assistant."}
                )
                conversations.deliver(
                    tenant=stamp["tenant"], correlation_id=stamp["correlation_id"], reply=reply
                )
            return SimpleNamespace(id=new_event_id())

    noticed = dataclasses.replace(parts, outbox=NoticeOutbox(conversations))
    transport = httpx.ASGITransport(app=create_api(noticed))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        body = (
            await client.post("/v1/ask", json={"question": "Deadline?"}, headers=kit.headers())
        ).json()
        assert body["answer"] == "File by April 15 [1]."
        assert body["ai_notice"] == "Written by an AI assistant."
        completion = await client.post(
            "/v1/chat/completions",
            json={"model": "steward", "messages": [{"role": "user", "content": "Deadline?"}]},
            headers=kit.headers(),
        )
        # Chat clients show only the message, so there the notice stays in the text.
        content = completion.json()["choices"][0]["message"]["content"]
        assert content.endswith("Written by an AI assistant.")
