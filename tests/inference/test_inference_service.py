"""The inference service against the real broker and PostgreSQL, with SmolLM2 in-process."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from inference_service_kit import Probe, group_suffix, make_worker, passport_question
from steward_bus.testing import eventually
from steward_events import ModelPromoted, ModelRef, RouteDisabled, RouteEnabled
from steward_inference import (
    EmbeddedLlama,
    HttpBackendConfig,
    InferenceWorker,
    KillScope,
    OpenAICompatibleGenerator,
    PromptRegistry,
    ServerKind,
)
from steward_inference.app import InferenceService, InferenceServiceSettings
from steward_infra import free_port

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.asyncio(loop_scope="session")


def group(settings: InferenceServiceSettings) -> str:
    """A consumer group of the test's own, so no test waits on another's departed members."""
    return f"steward-inference-{group_suffix(settings)}"


def journal_files(settings: InferenceServiceSettings) -> list[Path]:
    folder = settings.inference_journal_dir
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


async def test_retrieval_results_are_drafted_concurrently_with_full_provenance(
    settings: InferenceServiceSettings,
    embedded_worker: InferenceWorker,
    llama: EmbeddedLlama,
    probe: Probe,
) -> None:
    service = InferenceService(settings, group=group(settings), worker=embedded_worker)
    peak = 0

    def all_answered() -> bool:
        nonlocal peak
        peak = max(peak, service.in_flight)
        return len(probe.outcomes) == 3

    async with service:
        sent = [
            await probe.send(passport_question(f"conv-{n}"), correlation_id=f"corr-{n}")
            for n in range(3)
        ]
        await eventually(all_answered, within=120)

    # The handler hands drafts to the background, so several were in flight at once.
    assert probe.failed == []
    assert peak >= 2
    assert journal_files(settings) == []

    request = sent[0]
    answer = probe.outcome_of(request)
    assert answer is not None
    assert answer.causationid == request.id
    assert answer.correlationid == "corr-0"
    assert answer.tenant == "revenue"
    assert answer.source == "/steward/inference"

    data = answer.data
    template = PromptRegistry.packaged().get("grounded-answer")
    assert data.conversation_id == "conv-0"
    assert data.text
    assert data.model.name == llama.config.model_name
    assert data.model.revision == llama.revision
    assert data.model.backend == "llama.cpp-embedded"
    assert data.model.adapter is None
    assert data.prompt.template_id == "grounded-answer"
    assert data.prompt.version == str(template.version)
    assert data.prompt.sha256 == template.sha256
    assert data.sampling.seed == template.sampling.seed
    assert data.sampling.max_tokens == template.sampling.max_tokens
    assert data.sampling.temperature == template.sampling.temperature
    assert data.usage.prompt_tokens > 0
    assert data.usage.completion_tokens > 0
    assert data.latency_ms > 0
    assert data.finish_reason in {"stop", "length"}

    # The retrieval facts travel with the draft.
    asked = request.data
    assert data.passages == asked.passages
    assert data.question == asked.question
    assert data.language == "en-US"
    assert data.channel == asked.channel
    assert data.subject == asked.subject
    assert data.training_consent is True
    for citation in data.citations:
        cited = next(p for p in asked.passages if p.chunk_id == citation.chunk_id)
        assert citation.document_id == cited.document_id
        assert citation.document_version == cited.document_version
        assert citation.title == cited.title
        assert citation.source_url == cited.source_url
        assert citation.section_path == cited.section_path


async def test_a_dead_backend_ends_in_inference_failed(
    settings: InferenceServiceSettings, probe: Probe
) -> None:
    generator = OpenAICompatibleGenerator(
        HttpBackendConfig(
            base_url=f"http://127.0.0.1:{free_port()}/v1",
            model="smollm2-135m-instruct",
            server_kind=ServerKind.LLAMA_CPP,
            revision="r1",
            max_attempts=2,
            backoff_initial_s=0.01,
            backoff_max_s=0.02,
            connect_timeout_s=1.0,
        )
    )
    worker = make_worker(generator)
    try:
        async with InferenceService(settings, group=group(settings), worker=worker):
            request = await probe.send(passport_question())
            await eventually(lambda: probe.outcome_of(request) is not None, within=60)
    finally:
        await worker.aclose()

    assert probe.completed == []
    failure = probe.failed[0]
    assert failure.causationid == request.id
    assert failure.correlationid == "corr-1"
    assert failure.data.error_kind == "connection_failed"
    assert failure.data.attempts == 2
    assert failure.data.reason
    assert failure.data.language == "en-US"
    assert failure.data.model is not None
    assert failure.data.model.name == "smollm2-135m-instruct"
    assert failure.data.model.revision == "r1"
    assert failure.data.model.backend == "llama.cpp"
    assert journal_files(settings) == []


async def test_a_tenant_switch_fails_its_requests_at_once_until_enabled(
    settings: InferenceServiceSettings, embedded_worker: InferenceWorker, probe: Probe
) -> None:
    async with InferenceService(settings, group=group(settings), worker=embedded_worker):
        await probe.send(RouteDisabled(actor="operator-0001", reason="incident"))
        await eventually(
            lambda: (KillScope.TENANT, "revenue") in embedded_worker.routes.disabled()
        )

        started = time.monotonic()
        stopped = await probe.send(passport_question("conv-2"), correlation_id="corr-2")
        other = await probe.send(
            passport_question("conv-3"), tenant="parks", correlation_id="corr-3"
        )
        await eventually(lambda: probe.outcome_of(stopped) is not None)
        waited = time.monotonic() - started

        await eventually(lambda: probe.outcome_of(other) is not None, within=60)

        await probe.send(RouteEnabled(actor="operator-0001", reason="fixed"))
        await eventually(lambda: embedded_worker.routes.disabled() == set())
        resumed = await probe.send(passport_question("conv-4"), correlation_id="corr-4")
        await eventually(lambda: probe.outcome_of(resumed) is not None, within=60)

    failure = probe.outcome_of(stopped)
    assert failure is not None
    assert failure.type == "steward.inference.failed.v1"
    assert failure.data.error_kind == "route_disabled"
    assert failure.data.attempts == 0
    assert waited < 5, f"a switched-off request took {waited:.1f} s to fail"

    # The switch named only the tenant it came from.
    answered = probe.outcome_of(other)
    assert answered is not None
    assert answered.type == "steward.inference.completed.v1"

    restored = probe.outcome_of(resumed)
    assert restored is not None
    assert restored.type == "steward.inference.completed.v1"


async def test_a_promotion_moves_the_tenant_and_is_recorded_in_the_draft(
    settings: InferenceServiceSettings,
    embedded_worker: InferenceWorker,
    llama: EmbeddedLlama,
    probe: Probe,
) -> None:
    promoted = ModelRef(
        name=llama.config.model_name, revision="promoted-2", backend="llama.cpp-embedded"
    )

    def applied() -> bool:
        route = embedded_worker.routes.resolve(
            tenant="revenue", route="default", correlation_id="corr-9"
        )
        return bool(route.choice.revision == "promoted-2")

    async with InferenceService(settings, group=group(settings), worker=embedded_worker):
        await probe.send(ModelPromoted(candidate_id="cand-1", model=promoted))
        await eventually(applied)
        request = await probe.send(passport_question("conv-9"), correlation_id="corr-9")
        await eventually(lambda: probe.outcome_of(request) is not None, within=60)

    answer = probe.outcome_of(request)
    assert answer is not None
    assert answer.type == "steward.inference.completed.v1"
    assert answer.data.model.revision == "promoted-2"

    # Other tenants keep the default model.
    other = embedded_worker.routes.resolve(tenant="parks", route="default", correlation_id="c")
    assert other.choice.revision is None


async def test_a_stop_waits_for_drafts_in_flight(
    settings: InferenceServiceSettings, embedded_worker: InferenceWorker, probe: Probe
) -> None:
    service = InferenceService(settings, group=group(settings), worker=embedded_worker)
    await service.start()
    request = await probe.send(passport_question())
    await eventually(lambda: service.in_flight == 1)

    await service.stop()

    assert service.in_flight == 0
    assert journal_files(settings) == []
    await eventually(lambda: probe.outcome_of(request) is not None)
    assert probe.completed[0].causationid == request.id


async def test_a_draft_cut_off_by_a_stop_is_answered_after_the_restart(
    settings: InferenceServiceSettings, embedded_worker: InferenceWorker, probe: Probe
) -> None:
    impatient = settings.model_copy(update={"inference_drain_timeout_s": 0.0})
    first = InferenceService(impatient, group=group(settings), worker=embedded_worker)
    await first.start()
    request = await probe.send(passport_question())
    await eventually(lambda: first.in_flight == 1)
    await first.stop()

    # The draft was cut off; only its journal entry is left.
    assert [path.stem for path in journal_files(settings)] == [request.id]
    assert probe.outcomes == []

    async with InferenceService(settings, group=group(settings), worker=embedded_worker):
        await eventually(lambda: probe.outcome_of(request) is not None, within=60)
        await eventually(lambda: journal_files(settings) == [])

    # Answered once: the event itself counted as handled before the stop.
    assert len(probe.outcomes) == 1
    assert probe.completed[0].causationid == request.id
    assert probe.completed[0].correlationid == "corr-1"


async def test_a_request_that_keeps_being_cut_off_ends_as_unavailable(
    settings: InferenceServiceSettings, embedded_worker: InferenceWorker, probe: Probe
) -> None:
    impatient = settings.model_copy(
        update={"inference_drain_timeout_s": 0.0, "inference_max_attempts": 1}
    )
    first = InferenceService(impatient, group=group(settings), worker=embedded_worker)
    await first.start()
    request = await probe.send(passport_question())
    await eventually(lambda: first.in_flight == 1)
    await first.stop()

    async with InferenceService(impatient, group=group(settings), worker=embedded_worker):
        await eventually(lambda: probe.outcome_of(request) is not None)

    failure = probe.failed[0]
    assert failure.causationid == request.id
    assert failure.data.error_kind == "interrupted"
    assert journal_files(settings) == []
