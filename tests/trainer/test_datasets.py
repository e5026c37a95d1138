"""Feedback and review decisions become dataset rows; non-consenting conversations do not."""

from __future__ import annotations

from typing import Any

import pytest
from steward_bus import Service
from steward_bus.testing import eventually
from steward_events import DatasetKind, DatasetVersionCreated, Rating, ReviewDecision
from steward_trainer.app import Trainer
from steward_trainer.datasets import read_version
from steward_trainer.settings import TrainerSettings
from trainer_events import feedback, inference_completed, input_checked, review_decided, until

pytestmark = pytest.mark.asyncio(loop_scope="session")

TENANT = "riverland-revenue"
QUESTION = "Does Direct File cost anything?"
DRAFT = "It costs 50 dollars."
EDIT = "No. Direct File is free [1]."


async def _conversation(
    gateway: Service, conversation: str, *, consent: bool, decision: ReviewDecision
) -> None:
    for data in (
        input_checked(conversation, QUESTION, consent=consent),
        inference_completed(conversation, QUESTION, DRAFT, consent=consent),
        review_decided(
            conversation,
            QUESTION,
            DRAFT,
            decision=decision,
            final=EDIT if decision is ReviewDecision.EDIT else None,
            consent=consent,
        ),
        feedback(conversation, Rating.DOWN, consent=consent),
    ):
        await gateway.publish(data, tenant=TENANT, correlation_id=conversation)


async def test_decisions_and_ratings_become_rows_of_consenting_conversations_only(
    settings: TrainerSettings, embedder: Any, observer_factory: Any
) -> None:
    trainer = Trainer(settings, embedder=embedder)
    await trainer.start(metrics=False)
    observer = await observer_factory(DatasetVersionCreated)
    gateway = Service("gateway", settings)
    try:
        async with gateway:
            await _conversation(gateway, "conv-edit", consent=True, decision=ReviewDecision.EDIT)
            await _conversation(
                gateway, "conv-approve", consent=True, decision=ReviewDecision.APPROVE
            )
            await _conversation(
                gateway, "conv-private", consent=False, decision=ReviewDecision.EDIT
            )
            # Consent given on some events and refused on one excludes the conversation.
            await _conversation(gateway, "conv-mixed", consent=True, decision=ReviewDecision.EDIT)
            await gateway.publish(
                feedback("conv-mixed", Rating.UP, consent=False),
                tenant=TENANT,
                correlation_id="conv-mixed",
            )
            store = trainer.store
            assert store is not None

            async def all_ratings_kept() -> bool:
                return await store.count("ratings") == 5

            await until(all_ratings_kept)

        sft = await store.supervised_pairs(TENANT)
        dpo = await store.preference_pairs(TENANT)
        kto = await store.thumbs_labels(TENANT)
        assert sorted(row["answer"] for row in sft) == sorted([EDIT, DRAFT])
        assert [(row["chosen"], row["rejected"]) for row in dpo] == [(EDIT, DRAFT)]
        assert [row["rating"] for row in kto] == ["down", "down"]

        # Export writes TRL layouts, hashed, and announces each new version once.
        version, created = await trainer.export(TENANT, DatasetKind.DPO)
        assert created
        rows = read_version(version)  # checks the recorded hash too
        assert set(rows[0]) == {"prompt", "chosen", "rejected"}
        assert rows[0]["chosen"][0]["content"] == EDIT
        assert "Direct File is free" in rows[0]["prompt"][0]["content"]
        again, created_again = await trainer.export(TENANT, DatasetKind.DPO)
        assert (again.version, created_again) == (version.version, False)
        sft_version, _ = await trainer.export(TENANT, DatasetKind.SFT)
        kto_version, _ = await trainer.export(TENANT, DatasetKind.KTO)
        sft_row = read_version(sft_version)[0]
        kto_row = read_version(kto_version)[0]
        assert [m["role"] for m in sft_row["messages"]] == ["system", "user", "assistant"]
        assert set(kto_row) == {"prompt", "completion", "label"} and kto_row["label"] is False

        await eventually(lambda: len(observer.of(DatasetVersionCreated)) == 3)
        announced = observer.of(DatasetVersionCreated)[0]
        assert announced.tenant == TENANT
        assert announced.data.sha256 == version.sha256 and announced.data.rows == 1
    finally:
        await trainer.stop()
