"""Tenant policies: one YAML file per agency, validated, versioned and hashed."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from steward_guardrail.errors import PolicyError, UnknownPolicyVersion

if TYPE_CHECKING:
    from collections.abc import Iterator

Language = Literal["en", "es"]
InputAction = Literal["block", "review"]
OutputAction = Literal["decline", "review"]
Priority = Literal["low", "normal", "high", "urgent"]
_PRIORITY_ORDER: tuple[Priority, ...] = ("low", "normal", "high", "urgent")


class _Strict(BaseModel):
    """A policy section that rejects unknown fields, so a typo is reported, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalizedText(_Strict):
    """A message in English with an optional Spanish version."""

    en: str = Field(min_length=1)
    es: str | None = None

    def text(self, language: str) -> str:
        """Return the message in the given language, falling back to English."""
        if language == "es" and self.es:
            return self.es
        return self.en


class Topic(_Strict):
    """One allowed topic, described by a few example phrases and keywords."""

    name: str = Field(min_length=1)
    phrases: list[str] = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)


class InjectionPolicy(_Strict):
    """How sure the injection detector must be before a prompt is stopped."""

    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    action: InputAction = "block"


class ScopePolicy(_Strict):
    """Which topics the tenant's assistant answers, and how close a question must be."""

    enabled: bool = True
    threshold: float = Field(default=0.42, ge=0.0, le=1.0)
    topics: list[Topic] = Field(min_length=1)


class GroundingPolicy(_Strict):
    """How well an answer must be supported by the retrieved passages."""

    min_score: float = Field(default=0.6, ge=0.0, le=1.0)
    sentence_threshold: float = Field(default=0.5, ge=0.0, le=1.0)


class PiiPolicy(_Strict):
    """Whether redacted originals are kept, encrypted, for authorised review."""

    keep_originals: bool = True


class InputRouting(_Strict):
    """What happens to a prompt for each kind of input finding."""

    human_request: InputAction = "review"
    injection: InputAction = "block"
    blocked_term: InputAction = "block"
    off_scope: InputAction = "block"


class OutputRouting(_Strict):
    """What happens to a draft answer for each kind of output finding."""

    low_groundedness: OutputAction = "review"
    invalid_citation: OutputAction = "review"
    unknown_url: OutputAction = "review"
    pii_leak: OutputAction = "review"
    blocked_term: OutputAction = "decline"


class ReviewPriorities(_Strict):
    """How soon a reviewer should look, by what sent an item to review; the highest wins."""

    human_request: Priority = "normal"
    injection: Priority = "high"
    blocked_term: Priority = "high"
    off_scope: Priority = "low"
    low_groundedness: Priority = "normal"
    invalid_citation: Priority = "normal"
    unknown_url: Priority = "normal"
    pii_leak: Priority = "high"
    check_error: Priority = "high"

    def for_causes(self, causes: list[str]) -> Priority:
        """Return the highest priority among verdict causes ("normal" when none is known)."""
        found: list[Priority] = [getattr(self, cause) for cause in causes if cause in _CAUSES]
        return max(found, key=_PRIORITY_ORDER.index, default="normal")


_CAUSES = frozenset(ReviewPriorities.model_fields)


class Messages(_Strict):
    """Texts the guardrail sends to citizens on the tenant's behalf."""

    notice: LocalizedText
    contact_route: LocalizedText
    off_scope: LocalizedText
    injection: LocalizedText
    human_handoff: LocalizedText
    no_answer: LocalizedText
    declined: LocalizedText
    unavailable: LocalizedText = LocalizedText(
        en="The assistant is temporarily unavailable, so it cannot answer right now.",
        es="El asistente no está disponible en este momento, así que no puede responder ahora.",
    )


class Policy(_Strict):
    """One tenant's guardrail policy; `version` and `sha256` go into every verdict."""

    tenant: str = Field(min_length=1)
    version: str = Field(min_length=1)
    default_language: Language = "en"
    injection: InjectionPolicy = InjectionPolicy()
    scope: ScopePolicy
    grounding: GroundingPolicy = GroundingPolicy()
    pii: PiiPolicy = PiiPolicy()
    input_routing: InputRouting = InputRouting()
    output_routing: OutputRouting = OutputRouting()
    review_priority: ReviewPriorities = ReviewPriorities()
    blocked_terms: list[str] = Field(default_factory=list)
    messages: Messages

    _sha256: str = PrivateAttr(default="")

    @field_validator("blocked_terms")
    @classmethod
    def _terms_not_blank(cls, terms: list[str]) -> list[str]:
        """Reject blank blocked terms, which would match every text."""
        for index, term in enumerate(terms):
            if not term.strip():
                raise ValueError(f"blocked term {index} is blank; expected a word or phrase")
        return terms

    @property
    def sha256(self) -> str:
        """Return the SHA-256 of the policy file's bytes (hex)."""
        return self._sha256

    @classmethod
    def from_yaml(cls, raw: bytes, source: str = "<policy>") -> Policy:
        """Parse and validate a policy from YAML bytes; errors name the file and the field."""
        # Parse the YAML document.
        try:
            document = yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise PolicyError(f"{source}: not valid YAML: {error}") from error
        if not isinstance(document, dict):
            kind = type(document).__name__
            raise PolicyError(f"{source}: expected a mapping at the top level, got {kind}")

        # Validate every field and report each bad one by its dotted path.
        try:
            policy = cls.model_validate(document)
        except ValidationError as error:
            problems = "; ".join(
                f"field '{'.'.join(str(part) for part in item['loc'])}': {item['msg']}"
                for item in error.errors()
            )
            raise PolicyError(f"{source}: {problems}") from error

        # Bind the hash of the exact bytes so a verdict names the file that produced it.
        policy._sha256 = hashlib.sha256(raw).hexdigest()
        return policy


def load_policy(path: Path) -> Policy:
    """Load one tenant policy file, raising `PolicyError` that names the bad field."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise PolicyError(f"{path}: cannot read policy file: {error.strerror}") from error
    return Policy.from_yaml(raw, source=str(path))


def load_policies(directory: Path) -> dict[str, Policy]:
    """Load every `*.yaml` policy in a directory, keyed by tenant; duplicates are an error."""
    policies: dict[str, Policy] = {}
    for path in sorted(directory.glob("*.yaml")):
        policy = load_policy(path)
        if policy.tenant in policies:
            raise PolicyError(f"{path}: tenant '{policy.tenant}' is already defined")
        policies[policy.tenant] = policy
    if not policies:
        raise PolicyError(f"{directory}: no *.yaml policy files found; expected at least one")
    return policies


ARCHIVE_FOLDER = "archive"


class PolicyArchive:
    """Every policy version a tenant has had that is still on file, for replays to choose from."""

    def __init__(self, policies: list[Policy]) -> None:
        self._versions: dict[tuple[str, str], Policy] = {}
        for policy in policies:
            key = (policy.tenant, policy.version)
            known = self._versions.get(key)
            # A version names one text: two different files under one version is an error.
            if known is not None and known.sha256 != policy.sha256:
                raise PolicyError(
                    f"tenant '{policy.tenant}' has two different policy files for version "
                    f"'{policy.version}' (sha256 {known.sha256[:12]} and {policy.sha256[:12]})"
                )
            self._versions[key] = policy

    def get(self, tenant: str, version: str) -> Policy:
        """Return one tenant's policy at a version, or raise `UnknownPolicyVersion`."""
        policy = self._versions.get((tenant, version))
        if policy is None:
            raise UnknownPolicyVersion(
                f"no guardrail policy version '{version}' for tenant '{tenant}'; "
                f"known versions: {self.versions(tenant)}"
            )
        return policy

    def versions(self, tenant: str) -> list[str]:
        """The versions on file for a tenant, sorted."""
        return sorted(version for owner, version in self._versions if owner == tenant)

    def __iter__(self) -> Iterator[Policy]:
        return iter(self._versions.values())


def load_policy_archive(directory: Path, live: dict[str, Policy]) -> PolicyArchive:
    """The live policies and every earlier version kept under `<directory>/archive/*.yaml`."""
    folder = directory / ARCHIVE_FOLDER
    archived = [load_policy(path) for path in sorted(folder.glob("*.yaml"))]
    return PolicyArchive([*live.values(), *archived])
