"""`steward replay` re-runs a recorded request through the real services, unseen by citizens."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from steward_bus import Service
from steward_cli.main import app
from steward_cli.replay import ReplayError, fetch_timeline, replay_request, run_replay
from steward_events import ChatRequested, ChatResponded, RetrievalCompleted
from typer.testing import CliRunner

if TYPE_CHECKING:
    from steward_bus import BusSettings

# The conftest's pipeline serves this tenant, and keeps this earlier policy version on file.
TENANT = "riverland-revenue"
ARCHIVED_VERSION = "2026.11.0-test"
Stack = Any

QUESTION = "How can I check the status of my federal tax refund?"
# The live groups of the replay-serving services and the live topics each one reads.
LIVE_READS = {
    "steward-guardrail": ["steward.chat.requested.v1", "steward.inference.completed.v1"],
    "steward-indexer": ["steward.guardrail.input_checked.v1"],
    "steward-inference": [RetrievalCompleted.spec.topic],
}


async def _live_offsets(settings: BusSettings) -> dict[tuple[str, str, int], int]:
    """The committed offset of every live partition the replay-serving groups read."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        found = {}
        for group, topics in LIVE_READS.items():
            partitions = [
                TopicPartition(settings.topic_namespace + topic, partition)
                for topic in topics
                for partition in range(settings.topic_partitions)
            ]
            offsets = await admin.list_consumer_group_offsets(
                settings.topic_namespace + group, partitions=partitions
            )
            for partition, meta in offsets.items():
                found[(group, partition.topic, partition.partition)] = meta.offset
        return found
    finally:
        await admin.close()


async def _records(settings: BusSettings, topics: list[str]) -> list[Any]:
    """Every record on the given topics, read until a poll comes back empty."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50
    )
    await consumer.start()
    try:
        consumer.assign(
            [TopicPartition(t, p) for t in topics for p in range(settings.topic_partitions)]
        )
        await consumer.seek_to_beginning()
        records: list[Any] = []
        while batches := await consumer.getmany(timeout_ms=1_000):
            for batch in batches.values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def _recorded(stack: Stack, correlation_id: str) -> list[dict[str, Any]]:
    """The ledger's timeline of a request once its final response is recorded."""
    timeline: list[dict[str, Any]] = []

    async def responded() -> bool:
        nonlocal timeline
        if stack.ledger.api_port is None:
            return False
        timeline = await fetch_timeline(stack.ledger_url, stack.auditor_token, correlation_id)
        return any(event["type"] == ChatResponded.spec.type for event in timeline)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 300
    while not await responded():
        assert loop.time() < deadline, f"the ledger never recorded a response of {correlation_id}"
        await asyncio.sleep(0.2)
    return timeline


async def test_a_replay_runs_with_the_chosen_versions_and_stays_out_of_the_live_topics(
    replay_stack: Stack,
) -> None:
    settings = replay_stack.settings

    # A citizen's request answered live, with the live prompt (v3) and policy.
    gateway = Service("test-gateway", settings)
    async with gateway:
        await gateway.publish(
            ChatRequested(conversation_id="conv-live-1", question=QUESTION),
            tenant=TENANT,
            correlation_id="live-request-1",
            subject="citizen-0001",
        )
    original = await _recorded(replay_stack, "live-request-1")
    live_topics = [settings.topic_namespace + spec.topic for spec in _live_specs()]
    live_before = await _records(settings, live_topics)
    offsets_before = await _live_offsets(settings)

    # The replay: prompt v1 and the archived policy version.
    report = await run_replay(
        settings,
        original,
        "live-request-1",
        prompt_version="1",
        policy_version=ARCHIVED_VERSION,
        within=300,
    )

    assert report.original.prompt == "grounded-answer v3", report
    assert report.replay.prompt == "grounded-answer v1", report
    assert report.original.policy is not None and "2026.12.1" in report.original.policy
    assert report.replay.policy is not None and ARCHIVED_VERSION in report.replay.policy
    assert report.replay.disposition is not None and report.replay.input_verdict == "pass"
    assert report.replay.output_verdict in {"release", "decline", "review"}
    # Nothing reached a live topic, and no live group offset moved past what it had read.
    live_after = await _records(settings, live_topics)
    assert len(live_after) == len(live_before)
    ends: dict[tuple[str, int], int] = {}
    for record in live_after:
        ends[(record.topic, record.partition)] = record.offset + 1
    for (group, topic, partition), offset in (await _live_offsets(settings)).items():
        before = offsets_before[(group, topic, partition)]
        assert offset in {before, ends.get((topic, partition), -1)}, (group, topic, partition)
    # The ledger recorded the replay, each event naming the request it replays.
    replayed = await _recorded(replay_stack, report.replay.correlation_id)
    assert {e["type"] for e in replayed} >= {
        "steward.chat.requested.v1",
        "steward.inference.completed.v1",
        "steward.chat.responded.v1",
    }
    assert all(e.get("replayof") == "live-request-1" for e in replayed), replayed
    [drafted] = [e for e in replayed if e["type"] == "steward.inference.completed.v1"]
    assert drafted["data"]["prompt"]["version"] == "1"
    assert drafted.get("replayprompt") == "1"


async def test_an_unknown_model_or_policy_version_ends_the_replay_saying_why(
    replay_stack: Stack,
) -> None:
    settings = replay_stack.settings
    original = await _recorded(replay_stack, "live-request-1")

    unknown_model = await run_replay(
        settings, original, "live-request-1", model="no-such-model", within=300
    )
    assert unknown_model.replay.disposition == "unavailable", unknown_model
    assert unknown_model.replay.inference_error is not None
    assert unknown_model.replay.inference_error.startswith("model_not_served")
    assert "no-such-model" in unknown_model.replay.inference_error

    # Through the command line, as an auditor runs it, with JSON for a script.
    environment = {
        "STEWARD_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "STEWARD_DATABASE_URL": settings.database_url,
        "STEWARD_TOPIC_NAMESPACE": settings.topic_namespace,
        "STEWARD_TOKEN": replay_stack.auditor_token,
        "STEWARD_OTEL_EXPORTER": "none",
    }
    result = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        [
            *("replay", "live-request-1", "--policy-version", "1999.1", "--json"),
            *("--url", replay_stack.ledger_url),
        ],
        env=environment,
    )
    # The outcome is still reported, but the command fails: it did not run as asked.
    assert result.exit_code == 1, result.output
    assert "did not run as asked" in result.stderr
    replayed = json.loads(result.stdout)["replay"]
    assert replayed["input_verdict"] == "block"
    assert "input check_failed/unknown_policy_version" in replayed["findings"]
    assert "1999.1" in replayed["reason"] and ARCHIVED_VERSION in replayed["reason"]


async def test_a_request_whose_subject_was_erased_is_refused() -> None:
    sealed = {"steward_sealed": "erased", "kid": "subject-key-1"}
    timeline = [
        {"type": "steward.chat.requested.v1", "data": {"question": sealed}},
        {"type": "steward.chat.responded.v1", "data": {"answer": "..."}},
    ]
    with pytest.raises(ReplayError, match="erased"):
        replay_request(timeline, "corr-1")
    with pytest.raises(ReplayError, match=r"no steward\.chat\.requested\.v1"):
        replay_request(timeline[1:], "corr-1")


def _live_specs() -> list[Any]:
    from steward_events import all_specs

    return [spec for spec in all_specs() if spec.own_topic]


def test_the_table_shows_the_original_and_the_replay_side_by_side() -> None:
    from rich.console import Console
    from steward_cli.replay import ReplayReport, comparison_table, outcome_of

    def run(version: str, answer: str) -> list[dict[str, Any]]:
        prompt = {"template_id": "grounded-answer", "version": version, "sha256": "a" * 64}
        return [
            {"type": "steward.inference.completed.v1", "data": {"prompt": prompt}},
            {
                "type": "steward.chat.responded.v1",
                "data": {"disposition": "answered", "answer": answer, "final": True},
            },
        ]

    report = ReplayReport(
        outcome_of("corr-1", run("2", "File by April 15 [1].")),
        outcome_of("replay-1", run("1", "The answer is: April.")),
        {"model": None, "prompt_version": "1", "policy_version": None},
    )
    console = Console(record=True, width=200)
    console.print(comparison_table(report))
    text = console.export_text()

    assert "prompt_version=1" in text
    assert "grounded-answer v2" in text and "grounded-answer v1" in text
    assert "File by April 15 [1]." in text and "The answer is: April." in text
