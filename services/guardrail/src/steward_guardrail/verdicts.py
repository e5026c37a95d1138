"""Verdicts the guardrail returns; plain data the wiring turns into events."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    """An immutable verdict part."""

    model_config = ConfigDict(frozen=True)


class Finding(_Frozen):
    """One thing a check noticed; never carries raw personal data."""

    kind: str
    score: float = Field(ge=0.0, le=1.0)
    span: tuple[int, int] | None = None
    detail: str = ""


class SealedValue(_Frozen):
    """A placeholder and its original, encrypted with AES-GCM under the settings key."""

    placeholder: str
    kind: str
    token: str


class InputVerdict(_Frozen):
    """What the input stage decided about a citizen's prompt."""

    verdict: Literal["pass", "block", "review"]
    reason: str
    # The text to send the citizen when the prompt does not pass.
    reply: str | None = None
    # What decided a verdict other than pass, e.g. "injection" or "check_error".
    causes: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    redacted_text: str
    sealed_originals: list[SealedValue] = Field(default_factory=list)
    language: str = "en"
    injection_score: float = 0.0
    scope_topic: str | None = None
    policy_version: str
    policy_sha256: str


class OutputVerdict(_Frozen):
    """What the output stage decided about a draft answer."""

    verdict: Literal["release", "decline", "review"]
    reason: str
    # What sent the draft to decline or review, most serious first, e.g. "no_answer".
    causes: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    groundedness: float = Field(ge=0.0, le=1.0)
    # The text for the citizen, AI notice attached; for review, the draft a person checks.
    final_text: str
    language: str = "en"
    policy_version: str
    policy_sha256: str
