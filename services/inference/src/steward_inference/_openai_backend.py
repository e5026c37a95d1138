"""Generation over an OpenAI-compatible HTTP API: vLLM in production, any compatible server."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import openai
import structlog
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from steward_inference._circuit import CircuitBreaker
from steward_inference._errors import (
    CircuitOpenError,
    GenerationFailedError,
    UnsupportedFeatureError,
)
from steward_inference._generation import Generation, GenerationRequest, TokenUsage

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

log = structlog.get_logger(__name__)


class ServerKind(StrEnum):
    """Which server answers, because request extensions differ between them."""

    VLLM = "vllm"
    LLAMA_CPP = "llama.cpp"
    GENERIC = "openai-compatible"


@dataclass(frozen=True)
class HttpBackendConfig:
    """Where the server is and how patiently to call it."""

    base_url: str
    model: str
    server_kind: ServerKind = ServerKind.GENERIC
    revision: str | None = None
    api_key: str = "not-needed"
    timeout_s: float = 60.0
    connect_timeout_s: float = 3.0
    max_attempts: int = 3
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 2.0
    stream: bool = False
    breaker_failures: int = 5
    breaker_cooldown_s: float = 10.0


def is_transient(error: BaseException) -> bool:
    """Return whether a retry could succeed: timeouts, lost connections, 429 and 5xx."""
    if isinstance(error, openai.APITimeoutError | openai.APIConnectionError):
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code == 429 or error.status_code >= 500
    return isinstance(error, _EmptyResponseError)


def failure_reason(error: BaseException) -> str:
    """Name a failure in the words inference.failed carries."""
    if isinstance(error, openai.APITimeoutError):
        return "timeout"
    if isinstance(error, openai.APIConnectionError):
        return "connection_failed"
    if isinstance(error, openai.APIStatusError):
        if error.status_code == 429:
            return "rate_limited"
        return "server_error" if error.status_code >= 500 else "request_rejected"
    if isinstance(error, _EmptyResponseError):
        return "empty_response"
    return "backend_error"


class _EmptyResponseError(Exception):
    """The server answered without a choice, which a retry may fix."""


class OpenAICompatibleGenerator:
    """Calls /v1/chat/completions with timeouts, bounded retries and a circuit breaker."""

    def __init__(
        self,
        config: HttpBackendConfig,
        *,
        client: openai.AsyncOpenAI | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        if config.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {config.max_attempts}")
        self.config = config

        # Retries belong to tenacity here, so the client's own retry loop is switched off.
        self._client = client or openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key,
            timeout=openai.Timeout(config.timeout_s, connect=config.connect_timeout_s),
            max_retries=0,
        )
        self.breaker = breaker or CircuitBreaker(
            name=config.model,
            failure_threshold=config.breaker_failures,
            cooldown_s=config.breaker_cooldown_s,
        )

    @property
    def model(self) -> str:
        """Return the base model name this backend serves."""
        return self.config.model

    @property
    def revision(self) -> str | None:
        """Return the configured revision of the served model, if one was named."""
        return self.config.revision

    @property
    def backend(self) -> str:
        """Return the kind of server this backend calls, as drafts record it."""
        return self.config.server_kind.value

    async def generate(self, request: GenerationRequest) -> Generation:
        """Run one completion with bounded retries on transient errors."""
        body = self._request_body(request)
        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.max_attempts),
            # Jitter as large as the first delay keeps retrying workers from moving in step.
            wait=wait_exponential_jitter(
                multiplier=self.config.backoff_initial_s,
                max=self.config.backoff_max_s,
                jitter=self.config.backoff_initial_s,
            ),
            retry=retry_if_exception(is_transient),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    return await self._attempt(body, request)
        except CircuitOpenError:
            raise
        except Exception as error:
            reason = failure_reason(error)
            log.warning("generation_failed", model=body["model"], reason=reason, attempts=attempts)
            raise GenerationFailedError(
                f"Backend {self.config.base_url} failed for model {body['model']!r} after "
                f"{attempts} attempt(s): {reason} ({error})",
                reason=reason,
                model=str(body["model"]),
                attempts=attempts,
            ) from error
        raise AssertionError("tenacity ended without a result or an error")  # pragma: no cover

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()

    async def _attempt(self, body: dict[str, Any], request: GenerationRequest) -> Generation:
        """Make one call through the circuit breaker."""
        self.breaker.before_call()
        started = time.perf_counter()
        try:
            if self.config.stream:
                generation = await self._streamed(body, request, started)
            else:
                generation = await self._whole(body, request, started)
        except Exception as error:
            # A rejected request proves the server is up, so only transient errors count.
            if is_transient(error):
                self.breaker.record_failure()
            else:
                self.breaker.record_success()
            raise
        self.breaker.record_success()
        return generation

    async def _whole(
        self, body: dict[str, Any], request: GenerationRequest, started: float
    ) -> Generation:
        """Make a non-streaming call."""
        completion: ChatCompletion = await self._client.chat.completions.create(**body)
        if not completion.choices:
            raise _EmptyResponseError(f"Server returned no choices for model {body['model']!r}")

        choice = completion.choices[0]
        usage = completion.usage
        return self._generation(
            text=choice.message.content or "",
            finish_reason=choice.finish_reason or "unknown",
            usage=TokenUsage(
                prompt_tokens=usage.prompt_tokens if usage else 0,
                completion_tokens=usage.completion_tokens if usage else 0,
            ),
            request=request,
            started=started,
            first_token_ms=None,
        )

    async def _streamed(
        self, body: dict[str, Any], request: GenerationRequest, started: float
    ) -> Generation:
        """Make a streaming call and gather its deltas and the final usage chunk."""
        parts: list[str] = []
        finish_reason = "unknown"
        usage = TokenUsage(prompt_tokens=0, completion_tokens=0)
        first_token_ms: float | None = None

        stream = await self._client.chat.completions.create(
            **body, stream=True, stream_options={"include_usage": True}
        )
        chunk: ChatCompletionChunk
        async for chunk in stream:
            if chunk.usage is not None:
                usage = TokenUsage(
                    prompt_tokens=chunk.usage.prompt_tokens,
                    completion_tokens=chunk.usage.completion_tokens,
                )
            for choice in chunk.choices:
                if choice.delta.content:
                    if first_token_ms is None:
                        first_token_ms = (time.perf_counter() - started) * 1000
                    parts.append(choice.delta.content)
                if choice.finish_reason:
                    finish_reason = choice.finish_reason

        if finish_reason == "unknown" and not parts:
            raise _EmptyResponseError(f"Stream for model {body['model']!r} ended empty")
        return self._generation(
            text="".join(parts),
            finish_reason=finish_reason,
            usage=usage,
            request=request,
            started=started,
            first_token_ms=first_token_ms,
        )

    def _request_body(self, request: GenerationRequest) -> dict[str, Any]:
        """Build the keyword arguments for chat.completions.create."""
        kind = self.config.server_kind

        # vLLM and generic servers name a LoRA adapter as the model; llama.cpp cannot.
        if request.adapter is not None and kind is ServerKind.LLAMA_CPP:
            raise UnsupportedFeatureError(
                f"Adapter {request.adapter!r} was asked of a llama.cpp server, which selects "
                "adapters at start, not by model name"
            )
        model = request.adapter or self.config.model

        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": request.sampling.temperature,
            "top_p": request.sampling.top_p,
            "max_tokens": request.sampling.max_tokens,
            "seed": request.sampling.seed,
        }
        if request.json_schema is not None:
            if kind is ServerKind.VLLM:
                # vLLM ignores the older guided_json fields, so the schema goes here.
                body["extra_body"] = {"structured_outputs": {"json": dict(request.json_schema)}}
            else:
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "answer", "schema": dict(request.json_schema)},
                }
        return body

    def _generation(
        self,
        *,
        text: str,
        finish_reason: str,
        usage: TokenUsage,
        request: GenerationRequest,
        started: float,
        first_token_ms: float | None,
    ) -> Generation:
        """Wrap a finished completion with the identity of what produced it."""
        return Generation(
            text=text,
            finish_reason=finish_reason,
            usage=usage,
            model=self.config.model,
            revision=self.config.revision,
            adapter=request.adapter,
            backend=self.config.server_kind.value,
            latency_ms=(time.perf_counter() - started) * 1000,
            first_token_ms=first_token_ms,
        )
