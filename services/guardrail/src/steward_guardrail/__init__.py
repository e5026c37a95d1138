"""Steward guardrail: PII redaction, injection defence, scope and answer checks."""

from steward_guardrail.errors import (
    GuardrailError,
    PiiKeyError,
    PolicyError,
    SealError,
    UnknownPolicyVersion,
)
from steward_guardrail.pii import PiiDetector, PiiKind, PiiSpan
from steward_guardrail.policy import (
    Policy,
    PolicyArchive,
    load_policies,
    load_policy,
    load_policy_archive,
)
from steward_guardrail.redaction import OriginalsCipher, Redactor, parse_key
from steward_guardrail.screening import Guardrail, check_answer, screen_prompt
from steward_guardrail.settings import GuardrailSettings
from steward_guardrail.verdicts import Finding, InputVerdict, OutputVerdict, SealedValue

__all__ = [
    "Finding",
    "Guardrail",
    "GuardrailError",
    "GuardrailSettings",
    "InputVerdict",
    "OriginalsCipher",
    "OutputVerdict",
    "PiiDetector",
    "PiiKeyError",
    "PiiKind",
    "PiiSpan",
    "Policy",
    "PolicyArchive",
    "PolicyError",
    "Redactor",
    "SealError",
    "SealedValue",
    "UnknownPolicyVersion",
    "check_answer",
    "load_policies",
    "load_policy",
    "load_policy_archive",
    "parse_key",
    "screen_prompt",
]
