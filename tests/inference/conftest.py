"""Fixtures for the inference service on the real broker: one SmolLM2, a probe service."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# Test modules are imported by path, so the kit beside this file is put on the import path.
sys.path.insert(0, str(Path(__file__).parent))

from inference_service_kit import Probe, make_worker
from steward_inference import EmbeddedLlama, EmbeddedLlamaConfig, InferenceWorker
from steward_inference.app import InferenceServiceSettings
from steward_infra import LocalStack


@pytest.fixture(scope="session")
def llama() -> Iterator[EmbeddedLlama]:
    """SmolLM2 in-process, loaded once for every test here."""
    with EmbeddedLlama(EmbeddedLlamaConfig(parallel=2)) as running:
        yield running


@pytest.fixture
def settings(stack: LocalStack, namespace: str, tmp_path: Path) -> InferenceServiceSettings:
    """Settings on the session's stack, in the test's own namespace and journal folder."""
    return InferenceServiceSettings(
        kafka_bootstrap=stack.broker.bootstrap,
        database_url=stack.postgres.dsn,
        topic_namespace=namespace,
        otel_exporter="none",
        retry_initial_seconds=0.01,
        retry_max_seconds=0.05,
        inference_journal_dir=tmp_path / "journal",
    )


@pytest.fixture
async def embedded_worker(llama: EmbeddedLlama) -> AsyncIterator[InferenceWorker]:
    """A worker over the session's SmolLM2."""
    worker = make_worker(llama.generator())
    yield worker
    await worker.aclose()


@pytest.fixture
async def probe(settings: InferenceServiceSettings) -> AsyncIterator[Probe]:
    """A started probe service."""
    running = Probe(settings)
    async with running.service:
        yield running
