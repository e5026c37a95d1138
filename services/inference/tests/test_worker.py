"""draft_answer end to end: provenance, failures, routing, canaries and the kill switch."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

import pytest

from inference_testkit import (
    FlakyTransport,
    SilentServer,
    client_over,
    corpus_passage,
    free_port,
    until,
)
from steward_inference import (
    DraftRequest,
    EmbeddedLlama,
    Generation,
    GenerationFailedError,
    GenerationRequest,
    Generator,
    HttpBackendConfig,
    InferenceWorker,
    ModelChoice,
    OpenAICompatibleGenerator,
    Promotion,
    PromptRegistry,
    RouteTable,
    RouteUnavailableError,
    ServerKind,
    TokenUsage,
)

MODEL = "smollm2-135m-instruct"


def passport_request(correlation_id: str = "corr-1", **overrides: object) -> DraftRequest:
    fields: dict[str, object] = {
        "correlation_id": correlation_id,
        "tenant": "city",
        "question": "Who can get a U.S. passport?",
        "passages": (
            corpus_passage("034-usagov-getting-or-renewing-a-passport.md", "citizen by birth"),
            corpus_passage("034-usagov-getting-or-renewing-a-passport.md", "air."),
        ),
        "route": "citizen-chat",
        "max_tokens": 48,
    }
    fields.update(overrides)
    return DraftRequest(**fields)  # type: ignore[arg-type]


def worker_over(generator: Generator, *, max_in_flight: int = 4) -> InferenceWorker:
    return InferenceWorker(
        registry=PromptRegistry.packaged(),
        routes=RouteTable(ModelChoice(model=generator.model)),
        generators={generator.model: generator},
        max_in_flight=max_in_flight,
    )


def hung_generator(server: SilentServer) -> OpenAICompatibleGenerator:
    return OpenAICompatibleGenerator(
        HttpBackendConfig(
            base_url=f"http://127.0.0.1:{server.port}/v1",
            model=MODEL,
            server_kind=ServerKind.LLAMA_CPP,
            timeout_s=120.0,
            max_attempts=1,
        )
    )


@pytest.fixture
async def embedded_worker(llama: EmbeddedLlama) -> AsyncIterator[InferenceWorker]:
    worker = worker_over(llama.generator())
    yield worker
    await worker.aclose()


@pytest.mark.slow
async def test_draft_records_full_provenance(embedded_worker: InferenceWorker) -> None:
    request = passport_request(seed=21)

    draft = await embedded_worker.draft_answer(request)

    template = PromptRegistry.packaged().get("grounded-answer")
    assert draft.text
    assert draft.correlation_id == "corr-1"
    assert draft.language == "en"
    assert draft.prompt.id == "grounded-answer"
    assert draft.prompt.version == template.version
    assert draft.prompt.sha256 == template.sha256
    assert draft.model.name == MODEL
    assert draft.model.revision is not None
    assert draft.model.revision.startswith("sha256:")
    assert draft.model.backend == "llama.cpp-embedded"
    assert draft.model.canary is False
    assert draft.sampling.seed == 21
    assert draft.sampling.max_tokens == 48
    assert draft.sampling.temperature == template.sampling.temperature
    assert draft.usage.prompt_tokens > 50
    assert draft.usage.completion_tokens > 0
    assert draft.latency_ms > 0
    assert draft.finish_reason in {"stop", "length"}
    assert draft.passage_chunk_ids == tuple(p.chunk_id for p in request.passages)
    for citation in draft.citations:
        assert citation.chunk_id == request.passages[citation.number - 1].chunk_id


@pytest.mark.slow
async def test_draft_is_reproducible_from_its_record(embedded_worker: InferenceWorker) -> None:
    first = await embedded_worker.draft_answer(passport_request())
    second = await embedded_worker.draft_answer(passport_request())

    assert first.text == second.text
    assert first.usage == second.usage


@pytest.mark.slow
async def test_spanish_question_gets_a_spanish_prompt(embedded_worker: InferenceWorker) -> None:
    request = DraftRequest(
        correlation_id="corr-es",
        tenant="city",
        question="¿Quién puede obtener un pasaporte?",
        passages=(
            corpus_passage("046-usagov-es-como-obtener-o-renovar-el-pasaporte.md", "libreta"),
        ),
        max_tokens=32,
    )

    draft = await embedded_worker.draft_answer(request)

    assert draft.language == "es"
    assert draft.text


@pytest.mark.slow
async def test_changed_template_changes_the_recorded_hash(
    llama: EmbeddedLlama, tmp_path: Path
) -> None:
    original = (
        resources.files("steward_inference")
        .joinpath("prompts", "grounded-answer.v1.toml")
        .read_bytes()
    )
    edited = original.replace(b"version = 1", b"version = 2").replace(
        b"in one or two sentences", b"in one sentence"
    )
    (tmp_path / "v1.toml").write_bytes(original)
    (tmp_path / "v2.toml").write_bytes(edited)
    worker = InferenceWorker(
        registry=PromptRegistry.from_directory(tmp_path),
        routes=RouteTable(ModelChoice(model=MODEL)),
        generators={MODEL: llama.generator()},
    )

    old = await worker.draft_answer(passport_request(prompt_version=1, max_tokens=8))
    new = await worker.draft_answer(passport_request(max_tokens=8))

    assert old.prompt.version == 1
    assert new.prompt.version == 2
    assert old.prompt.sha256 == hashlib.sha256(original).hexdigest()
    assert new.prompt.sha256 == hashlib.sha256(edited).hexdigest()
    await worker.aclose()


async def test_no_passages_abstains_without_calling_the_model(silent_server: SilentServer) -> None:
    # The backend would hang forever, so finishing at all shows it was not called.
    worker = worker_over(hung_generator(silent_server))

    draft = await worker.draft_answer(passport_request(passages=()))

    assert draft.abstained
    assert draft.text == "The documents provided do not contain the answer."
    assert draft.finish_reason == "no_passages"
    assert draft.usage.total_tokens == 0
    await worker.aclose()


async def test_spanish_is_answered_by_quoting_without_calling_the_model(
    silent_server: SilentServer,
) -> None:
    # The backend would hang forever, so finishing at all shows it was not called.
    worker = worker_over(hung_generator(silent_server))
    request = DraftRequest(
        correlation_id="corr-quote",
        tenant="city",
        question="¿Cómo puedo consultar el estado de mi reembolso de impuestos?",
        passages=(
            corpus_passage("010-usagov-es-estado-de-su-reembolso.md", "millones de dólares"),
            corpus_passage("010-usagov-es-estado-de-su-reembolso.md", "esperaba un reembolso"),
        ),
    )

    draft = await worker.draft_answer(request)

    assert draft.language == "es"
    assert draft.finish_reason == "quoted"
    assert draft.model.backend == "passage-quote"
    assert not draft.abstained
    assert "¿Dónde está mi reembolso?" in draft.text
    assert draft.text.endswith("[2]")
    assert [citation.number for citation in draft.citations] == [2]
    assert draft.citations[0].document_id == "010-usagov-es-estado-de-su-reembolso.md"
    assert draft.prompt.version == 3
    await worker.aclose()


async def test_spanish_passages_that_do_not_cover_the_question_give_a_spanish_no_answer(
    silent_server: SilentServer,
) -> None:
    worker = worker_over(hung_generator(silent_server))
    request = DraftRequest(
        correlation_id="corr-no-quote",
        tenant="city",
        question="¿Cuánto cuesta una licencia de pesca en Alaska?",
        passages=(corpus_passage("010-usagov-es-estado-de-su-reembolso.md", "esperaba"),),
    )

    draft = await worker.draft_answer(request)

    assert draft.abstained
    assert draft.text == "Los documentos proporcionados no contienen la respuesta."
    assert draft.finish_reason == "no_quote"
    assert draft.citations == ()
    await worker.aclose()


@pytest.mark.slow
async def test_worker_retries_a_backend_that_fails_twice(llama: EmbeddedLlama) -> None:
    transport = FlakyTransport(failures=2)
    generator = OpenAICompatibleGenerator(
        HttpBackendConfig(
            base_url=llama.base_url,
            model=MODEL,
            server_kind=ServerKind.LLAMA_CPP,
            backoff_initial_s=0.01,
        ),
        client=client_over(transport, llama.base_url),
    )
    worker = worker_over(generator)

    draft = await worker.draft_answer(passport_request(max_tokens=16))

    assert draft.text
    assert draft.model.backend == "llama.cpp"
    assert transport.requests == 3
    await worker.aclose()


async def test_dead_backend_fails_with_reason_and_frees_its_slot() -> None:
    generator = OpenAICompatibleGenerator(
        HttpBackendConfig(
            base_url=f"http://127.0.0.1:{free_port()}/v1",
            model=MODEL,
            max_attempts=2,
            backoff_initial_s=0.01,
        )
    )
    worker = worker_over(generator)

    with pytest.raises(GenerationFailedError) as failed:
        await worker.draft_answer(passport_request())

    assert failed.value.reason == "connection_failed"
    assert failed.value.attempts == 2
    assert worker.limiter.in_flight == 0
    await worker.aclose()


async def test_model_without_a_backend_fails_with_reason(silent_server: SilentServer) -> None:
    worker = worker_over(hung_generator(silent_server))
    worker.apply_promotion(Promotion(tenant="city", choice=ModelChoice(model="other-model")))

    with pytest.raises(GenerationFailedError) as failed:
        await worker.draft_answer(passport_request())

    assert failed.value.reason == "model_not_served"
    await worker.aclose()


async def test_disabled_tenant_fails_at_once_and_resumes(silent_server: SilentServer) -> None:
    worker = worker_over(hung_generator(silent_server), max_in_flight=1)
    worker.disable("tenant", "city")

    with pytest.raises(RouteUnavailableError) as stopped:
        await worker.draft_answer(passport_request())

    assert stopped.value.scope == "tenant"
    assert worker.limiter.in_flight == 0
    worker.enable("tenant", "city")
    draft = await worker.draft_answer(passport_request(passages=()))
    assert draft.abstained
    await worker.aclose()


async def test_kill_switch_stops_generating_and_waiting_requests(
    silent_server: SilentServer,
) -> None:
    # The backend never answers, so only the kill switch can end these requests.
    worker = worker_over(hung_generator(silent_server), max_in_flight=1)
    generating = asyncio.create_task(worker.draft_answer(passport_request("c-1")))
    waiting = asyncio.create_task(worker.draft_answer(passport_request("c-2")))
    other_route = asyncio.create_task(
        worker.draft_answer(passport_request("c-3", route="permit-review"))
    )
    await until(lambda: worker.limiter.waiting >= 2)

    stopped = worker.disable("route", "citizen-chat")

    assert stopped == 2
    for task in (generating, waiting):
        with pytest.raises(RouteUnavailableError) as error:
            await task
        assert error.value.scope == "route"
        assert error.value.value == "citizen-chat"

    # The other route's request took the freed slot and is still generating.
    await until(lambda: worker.limiter.in_flight >= 1)
    assert not other_route.done()
    other_route.cancel()
    with pytest.raises(asyncio.CancelledError):
        await other_route
    assert worker.limiter.in_flight == 0
    await worker.aclose()


async def test_cancelling_the_caller_is_not_reported_as_a_kill(
    silent_server: SilentServer,
) -> None:
    worker = worker_over(hung_generator(silent_server))
    task = asyncio.create_task(worker.draft_answer(passport_request()))
    await until(lambda: worker.limiter.in_flight >= 1)

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert worker.limiter.in_flight == 0
    await worker.aclose()


class NamedGenerator:
    """A stand-in backend that reports which model name served each request."""

    def __init__(self, model: str) -> None:
        self._model = model
        self.adapters: list[str | None] = []

    @property
    def model(self) -> str:
        return self._model

    async def generate(self, request: GenerationRequest) -> Generation:
        self.adapters.append(request.adapter)
        return Generation(
            text=f"Served by {self._model} [1].",
            finish_reason="stop",
            usage=TokenUsage(prompt_tokens=5, completion_tokens=4),
            model=self._model,
            revision="rev-a",
            adapter=request.adapter,
            backend="stand-in",
            latency_ms=1.0,
        )

    async def aclose(self) -> None:
        return None


async def test_canary_promotion_routes_a_deterministic_share() -> None:
    stable, candidate = NamedGenerator("base-model"), NamedGenerator("candidate-model")
    assert isinstance(stable, Generator)
    worker = InferenceWorker(
        registry=PromptRegistry.packaged(),
        routes=RouteTable(ModelChoice(model="base-model")),
        generators={"base-model": stable, "candidate-model": candidate},
    )
    worker.apply_promotion(
        Promotion(
            tenant="city",
            choice=ModelChoice(model="candidate-model", adapter="lora-7"),
            canary_share=0.25,
        )
    )

    drafts = [await worker.draft_answer(passport_request(f"c-{n}")) for n in range(400)]

    canaries = [d for d in drafts if d.model.canary]
    assert 0.18 < len(canaries) / len(drafts) < 0.32
    assert all(d.model.name == "candidate-model" for d in canaries)
    assert all(d.model.adapter == "lora-7" for d in canaries)
    assert set(candidate.adapters) == {"lora-7"}
    assert all(d.model.name == "base-model" for d in drafts if not d.model.canary)
    assert drafts[0].citations[0].number == 1
    again = [await worker.draft_answer(passport_request(f"c-{n}")) for n in range(40)]
    assert [d.model.canary for d in again] == [d.model.canary for d in drafts[:40]]
