"""Drift alerts from the live question stream on the bus, and the metrics endpoint."""

from __future__ import annotations

import asyncio
import random
import urllib.request
from typing import Any

import pytest
from steward_bus import Service
from steward_events import MonitorAlertRaised
from steward_trainer.app import Trainer
from steward_trainer.settings import TrainerSettings
from trainer_events import input_checked, until

pytestmark = pytest.mark.asyncio(loop_scope="session")

TENANT = "riverland-revenue"
TAX = ["How do I {} my tax return?", "Where do I {} my refund?", "Can I {} my sales tax permit?"]
TAX_WORDS = ["file", "check", "amend", "track", "renew"]
PARK = ["Can I bring my {} to the park?", "Is a {} allowed on the beach?"]
PARK_WORDS = ["dog", "kayak", "tent", "camper van"]


def _stream(templates: list[str], words: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(templates).format(rng.choice(words)) for _ in range(n)]


async def test_a_shifted_stream_raises_one_drift_alert_and_a_stable_one_none(
    settings: TrainerSettings, embedder: Any, observer_factory: Any
) -> None:
    settings = settings.model_copy(
        update={
            "trainer_drift_reference_size": 40,
            "trainer_drift_window": 30,
            "trainer_drift_clusters": 4,
        }
    )
    trainer = Trainer(settings, embedder=embedder)
    await trainer.start()
    observer = await observer_factory(MonitorAlertRaised)
    gateway = Service("gateway", settings)
    try:
        async with gateway:
            store = trainer.store
            assert store is not None

            async def send(questions: list[str], offset: int) -> None:
                for n, question in enumerate(questions, offset):
                    await gateway.publish(
                        input_checked(f"conv-{n}", question),
                        tenant=TENANT,
                        correlation_id=f"conv-{n}",
                    )

                async def kept() -> bool:
                    return await store.count("conversations") == offset + len(questions)

                await until(kept)

            await send(_stream(TAX, TAX_WORDS, 70, seed=1), 0)
            await asyncio.sleep(0.5)
            drift = [a for a in observer.of(MonitorAlertRaised) if a.data.metric == "drift_psi"]
            assert drift == []

            await send(_stream(PARK, PARK_WORDS, 30, seed=2), 70)

            async def alerted() -> bool:
                return any(a.data.metric == "drift_psi" for a in observer.of(MonitorAlertRaised))

            await until(alerted)
            alert = next(
                a for a in observer.of(MonitorAlertRaised) if a.data.metric == "drift_psi"
            )
            assert alert.tenant == TENANT and alert.data.value > alert.data.threshold

            url = f"http://127.0.0.1:{trainer.metrics_port}/metrics"
            body = await asyncio.to_thread(
                lambda: urllib.request.urlopen(url, timeout=5).read().decode()
            )
            assert f'steward_trainer_input_drift_psi{{tenant="{TENANT}"}}' in body
    finally:
        await trainer.stop()
