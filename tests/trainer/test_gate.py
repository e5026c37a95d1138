"""A worse candidate is refused; an equal or better one is promoted only after approval."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from steward_bus import Service
from steward_bus.testing import eventually
from steward_events import ModelEvaluated, ModelPromoted, ModelPromotionApproved, new_envelope
from steward_trainer.app import Trainer
from steward_trainer.evaluation import Evaluation, ModelUnderTest
from steward_trainer.settings import TrainerSettings
from steward_trainer.store import Candidate
from trainer_events import MODEL, input_checked

pytestmark = pytest.mark.asyncio(loop_scope="session")

TENANT = "riverland-revenue"
CURRENT = {
    "rouge_l": 0.40,
    "bleu": 0.20,
    "groundedness": 0.70,
    "no_answer_rate": 0.50,
    "injection_pass_rate": 1.0,
}


class FixedEvaluator:
    """Figures by adapter folder name: what each test model is known to score."""

    def __init__(self, by_adapter: dict[str | None, dict[str, float]]) -> None:
        self._by_adapter = by_adapter

    async def evaluate(self, model: ModelUnderTest) -> Evaluation:
        name = model.adapter_path.name if model.adapter_path else None
        return Evaluation(self._by_adapter[name])


def _candidate(candidate_id: str) -> Candidate:
    return Candidate(
        tenant=TENANT,
        candidate_id=candidate_id,
        run_id=f"run-{candidate_id}",
        model=MODEL.model_copy(update={"adapter": candidate_id}).model_dump(mode="json"),
        dataset_id="feedback-sft",
        dataset_version="v0001",
        adapter_uri=f"file:///adapters/{candidate_id}",
        settings={},
        passed=None,
        promoted=False,
    )


async def test_worse_is_refused_and_equal_passes_only_after_approval(
    settings: TrainerSettings, embedder: Any, observer_factory: Any
) -> None:
    evaluator = FixedEvaluator(
        {None: CURRENT, "worse": {**CURRENT, "rouge_l": 0.20}, "equal": dict(CURRENT)}
    )
    trainer = Trainer(settings, embedder=embedder, evaluator_factory=lambda tenant: evaluator)
    await trainer.start(metrics=False)
    observer = await observer_factory(ModelEvaluated, ModelPromoted)
    admin = Service("gateway", settings)
    try:
        async with admin:
            store = trainer.store
            assert store is not None
            cause = new_envelope(
                input_checked("c", "q"), source="/steward/test", tenant=TENANT, correlation_id="c"
            )
            verdicts = {}
            for name in ("worse", "equal"):
                candidate = _candidate(name)
                await store.add_candidate(candidate)
                verdicts[name] = await trainer.evaluate_candidate(
                    candidate, base_path=Path("/base"), cause=cause
                )
            assert not verdicts["worse"].passed
            assert "rouge_l fell" in verdicts["worse"].failures[0]
            assert verdicts["equal"].passed
            await eventually(lambda: len(observer.of(ModelEvaluated)) == 2)
            evaluated = observer.of(ModelEvaluated)[0].data
            assert evaluated.baseline_metrics == CURRENT and evaluated.thresholds

            # Passing is not enough: nothing is promoted before an admin approves.
            await asyncio.sleep(0.5)
            assert observer.of(ModelPromoted) == []

            # An approval of the refused candidate promotes nothing; of the passing one, it.
            for name in ("worse", "equal"):
                await admin.publish(
                    ModelPromotionApproved(
                        candidate_id=name, approved_by="admin-0001", canary_share=0.1
                    ),
                    tenant=TENANT,
                    correlation_id=f"approve-{name}",
                )
            await eventually(lambda: len(observer.of(ModelPromoted)) == 1)
            await asyncio.sleep(0.5)
            promoted = observer.of(ModelPromoted)
            assert len(promoted) == 1
            assert promoted[0].data.candidate_id == "equal"
            assert promoted[0].data.canary_share == 0.1
            assert promoted[0].data.model.adapter == "equal"
            assert (await store.current_candidate(TENANT)).candidate_id == "equal"  # type: ignore[union-attr]
    finally:
        await trainer.stop()
