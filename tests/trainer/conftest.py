"""Fixtures of the trainer tests: settings on the session's broker, a loaded embedding model."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from steward_bus import Service
from steward_events import Envelope, EventData
from steward_infra import LocalStack
from steward_trainer.gguf_adapter import LORA_CONVERTER
from steward_trainer.monitoring import MiniLMEmbedder
from steward_trainer.settings import TrainerSettings

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def settings(stack: LocalStack, namespace: str, tmp_path: Path) -> TrainerSettings:
    """Trainer settings of the test's own: topic namespace, schema and data folder."""
    return TrainerSettings(
        kafka_bootstrap=stack.broker.bootstrap,
        database_url=stack.postgres.dsn,
        topic_namespace=namespace,
        otel_exporter="none",
        trainer_db_schema="trainer_" + namespace.rstrip("."),
        trainer_data_dir=tmp_path / "trainer",
        trainer_base_cache=Path(__file__).resolve().parents[2] / ".steward" / "test" / "base",
        trainer_metrics_port=0,
        trainer_lora_converter=Path(__file__).resolve().parents[2] / LORA_CONVERTER,
        trainer_policy_dir=Path(__file__).resolve().parents[2]
        / "services"
        / "guardrail"
        / "policies",
    )


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """The packaged embedding model, loaded once for the session."""
    return MiniLMEmbedder()


class Observer:
    """A service of the test's own that collects what the trainer publishes."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.seen: dict[type[EventData], list[Envelope[Any]]] = {}

    def watch(self, *models: type[EventData]) -> None:
        for model in models:
            bucket: list[Envelope[Any]] = self.seen.setdefault(model, [])

            async def keep(event: Envelope[Any], bucket: list[Envelope[Any]] = bucket) -> None:
                bucket.append(event)

            self.service.subscribe(model, keep)

    def of(self, model: type[EventData]) -> list[Envelope[Any]]:
        return self.seen[model]


@pytest.fixture
async def observer_factory(
    settings: TrainerSettings,
) -> AsyncIterator[Callable[..., Any]]:
    """Start an observer that watches the given event types."""
    started: list[Service] = []

    async def start(*models: type[EventData]) -> Observer:
        observer = Observer(Service("observer", settings))
        observer.watch(*models)
        await observer.service.start()
        started.append(observer.service)
        return observer

    yield start
    for service in started:
        await service.stop()
