"""The gateway against the real broker, with a test service playing the pipeline."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from gateway_samples import PSEUDONYM_KEY, TENANT, TokenKit, answered, holding, token_kit
from steward_bus import BusSettings, Service
from steward_bus.testing import eventually
from steward_events import (
    ChatRequested,
    ChatResponded,
    DocumentSubmitted,
    Envelope,
    FeedbackSubmitted,
)
from steward_gateway import Gateway, GatewaySettings
from steward_infra import LocalStack

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass
class Pipeline:
    """Answers questions at once, except 'slow' ones (silence) and 'review' ones (holding)."""

    service: Service
    requests: list[Envelope[Any]] = field(default_factory=list)
    feedback: list[Envelope[Any]] = field(default_factory=list)
    documents: list[Envelope[Any]] = field(default_factory=list)

    async def on_request(self, event: Envelope[Any]) -> None:
        self.requests.append(event)
        question: str = event.data.question
        if "slow" in question:
            return
        if "review" in question:
            await self.service.publish(holding(event.data.conversation_id))
            return
        await self.service.publish(answered(event.data.conversation_id))

    async def on_feedback(self, event: Envelope[Any]) -> None:
        self.feedback.append(event)

    async def on_document(self, event: Envelope[Any]) -> None:
        self.documents.append(event)

    def request(self, correlation_id: str) -> Envelope[Any]:
        return next(e for e in self.requests if e.correlationid == correlation_id)

    async def finish(self, correlation_id: str, reply: ChatResponded) -> None:
        # Work finished after its handler returned names the request as its cause.
        await self.service.publish(reply, cause=self.request(correlation_id))


async def final_turn(running: Running, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """Poll a conversation as a client would until its first turn is final."""
    turn: dict[str, Any] = {}

    async def poll() -> None:
        nonlocal turn
        while True:
            turn = (await running.client.get(path, headers=headers)).json()["turns"][0]
            if turn["final"]:
                return
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), 30)
    return turn


@dataclass
class Running:
    client: httpx.AsyncClient
    pipeline: Pipeline
    kit: TokenKit


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def running(
    stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Running]:
    namespace = f"t{uuid.uuid4().hex[:12]}."
    bus = {
        "kafka_bootstrap": stack.broker.bootstrap,
        "database_url": stack.postgres.dsn,
        "topic_namespace": namespace,
        "otel_exporter": "none",
    }
    kit = token_kit(tmp_path_factory.mktemp("keys"))
    gateway = Gateway(
        GatewaySettings(
            **bus,
            gateway_auth=kit.auth,
            gateway_pseudonym_key=PSEUDONYM_KEY,
            gateway_wait_seconds=3.0,
            gateway_replica_id=f"test-{namespace[:-1]}",
            gateway_rate_burst=1_000,
            gateway_stream_chunk_chars=12,
        )
    )
    pipeline = Pipeline(Service("pipeline", BusSettings(**bus), group=f"pipeline-{namespace}"))
    pipeline.service.subscribe(ChatRequested, pipeline.on_request)
    pipeline.service.subscribe(FeedbackSubmitted, pipeline.on_feedback)
    pipeline.service.subscribe(DocumentSubmitted, pipeline.on_document)
    transport = httpx.ASGITransport(app=gateway.api)
    async with (
        gateway,
        pipeline.service,
        httpx.AsyncClient(transport=transport, base_url="http://gateway") as client,
    ):
        yield Running(client, pipeline, kit)


async def test_ask_round_trip_carries_tenant_clearance_pseudonym_and_conversation(
    running: Running,
) -> None:
    headers = running.kit.headers(subject="ana@example.org", clearance="internal")
    response = await running.client.post(
        "/v1/ask",
        json={
            "question": "When is my income tax return due?",
            "conversation_id": "conv-round-trip",
            "locale": "en",
            "training_consent": True,
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["disposition"] == "answered"
    assert body["answer"] == "File by April 15 [1]."
    assert body["citations"] == [
        {
            "number": 1,
            "title": "Individual income tax deadlines",
            "source_url": "https://revenue.riverland.example/income-tax/deadlines",
            "section": "Filing > Due dates",
            "document_id": "income-tax-deadlines",
        }
    ]
    assert body["ai_notice"] == "Written by an AI assistant."
    assert body["conversation_id"] == "conv-round-trip"

    request = running.pipeline.request(body["correlation_id"])
    assert request.tenant == TENANT
    assert request.data.conversation_id == "conv-round-trip"
    assert request.data.clearance == "internal"
    assert request.data.training_consent is True
    assert request.data.subject.startswith("cz-")
    assert request.subject == request.data.subject
    assert "ana" not in request.model_dump_json()

    # Every request gets a correlation id of its own.
    again = await running.client.post(
        "/v1/ask", json={"question": "And for businesses?"}, headers=headers
    )
    assert again.json()["correlation_id"] != body["correlation_id"]


async def test_past_the_wait_the_answer_is_202_and_arrives_at_the_status_url(
    running: Running,
) -> None:
    headers = running.kit.headers(subject="ben@example.org")
    response = await running.client.post(
        "/v1/ask", json={"question": "slow question about permits"}, headers=headers
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "pending"
    assert response.headers["Location"] == body["status_url"]
    status_path = httpx.URL(body["status_url"]).path
    assert status_path == f"/v1/conversations/{body['conversation_id']}"

    pending = (await running.client.get(status_path, headers=headers)).json()
    assert pending["turns"][0]["status"] == "pending"

    await running.pipeline.finish(body["correlation_id"], answered(body["conversation_id"]))

    latest = await final_turn(running, status_path, headers)
    assert latest["status"] == "final"
    assert latest["disposition"] == "answered"
    assert latest["citations"][0]["title"] == "Individual income tax deadlines"


async def test_a_holding_reply_is_under_review_until_the_reviewed_answer_arrives(
    running: Running,
) -> None:
    headers = running.kit.headers(subject="cai@example.org")
    response = await running.client.post(
        "/v1/ask", json={"question": "review my case", "human_requested": True}, headers=headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["disposition"] == "under_review"
    assert body["final"] is False
    assert body["status"] == "under_review"
    assert running.pipeline.request(body["correlation_id"]).data.human_requested is True

    await running.pipeline.finish(
        body["correlation_id"], answered(body["conversation_id"], "Reviewed: April 15 [1].")
    )
    status_path = f"/v1/conversations/{body['conversation_id']}"
    latest = await final_turn(running, status_path, headers)
    assert latest["answer"] == "Reviewed: April 15 [1]."
    assert latest["disposition"] == "answered"


async def test_chat_completions_answer_in_the_openai_shape(running: Running) -> None:
    response = await running.client.post(
        "/v1/chat/completions",
        json={
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are helpful."},
                {"role": "user", "content": "When is my return due?"},
            ],
            "temperature": 0.3,
        },
        headers=running.kit.headers(subject="dee@example.org"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-4o-mini"
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "File by April 15 [1]."}
    assert choice["finish_reason"] == "stop"
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert body["steward"]["disposition"] == "answered"
    assert body["steward"]["citations"][0]["number"] == 1
    request = running.pipeline.request(body["steward"]["correlation_id"])
    assert request.data.question == "When is my return due?"
    assert request.data.channel == "chat"


async def test_chat_completions_stream_the_released_answer_then_done(running: Running) -> None:
    response = await running.client.post(
        "/v1/chat/completions",
        json={"stream": True, "messages": [{"role": "user", "content": "Due date?"}]},
        headers=running.kit.headers(subject="eli@example.org"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = [frame for frame in response.text.split("\n\n") if frame]
    assert all(frame.startswith("data: ") for frame in frames)
    assert frames[-1] == "data: [DONE]"
    chunks = [json.loads(frame.removeprefix("data: ")) for frame in frames[:-1]]
    assert len(chunks) > 3, "the answer comes in several pieces"
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)
    assert text == "File by April 15 [1]."
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["steward"]["disposition"] == "answered"
    assert len({chunk["id"] for chunk in chunks}) == 1


async def test_feedback_and_documents_become_their_events(running: Running) -> None:
    citizen = running.kit.headers(subject="fay@example.org")
    feedback = await running.client.post(
        "/v1/feedback",
        json={
            "conversation_id": "conv-round-trip",
            "rating": "down",
            "comment": "Too short.",
            "correction": "Also mention extensions.",
            "training_consent": True,
        },
        headers=citizen,
    )
    assert feedback.status_code == 202, feedback.text

    admin = running.kit.headers(subject="admin@riverland.example", roles=("admin",))
    document = {
        "source_id": "permits-faq",
        "classification": "internal",
        "title": "Permits FAQ",
        "source_url": "https://permits.riverland.example/faq",
        "language": "en",
        "content": "# Permits\n\nA vendor permit costs $25.",
        "filename": "permits-faq.md",
    }
    submitted = await running.client.post("/v1/documents", json=document, headers=admin)
    assert submitted.status_code == 202, submitted.text
    refused = await running.client.post("/v1/documents", json=document, headers=citizen)
    assert refused.status_code == 403

    await eventually(lambda: bool(running.pipeline.feedback and running.pipeline.documents))
    rated = running.pipeline.feedback[0]
    assert rated.id == feedback.json()["event_id"]
    assert rated.tenant == TENANT
    assert rated.data.rating == "down"
    assert rated.data.correction == "Also mention extensions."
    assert rated.data.subject.startswith("cz-")
    assert rated.data.training_consent is True

    [stored] = running.pipeline.documents
    assert stored.correlationid == submitted.json()["correlation_id"]
    assert stored.tenant == TENANT
    assert stored.data.source_id == "permits-faq"
    assert stored.data.classification == "internal"
    assert stored.data.content == document["content"]
    assert stored.data.media_type == "text/markdown"
