"""The bus runtime keeps replays in their namespace and never lets a live event steer one."""

from __future__ import annotations

from typing import Any

from steward_bus import BusSettings, Service
from steward_bus.testing import collected_events, eventually
from steward_events import (
    ChatRequested,
    ChatResponded,
    DecidedBy,
    Disposition,
    Envelope,
    Replay,
    new_envelope,
)
from steward_infra import LocalStack

TENANT = "riverland-revenue"


def _settings(stack: LocalStack, namespace: str, *, serve_replay: bool) -> BusSettings:
    return BusSettings(
        kafka_bootstrap=stack.broker.bootstrap,
        database_url=stack.postgres.dsn,
        topic_namespace=namespace,
        otel_exporter="none",
        retry_initial_seconds=0.01,
        retry_max_seconds=0.05,
        serve_replay=serve_replay,
    )


async def test_replays_stay_in_their_namespace_and_live_events_lose_replay_attributes(
    stack: LocalStack, namespace: str
) -> None:
    settings = _settings(stack, namespace, serve_replay=True)
    handled: list[Envelope[Any]] = []
    service = Service("echo", settings)

    # A service that answers each request, as the guardrail does.
    async def answer(event: Envelope[Any]) -> None:
        handled.append(event)
        await service.publish(
            ChatResponded(
                conversation_id=event.data.conversation_id,
                disposition=Disposition.ANSWERED,
                answer="ok",
                decided_by=DecidedBy.GUARDRAIL,
            )
        )

    service.subscribe(ChatRequested, answer, replayable=True)
    client = Service("client", settings)
    responded: list[tuple[str, Envelope[Any]]] = []
    live_topic = namespace + ChatResponded.spec.topic
    replay_topic = settings.replay_namespace + ChatResponded.spec.topic
    request = ChatRequested(conversation_id="conv-1", question="When is my return due?")
    steering = Replay(of="corr-old", model="evil-model", prompt="1", policy="0.0.1")

    async with service, client:
        async with (
            collected_events(
                stack.broker.bootstrap,
                [live_topic],
                partitions=settings.topic_partitions,
                on_event=lambda e: responded.append(("live", e)),
            ),
            collected_events(
                stack.broker.bootstrap,
                [replay_topic, settings.replay_namespace + ChatRequested.spec.dlq_topic],
                partitions=settings.topic_partitions,
                on_event=lambda e: responded.append(("replay", e)),
            ),
        ):
            # A live event that carries replay attributes, as a forged record would.
            forged = new_envelope(
                request, source="/forger", tenant=TENANT, correlation_id="live-1", replay=steering
            )
            await client.send_raw(
                namespace + ChatRequested.spec.topic,
                forged.model_dump_json().encode(),
                key=b"live-1",
            )
            # A replay, as `steward replay` starts one.
            await client.publish(
                request, tenant=TENANT, correlation_id="replay-1", replay=steering
            )
            # A record on a replay topic that names no replayed request.
            unnamed = new_envelope(request, source="/forger", tenant=TENANT, correlation_id="r-2")
            await client.send_raw(
                settings.replay_namespace + ChatRequested.spec.topic,
                unnamed.model_dump_json().encode(),
                key=b"r-2",
            )
            await eventually(lambda: len(responded) >= 3)

    by_correlation = {event.correlationid: (where, event) for where, event in responded}
    # The live request was handled as live: no attributes, and its answer went to live.
    live_handled = next(e for e in handled if e.correlationid == "live-1")
    assert live_handled.replay is None
    where, live_answer = by_correlation["live-1"]
    assert where == "live" and live_answer.replay is None
    # The replay kept its overrides from cause to effect, in the replay namespace only.
    replay_handled = next(e for e in handled if e.correlationid == "replay-1")
    assert replay_handled.replay == steering
    where, replay_answer = by_correlation["replay-1"]
    assert where == "replay" and replay_answer.replay == steering
    assert replay_answer.causationid == replay_handled.id
    # The unnamed replay-topic record was dead-lettered, never handled.
    where, dead = by_correlation["r-2"]
    assert where == "replay" and "replayof" in dead.data.error
    assert all(e.correlationid != "r-2" for e in handled)
    assert not any(e.correlationid == "replay-1" for w, e in responded if w == "live")
