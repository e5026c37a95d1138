"""Passages retrieved for a screened question."""

from __future__ import annotations

from pydantic import Field

from steward_events.common import Passage, PolicyRef
from steward_events.envelope import EventData, event_type
from steward_events.types import (
    Channel,
    Classification,
    Identifier,
    LanguageTag,
    Name,
    NonNegativeFloat,
    Pseudonym,
    Text,
)


@event_type("retrieval.completed", 1)
class RetrievalCompleted(EventData):
    """Ranked passages for one question, filtered by tenant and clearance."""

    conversation_id: Identifier
    question: Text = Field(description="The redacted question.")
    language: LanguageTag | None = None
    clearance: Classification | None = None
    channel: Channel = Channel.API
    subject: Pseudonym | None = None
    training_consent: bool = False
    passages: list[Passage] = Field(default_factory=list, max_length=50)
    method: Name = Field(description="e.g. 'hybrid-rrf'.")
    embedding_model: Name
    policy: PolicyRef | None = None
    latency_ms: NonNegativeFloat = 0.0
