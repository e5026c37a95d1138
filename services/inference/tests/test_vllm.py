"""The HTTP backend against a real vLLM server (run by vllm_tier/run.sh)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

import pytest

from inference_testkit import corpus_passage
from steward_inference import (
    ChatMessage,
    DraftRequest,
    GenerationRequest,
    HttpBackendConfig,
    InferenceWorker,
    ModelChoice,
    OpenAICompatibleGenerator,
    PromptRegistry,
    RouteTable,
    SamplingParams,
    ServerKind,
)

BASE_URL = os.environ.get("STEWARD_VLLM_BASE_URL")
MODEL = os.environ.get("STEWARD_VLLM_MODEL", "smollm2-135m-instruct")

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.skipif(BASE_URL is None, reason="STEWARD_VLLM_BASE_URL names no vLLM server"),
]

SAMPLING = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=32, seed=5)
QUESTION = GenerationRequest(
    messages=(ChatMessage(role="user", content="Name one thing a passport is used for."),),
    sampling=SAMPLING,
)


def vllm_generator(*, stream: bool = False) -> OpenAICompatibleGenerator:
    assert BASE_URL is not None
    return OpenAICompatibleGenerator(
        HttpBackendConfig(
            base_url=BASE_URL,
            model=MODEL,
            server_kind=ServerKind.VLLM,
            stream=stream,
            timeout_s=120.0,
        )
    )


@pytest.fixture
async def generator() -> AsyncIterator[OpenAICompatibleGenerator]:
    backend = vllm_generator()
    yield backend
    await backend.aclose()


async def test_vllm_generates_with_usage(generator: OpenAICompatibleGenerator) -> None:
    first = await generator.generate(QUESTION)
    second = await generator.generate(QUESTION)

    assert first.text.strip()
    assert first.text == second.text
    assert first.usage.prompt_tokens > 10
    assert 0 < first.usage.completion_tokens <= SAMPLING.max_tokens
    assert first.finish_reason in {"stop", "length"}
    assert first.backend == "vllm"


async def test_vllm_streams_the_same_text_with_usage(
    generator: OpenAICompatibleGenerator,
) -> None:
    streaming = vllm_generator(stream=True)

    streamed = await streaming.generate(QUESTION)
    whole = await generator.generate(QUESTION)

    assert streamed.text == whole.text
    assert streamed.usage == whole.usage
    assert streamed.first_token_ms is not None
    assert streamed.first_token_ms <= streamed.latency_ms
    await streaming.aclose()


async def test_vllm_structured_outputs_follow_the_schema(
    generator: OpenAICompatibleGenerator,
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "answer": {"type": "string", "maxLength": 40},
            "confident": {"type": "boolean"},
        },
        "required": ["answer", "confident"],
        "additionalProperties": False,
    }
    request = GenerationRequest(
        messages=(ChatMessage(role="user", content="Is a passport needed to fly abroad?"),),
        sampling=SAMPLING.overridden(max_tokens=128),
        json_schema=schema,
    )

    generation = await generator.generate(request)

    parsed = json.loads(generation.text)
    assert set(parsed) == {"answer", "confident"}
    assert isinstance(parsed["confident"], bool)


async def test_vllm_structured_choice_constrains_output(
    generator: OpenAICompatibleGenerator,
) -> None:
    request = GenerationRequest(
        messages=(ChatMessage(role="user", content="Answer yes or no: is water wet?"),),
        sampling=SAMPLING,
        json_schema={"type": "string", "enum": ["yes", "no"]},
    )

    generation = await generator.generate(request)

    assert json.loads(generation.text) in {"yes", "no"}


async def test_vllm_draft_answer_records_provenance(
    generator: OpenAICompatibleGenerator,
) -> None:
    worker = InferenceWorker(
        registry=PromptRegistry.packaged(),
        routes=RouteTable(ModelChoice(model=MODEL, revision="gguf-q4_1-bf16")),
        generators={MODEL: generator},
    )
    passage = corpus_passage("034-usagov-getting-or-renewing-a-passport.md", "citizen by birth")

    draft = await worker.draft_answer(
        DraftRequest(
            correlation_id="vllm-1",
            tenant="city",
            question="Who can get a U.S. passport?",
            passages=(passage,),
            max_tokens=48,
        )
    )

    assert draft.text
    assert draft.model.backend == "vllm"
    assert draft.model.revision == "gguf-q4_1-bf16"
    assert draft.usage.completion_tokens > 0
    assert draft.prompt.sha256 == PromptRegistry.packaged().get("grounded-answer").sha256
