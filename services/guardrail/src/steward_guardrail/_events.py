"""Turn the guardrail's verdicts into the event contract's parts, never copying citizen text."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from steward_events import Finding as EventFinding
from steward_events import FindingKind, PolicyRef

if TYPE_CHECKING:
    from steward_guardrail.policy import Policy
    from steward_guardrail.verdicts import Finding

_log = structlog.get_logger("steward.guardrail")

# The events allow this many findings; the most serious come first in a verdict anyway.
MAX_FINDINGS = 200
MAX_SHORT_TEXT = 1_000
MAX_TEXT = 20_000

# What decided a verdict, in the domain's words, as the contract's finding kinds.
CAUSE_KINDS: dict[str, FindingKind] = {
    "check_error": FindingKind.CHECK_FAILED,
    "injection": FindingKind.INJECTION,
    "blocked_term": FindingKind.BLOCKED_CONTENT,
    "human_request": FindingKind.HUMAN_REQUESTED,
    "off_scope": FindingKind.OFF_SCOPE,
    "no_answer": FindingKind.NO_ANSWER,
    "pii_leak": FindingKind.PII,
    "invalid_citation": FindingKind.BAD_CITATION,
    "unknown_url": FindingKind.INVENTED_LINK,
    "low_groundedness": FindingKind.UNGROUNDED,
}

# Finding kinds whose detail is safe to publish: a check's or topic's name, a sentence number.
_SAFE_DETAIL = {"check_error", "injection", "off_scope", "pii_leak", "unsupported_sentence"}

_FINDING_KINDS: dict[str, FindingKind] = {
    **CAUSE_KINDS,
    "unsupported_sentence": FindingKind.UNGROUNDED,
}


def policy_ref(policy: Policy) -> PolicyRef:
    """Name the policy file that produced a verdict: tenant, version and hash of its bytes."""
    return PolicyRef(policy_id=policy.tenant, version=policy.version, sha256=policy.sha256)


def reason_kind(causes: list[str]) -> FindingKind | None:
    """Return the contract's kind of the most serious cause of a verdict, if any."""
    for cause in causes:
        if cause in CAUSE_KINDS:
            return CAUSE_KINDS[cause]
    return None


def event_findings(findings: list[Finding]) -> list[EventFinding]:
    """Map verdict findings to event findings: kind, label, score and span, no matched text."""
    mapped = []
    for finding in findings[:MAX_FINDINGS]:
        kind, label = _kind_and_label(finding)
        detail = finding.detail if finding.kind in _SAFE_DETAIL and finding.detail else None
        mapped.append(
            EventFinding(
                kind=kind,
                label=label,
                score=finding.score,
                start=finding.span[0] if finding.span else None,
                end=finding.span[1] if finding.span else None,
                detail=detail[:MAX_SHORT_TEXT] if detail else None,
            )
        )
    return mapped


def _kind_and_label(finding: Finding) -> tuple[FindingKind, str]:
    """Return the contract's kind and the finer label of one verdict finding."""
    # Personal data: "pii.ssn" is kind pii, label ssn; a leak in a draft says so.
    if finding.kind.startswith("pii."):
        return FindingKind.PII, finding.kind.removeprefix("pii.")
    if finding.kind == "pii_leak":
        return FindingKind.PII, f"leak.{finding.detail.lower() or 'unknown'}"
    if finding.kind == "check_error":
        # The detail names the check that failed, e.g. "pii" or "timeout".
        return FindingKind.CHECK_FAILED, (finding.detail or "check_error")[:200]
    if finding.kind == "injection":
        # The detail lists the attack categories the patterns matched, or "semantic".
        return FindingKind.INJECTION, (finding.detail.split(",")[0] or "semantic")[:200]
    if finding.kind in _FINDING_KINDS:
        return _FINDING_KINDS[finding.kind], finding.kind
    _log.warning("guardrail.unknown_finding_kind", kind=finding.kind)
    return FindingKind.CHECK_FAILED, finding.kind[:200] or "unknown"


def language_of(tag: str | None, default: str) -> str:
    """Return the base language of a BCP 47 tag ('es-US' -> 'es'), or the default."""
    if not tag:
        return default
    return tag.split("-")[0].lower()


def bounded(text: str, limit: int) -> str:
    """Cut a text to an event field's limit."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
