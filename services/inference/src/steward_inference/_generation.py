"""The interface every generation backend implements, and the values it exchanges."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from steward_inference._prompts import ChatMessage, SamplingParams


@dataclass(frozen=True)
class TokenUsage:
    """Tokens the backend counted for one completion."""

    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        """Return prompt and completion tokens together."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class GenerationRequest:
    """One chat completion to run: messages, sampling, and optionally an adapter or schema."""

    messages: tuple[ChatMessage, ...]
    sampling: SamplingParams
    adapter: str | None = None
    json_schema: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Generation:
    """What a backend produced, with the identity of the model that produced it."""

    text: str
    finish_reason: str
    usage: TokenUsage
    model: str
    revision: str | None
    adapter: str | None
    backend: str
    latency_ms: float
    first_token_ms: float | None = None


@runtime_checkable
class Generator(Protocol):
    """A backend that turns chat messages into a completion."""

    @property
    def model(self) -> str:
        """Return the base model name this backend serves."""
        ...

    async def generate(self, request: GenerationRequest) -> Generation:
        """Run one completion, raising GenerationFailedError when it cannot."""
        ...

    async def aclose(self) -> None:
        """Release connections, threads or the in-process model."""
        ...
