"""Parts that several event payloads share: passages, findings, model and prompt references."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from steward_events.types import (
    Classification,
    HttpUrl,
    Identifier,
    LanguageTag,
    Name,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    Probability,
    SectionPath,
    Sha256Hex,
    ShortText,
    Text,
)


class Part(BaseModel):
    """Base of nested payload parts; unknown fields are ignored so old readers keep working."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Passage(Part):
    """A retrieved chunk of an agency document, with what identifies its exact version."""

    chunk_id: Identifier
    document_id: Identifier
    document_version: PositiveInt
    content_hash: Sha256Hex
    text: Text
    score: float
    title: Name | None = None
    source_url: HttpUrl | None = None
    section_path: SectionPath = Field(default_factory=list)
    language: LanguageTag | None = None
    classification: Classification = Classification.PUBLIC


class FindingKind(StrEnum):
    """What a guardrail check found."""

    PII = "pii"
    INJECTION = "injection"
    OFF_SCOPE = "off_scope"
    HUMAN_REQUESTED = "human_requested"
    BLOCKED_CONTENT = "blocked_content"
    UNGROUNDED = "ungrounded"
    BAD_CITATION = "bad_citation"
    INVENTED_LINK = "invented_link"
    NO_ANSWER = "no_answer"
    CHECK_FAILED = "check_failed"


class Finding(Part):
    """One guardrail finding with its score; never carries the matched text in clear."""

    kind: FindingKind
    label: Name = Field(description="The finer category, e.g. 'ssn' or 'role_play'.")
    score: Probability
    start: NonNegativeInt | None = None
    end: NonNegativeInt | None = None
    detail: ShortText | None = None


class PolicyRef(Part):
    """The guardrail policy that produced a verdict."""

    policy_id: Identifier
    version: Name
    sha256: Sha256Hex


class ModelRef(Part):
    """The model that generated a text: name, revision and optional adapter."""

    name: Name
    revision: Name
    adapter: Name | None = None
    adapter_sha256: Sha256Hex | None = None
    backend: Name = Field(description="e.g. 'vllm', 'llama.cpp'.")


class PromptRef(Part):
    """The prompt template that was rendered."""

    template_id: Identifier
    version: Name
    sha256: Sha256Hex


class Sampling(Part):
    """Sampling parameters, enough to repeat a generation."""

    temperature: Annotated[float, Field(ge=0, le=5)]
    top_p: Annotated[float, Field(gt=0, le=1)] = 1.0
    max_tokens: PositiveInt
    seed: int | None = None


class Usage(Part):
    """Token counts of one generation."""

    prompt_tokens: NonNegativeInt
    completion_tokens: NonNegativeInt


class Citation(Part):
    """A passage that an answer cites as [n]."""

    number: PositiveInt
    chunk_id: Identifier
    document_id: Identifier
    document_version: PositiveInt | None = None
    title: Name | None = None
    source_url: HttpUrl | None = None
    section_path: SectionPath = Field(default_factory=list)


class Timing(Part):
    """How long a stage took, in milliseconds."""

    latency_ms: NonNegativeFloat
