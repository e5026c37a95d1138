"""Draft answers from the inference worker, and its failures."""

from __future__ import annotations

from pydantic import Field

from steward_events.common import (
    Citation,
    ModelRef,
    Passage,
    PolicyRef,
    PromptRef,
    Sampling,
    Usage,
)
from steward_events.envelope import EventData, event_type
from steward_events.types import (
    Channel,
    Identifier,
    LanguageTag,
    Name,
    NonNegativeFloat,
    NonNegativeInt,
    Pseudonym,
    ShortText,
    Text,
)


@event_type("inference.completed", 1)
class InferenceCompleted(EventData):
    """A draft answer and exactly what produced it."""

    conversation_id: Identifier
    question: Text = Field(description="The redacted question.")
    language: LanguageTag | None = None
    channel: Channel = Channel.API
    subject: Pseudonym | None = None
    training_consent: bool = False
    text: Text
    citations: list[Citation] = Field(default_factory=list, max_length=50)
    passages: list[Passage] = Field(default_factory=list, max_length=50)
    model: ModelRef
    prompt: PromptRef
    sampling: Sampling
    usage: Usage
    latency_ms: NonNegativeFloat
    finish_reason: Name
    policy: PolicyRef | None = None
    citations_attributed: bool = Field(
        default=False,
        description="True when the worker, not the model, placed the [n] markers.",
    )


@event_type("inference.failed", 1)
class InferenceFailed(EventData):
    """Generation failed after bounded retries, or the route is switched off."""

    conversation_id: Identifier
    reason: ShortText
    error_kind: Name = Field(description="e.g. 'timeout', 'circuit_open', 'route_disabled'.")
    attempts: NonNegativeInt
    model: ModelRef | None = None
    language: LanguageTag | None = None
