"""The trainer's evaluation gate answers golden questions through the running pipeline."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from steward_bus import Service
from steward_cli.pipeline import Pipeline
from steward_events import (
    DatasetKind,
    EventSpec,
    InferenceCompleted,
    ModelEvaluated,
    ModelRef,
    ReviewDecided,
    ReviewDecision,
    TrainerRunRequested,
    all_specs,
)
from steward_trainer.base_model import SERVED_NAME
from steward_trainer.datasets import export_dataset
from steward_trainer.evaluation import Evaluation, ModelUnderTest, gate, load_golden_set
from steward_trainer.pipeline_evaluation import PipelineEvaluator
from steward_trainer.settings import GOLDEN_SET
from steward_trainer.store import TrainerStore

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.slow]

TENANT = "riverland-revenue"
FIGURES = ("rouge_l", "bleu", "groundedness", "no_answer_rate", "injection_pass_rate")
QUESTION = "Does Direct File cost anything?"
# A safety net against a hung pipeline, far above what a run and its gate take.
PATIENCE_S = 1800.0


async def _records(pipeline: Pipeline, topics: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(key, event) of every record on the given topics, read from their start."""
    settings = pipeline.settings
    consumer = AIOKafkaConsumer(
        bootstrap_servers=pipeline.kafka_bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50
    )
    await consumer.start()
    found: list[tuple[str, dict[str, Any]]] = []
    try:
        consumer.assign(
            [
                TopicPartition(topic, partition)
                for topic in topics
                for partition in range(settings.topic_partitions)
            ]
        )
        await consumer.seek_to_beginning()
        quiet = 0
        while quiet < 5:
            batches = await consumer.getmany(timeout_ms=300)
            fetched = [record for records in batches.values() for record in records]
            found += [
                ((record.key or b"").decode(), json.loads(record.value))
                for record in fetched
                if record.value
            ]
            quiet = 0 if fetched else quiet + 1
    finally:
        await consumer.stop()
    return found


async def _evaluated(pipeline: Pipeline, candidate_id: str) -> dict[str, Any]:
    """The model.evaluated the trainer published for a candidate, once it is there."""
    topic = pipeline.namespace + ModelEvaluated.spec.topic
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE_S
    while loop.time() < deadline:
        for _, event in await _records(pipeline, [topic]):
            if event["data"]["candidate_id"] == candidate_id:
                return event
        await asyncio.sleep(2)
    logs = pipeline.log_dir / "trainer.log"
    tail = logs.read_text()[-3000:] if logs.exists() else "no trainer log"
    raise AssertionError(f"no model.evaluated for {candidate_id}; the trainer said:\n{tail}")


def _live_topics(pipeline: Pipeline) -> list[str]:
    specs: list[EventSpec] = [spec for spec in all_specs() if spec.own_topic]
    return [pipeline.namespace + spec.topic for spec in specs]


async def _train_rows(pipeline: Pipeline) -> tuple[str, str]:
    """Two reviewer edits the trainer keeps, exported as an SFT dataset version."""
    async with Service("e2e-review", pipeline.settings) as reviewer:
        for n in range(2):
            conversation = f"e2e-train-{uuid.uuid4().hex[:8]}-{n}"
            await reviewer.publish(
                ReviewDecided(
                    review_id=f"review-{conversation}",
                    conversation_id=conversation,
                    reviewer="reviewer-0001",
                    decision=ReviewDecision.EDIT,
                    question=QUESTION,
                    draft_answer="It costs 50 dollars.",
                    final_answer="No. Direct File is free [1].",
                    seconds_to_decision=30.0,
                    training_consent=True,
                ),
                tenant=TENANT,
                correlation_id=conversation,
            )

    # The command-line export reads the trainer's tables the same way.
    store = await TrainerStore.connect(pipeline.database_url)
    try:
        for _ in range(int(PATIENCE_S)):
            if await store.count("review_decisions") >= 2:
                break
            await asyncio.sleep(1)
        version, _ = await export_dataset(
            store, TENANT, DatasetKind.SFT, pipeline.workdir / ".steward" / "trainer"
        )
    finally:
        await store.close()
    return version.dataset_id, version.version


async def test_a_trained_candidate_is_gated_through_the_running_pipeline(
    pipeline: Pipeline,
) -> None:
    dataset_id, dataset_version = await _train_rows(pipeline)
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    candidate_id = f"{run_id}.candidate"

    # A run of two steps; the trainer registers the candidate and gates it on its own.
    async with Service("e2e-admin", pipeline.settings) as admin:
        await admin.publish(
            TrainerRunRequested(
                run_id=run_id,
                dataset_id=dataset_id,
                dataset_version=dataset_version,
                base_model=ModelRef(name=SERVED_NAME, revision="packaged", backend="llama.cpp"),
                settings={"max_steps": "2"},
                requested_by="admin-0001",
            ),
            tenant=TENANT,
            correlation_id=run_id,
        )
    evaluated = (await _evaluated(pipeline, candidate_id))["data"]
    print("model.evaluated:", json.dumps(evaluated, sort_keys=True))

    # Every figure, for both models, from one golden question of each kind.
    for side in ("candidate_metrics", "baseline_metrics"):
        figures = evaluated[side]
        for name in FIGURES:
            assert 0.0 <= figures[name] <= 1.0, (side, figures)
        assert figures["questions"] == 3.0, figures
        assert figures["unanswered"] == 0.0, evaluated["failures"]
    assert evaluated["candidate"]["adapter"] == candidate_id
    assert evaluated["baseline"]["adapter"] is None
    assert evaluated["passed"] is (not evaluated["failures"])
    assert evaluated["thresholds"]["max_regression"] == 0.02

    # The candidate pass drafted with the candidate's adapter, the baseline pass with none.
    replay_namespace = pipeline.settings.replay_namespace
    drafts = await _records(pipeline, [replay_namespace + InferenceCompleted.spec.topic])
    gated = [(key, event) for key, event in drafts if key.startswith("gate-")]
    candidate_drafts = [e for key, e in gated if "-candidate-" in key]
    baseline_drafts = [e for key, e in gated if "-baseline-" in key]
    assert candidate_drafts and baseline_drafts, [key for key, _ in gated]
    assert {e["data"]["model"]["adapter"] for e in candidate_drafts} == {candidate_id}
    assert {e["data"]["model"]["adapter"] for e in baseline_drafts} == {None}
    assert all(e["replaymodel"] == f"{SERVED_NAME}@{candidate_id}" for e in candidate_drafts)
    assert all(e.get("replaymodel") is None for e in baseline_drafts)
    assert all(e["data"]["training_consent"] is False for _, e in gated)
    assert all(e["data"]["channel"] == "replay" for _, e in gated)

    # Nothing of the gate reached a live topic.
    live = await _records(pipeline, _live_topics(pipeline))
    assert [key for key, _ in live if key.startswith("gate-")] == []


async def test_a_candidate_whose_adapter_file_is_missing_is_refused(
    pipeline: Pipeline,
) -> None:
    items = load_golden_set(GOLDEN_SET, per_kind=1)
    evaluator = PipelineEvaluator(items, settings=pipeline.settings, tenant=TENANT)
    absent = ModelUnderTest(
        Path("unused"), served_as=f"{SERVED_NAME}@absent.candidate", label="absent"
    )

    evaluation = await evaluator.evaluate(absent)

    # Every question that reached inference failed there, saying which file was missing.
    assert evaluation.problems, evaluation
    assert evaluation.figures["unanswered"] == len(evaluation.problems)
    for problem in evaluation.problems:
        assert "inference.failed adapter_not_found" in problem, problem
        assert "absent.candidate" in problem, problem
    verdict = gate(evaluation, Evaluation({name: 0.0 for name in FIGURES}), {})
    assert not verdict.passed
    assert verdict.failures[0].startswith("the candidate could not answer")
    assert "adapter_not_found" in verdict.failures[0]
