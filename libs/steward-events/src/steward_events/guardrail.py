"""Verdicts of the input and output guardrail stages."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from steward_events.common import Finding, Passage, PolicyRef
from steward_events.envelope import EventData, event_type
from steward_events.types import (
    Channel,
    Classification,
    Identifier,
    LanguageTag,
    Name,
    Probability,
    Pseudonym,
    ShortText,
    Text,
)


class InputVerdict(StrEnum):
    """What the input stage decided."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    BLOCK = "block"
    REVIEW = "review"


class OutputVerdict(StrEnum):
    """What the output stage decided."""

    RELEASE = "release"
    DECLINE = "decline"
    REVIEW = "review"


@event_type("guardrail.input_checked", 1)
class GuardrailInputChecked(EventData):
    """The screened, redacted question and the input verdict."""

    conversation_id: Identifier
    verdict: InputVerdict
    redacted_question: Text
    findings: list[Finding] = Field(default_factory=list, max_length=200)
    policy: PolicyRef
    language: LanguageTag | None = None
    clearance: Classification | None = None
    channel: Channel = Channel.API
    human_requested: bool = False
    subject: Pseudonym | None = None
    training_consent: bool = False
    topic: Name | None = Field(default=None, description="The in-scope topic matched.")
    original_ref: Name | None = Field(
        default=None,
        description="Reference to the encrypted original, where policy keeps it.",
    )
    reason: ShortText | None = None


@event_type("guardrail.output_checked", 1)
class GuardrailOutputChecked(EventData):
    """The output verdict on a draft answer, with the groundedness score."""

    conversation_id: Identifier
    verdict: OutputVerdict
    findings: list[Finding] = Field(default_factory=list, max_length=200)
    groundedness: Probability | None = None
    policy: PolicyRef
    inference_event_id: Identifier
    released_answer: Text | None = None
    passages: list[Passage] = Field(default_factory=list, max_length=50)
    reason: ShortText | None = None
