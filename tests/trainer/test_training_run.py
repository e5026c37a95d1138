"""A CPU training run of a few steps produces an adapter that the evaluation gate scores.

The gate here is the offline evaluator, since no pipeline runs; tests/e2e gates a candidate
through the running pipeline, as the service does by default.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from steward_bus import Service
from steward_bus.testing import eventually
from steward_events import (
    DatasetKind,
    ModelCandidateRegistered,
    ModelEvaluated,
    ModelRef,
    ReviewDecision,
    TrainerRunRequested,
)
from steward_trainer.app import Trainer
from steward_trainer.evaluate_cli import offline_evaluator
from steward_trainer.settings import TrainerSettings
from trainer_events import inference_completed, review_decided, until

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.slow]

TENANT = "riverland-revenue"


async def test_a_requested_run_registers_an_adapter_that_the_gate_scores(
    settings: TrainerSettings, embedder: Any, observer_factory: Any
) -> None:
    settings = settings.model_copy(
        update={"trainer_golden_limit": 1, "trainer_eval_max_tokens": 24}
    )
    evaluator = offline_evaluator(settings, tenant=TENANT, embedder=embedder)
    trainer = Trainer(settings, embedder=embedder, evaluator_factory=lambda tenant: evaluator)
    await trainer.start(metrics=False)
    observer = await observer_factory(ModelCandidateRegistered, ModelEvaluated)
    admin = Service("gateway", settings)
    try:
        async with admin:
            for n in range(2):
                conversation = f"conv-{n}"
                question = "Does Direct File cost anything?"
                for data in (
                    inference_completed(conversation, question, "It costs 50 dollars."),
                    review_decided(
                        conversation,
                        question,
                        "It costs 50 dollars.",
                        decision=ReviewDecision.EDIT,
                        final="No. Direct File is free [1].",
                    ),
                ):
                    await admin.publish(data, tenant=TENANT, correlation_id=conversation)
            store = trainer.store
            assert store is not None

            async def reviewed() -> bool:
                return await store.count("review_decisions") == 2

            await until(reviewed)
            version, _ = await trainer.export(TENANT, DatasetKind.SFT)

            request = await admin.publish(
                TrainerRunRequested(
                    run_id="run-1",
                    dataset_id=version.dataset_id,
                    dataset_version=version.version,
                    base_model=ModelRef(
                        name="SmolLM2-135M-Instruct", revision="gguf", backend="transformers"
                    ),
                    settings={"max_steps": "2"},
                    requested_by="admin-0001",
                ),
                tenant=TENANT,
                correlation_id="run-1",
            )
            await eventually(lambda: len(observer.of(ModelEvaluated)) == 1, within=900)

        registered = observer.of(ModelCandidateRegistered)[0]
        assert registered.causationid == request.id
        assert registered.data.dataset_version == version.version
        assert registered.data.settings["max_steps"] == "2"
        adapter = Path(registered.data.adapter_uri.removeprefix("file://"))
        digest = hashlib.sha256((adapter / "adapter_model.safetensors").read_bytes()).hexdigest()
        assert registered.data.model.adapter_sha256 == digest
        assert (adapter / "steward-manifest.json").exists()

        # The GGUF form the embedded backend serves sits under the adapter's name.
        gguf = settings.trainer_data_dir / "adapters" / f"{registered.data.model.adapter}.gguf"
        manifest = json.loads((adapter / "steward-manifest.json").read_text())
        assert registered.data.model.adapter == "run-1.candidate"
        assert gguf.read_bytes()[:4] == b"GGUF"
        assert manifest["gguf_adapter"]["path"] == str(gguf.resolve())
        assert manifest["gguf_adapter"]["sha256"] == hashlib.sha256(gguf.read_bytes()).hexdigest()
        assert registered.data.gguf_adapter_uri == gguf.resolve().as_uri()
        assert registered.data.gguf_adapter_sha256 == manifest["gguf_adapter"]["sha256"]

        evaluated = observer.of(ModelEvaluated)[0]
        assert evaluated.causationid == registered.id
        figures = evaluated.data.candidate_metrics
        for name in ("rouge_l", "bleu", "groundedness", "no_answer_rate", "injection_pass_rate"):
            assert 0.0 <= figures[name] <= 1.0
            assert name in evaluated.data.baseline_metrics
        assert evaluated.data.baseline.adapter is None
        assert evaluated.data.passed is (not evaluated.data.failures)
    finally:
        await trainer.stop()
